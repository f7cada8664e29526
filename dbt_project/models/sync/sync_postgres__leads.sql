-- What the postgres destination sends: one row per lead, keyed by the matching key, in the
-- warehouse's own column names (standard_payload_columns()).
with

leads as (
    {{ sync_leads('postgres', ref('int_sync__leads'), ref('sync_destinations')) }}
),

final as (
    select
        {{ standard_payload_columns() | join(',\n        ') }}
    from leads
)

select * from final
