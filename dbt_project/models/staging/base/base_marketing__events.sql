{{ config(materialized='table') }}

-- Every raw event row, typed, resolved to a canonical contact (through contact_id first,
-- then email) and classified: the quarantine reason if it cannot be used, and whether it
-- repeats an event_id already seen. A table, because staging and quarantine both read it
-- and events are the big table.
with

source as (
    select * from {{ crm_raw_relation('marketing_events') }}
),

event_types as (
    select
        event_type,
        funnel_stage
    from {{ ref('event_types') }}
),

identity as (
    select
        source_contact_id,
        canonical_contact_id
    from {{ ref('stg_crm__contact_identity') }}
),

email_identity as (
    select
        email,
        min(canonical_contact_id) as canonical_contact_id
    from {{ ref('stg_crm__contact_identity') }}
    where email is not null
    group by email
),

typed as (
    select
        -- lineage
        {{ raw_lineage_columns() }},

        -- ids
        {{ clean_text('event_id') }} as event_id,
        {{ clean_text('contact_id') }} as source_contact_id,
        {{ clean_text('campaign_id') }} as campaign_id,

        -- strings
        {{ normalize_email('email') }} as email,
        lower({{ clean_text('event_type') }}) as event_type,
        {{ clean_text('page_url') }} as page_url,
        lower({{ clean_text('page_category') }}) as page_category,

        -- timestamps
        {{ parse_timestamp('occurred_at') }} as occurred_at
    from source
),

resolved as (
    select
        typed.*,
        event_types.funnel_stage,
        coalesce(by_id.canonical_contact_id, by_email.canonical_contact_id) as contact_id,
        case
            when by_id.canonical_contact_id is not null then 'contact_id'
            when by_email.canonical_contact_id is not null then 'email'
        end as resolved_by,
        case
            when typed.event_id is null then 'missing_event_id'
            when typed.source_contact_id is null and typed.email is null then 'missing_identity'
            when typed.occurred_at is null then 'invalid_timestamp'
            when typed.occurred_at > {{ dbt.dateadd(
                'hour', var('future_event_tolerance_hours'), 'typed._loaded_at'
            ) }} then 'future_event'
            when event_types.event_type is null then 'unknown_event_type'
            when by_id.canonical_contact_id is null and by_email.canonical_contact_id is null
                then 'unknown_contact'
        end as quarantine_reason
    from typed
    left join identity as by_id
        on typed.source_contact_id = by_id.source_contact_id
    left join email_identity as by_email
        on typed.email = by_email.email
    left join event_types
        on typed.event_type = event_types.event_type
),

final as (
    select
        *,
        quarantine_reason is null
        and row_number() over (
            partition by event_id, quarantine_reason is null
            order by _loaded_at, _file_id, _source_row
        ) > 1 as is_duplicate
    from resolved
)

select * from final
