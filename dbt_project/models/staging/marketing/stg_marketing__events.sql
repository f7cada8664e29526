{{ config(materialized='view') }}

-- One row per usable event, attributed to its canonical contact. A view: the events live once,
-- in base_marketing__events (incremental), and this only filters them. Extra columns of the
-- landing files come along as `extra__<column>`.
with

events as (
    select * from {{ ref('base_marketing__events') }}
    where quarantine_reason is null and not is_duplicate
),

final as (
    select
        -- ids
        event_id,
        contact_id,
        source_contact_id,
        campaign_id,

        -- strings
        event_type,
        funnel_stage,
        page_category,
        page_url,
        resolved_by,

        -- lineage
        _file_id,
        _source_row,
        _classified_at,

        -- extra columns of the landing files, as received (event attributes of rules)
        {%- for column in staged_event_extra_columns(ref('base_marketing__events')) %}
            {{ column }},
        {%- endfor %}

        -- timestamps
        occurred_at,
        _loaded_at
    from events
)

select * from final
