{{
    config(
        **incremental_config(
            unique_key=['_file_id', '_source_row'],
            materialized=('incremental' if crm_source() == 'generic' else 'table'),
            on_schema_change='append_new_columns',
        )
    )
}}

-- Every raw event row, typed, resolved to a canonical contact (through contact_id first,
-- then email) and classified: the quarantine reason if it cannot be used, and whether it
-- repeats an event_id already seen. Events are the big table, so a refresh classifies only
-- what it has to (incremental, generic raw tables; a Fivetran source is rebuilt each run):
--   * the rows of landing files loaded since the last run (`_file_id` grows with each file);
--   * earlier rows that share an event_id with them: which copy is the duplicate is decided
--     among all copies, so they are ranked again together;
--   * earlier rows without a contact whose contact is known now, and rows quarantined for an
--     unknown event type that the seed has now, with the other copies of their event_id.
-- Every row a run writes carries that run's `_classified_at`, so the day aggregates
-- downstream recompute exactly the days whose rows changed. `dbt build --full-refresh`
-- classifies everything again; it gives the same rows (tests/test_incremental.py). Run it
-- after changing how contacts resolve (an email edit that merges two contacts).
--
-- Extra columns of the landing files (not in the raw contract) are kept as `extra__<column>`,
-- text as received: behaviour rules filter on them and sum them (time on site, a value). A
-- column that first arrives with a later file is added to the table; earlier rows have none.
{%- set raw_events = source('marketing', 'marketing_events') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__marketing_events') %}
{%- set extras = raw_event_extra_columns(raw_events) %}
{%- set stored = staged_event_extra_columns(this) if is_incremental() else [] %}
with

source as (
    select * from {{ raw_events }}
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

typed_all as (
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

        -- extra columns, as received
        {%- for name in extras %}
            {{ clean_text(adapter.quote(name)) }} as {{ event_extra_column_name(name) }},
        {%- endfor %}

        -- timestamps
        {{ parse_timestamp('occurred_at') }} as occurred_at
    from source
    {% if is_incremental() %}
        where _file_id > (select coalesce(max(_file_id), 0) from {{ this }})
    {% endif %}
),

{% if is_incremental() %}
    -- Earlier rows that may have to change on their own: no contact, or an event type the
    -- seed did not have. Few, and found on two narrow columns, before any lookup.
    unresolved as (
        select * from {{ this }}
        where contact_id is null or quarantine_reason = 'unknown_event_type'
    ),

    -- Earlier rows to classify again (see the header), as they were typed.
    reopened_ids as (
        select event_id from typed_all
        where event_id is not null
        union
        select event_id from unresolved
        where
            event_id is not null
            and (
                {{ event_contact_now_known() }}
                or (
                    quarantine_reason = 'unknown_event_type'
                    and event_type in (select event_types.event_type from event_types)
                )
            )
    ),

    -- The earlier rows to classify again, read once: their typed columns go back through
    -- classification, their old classification decides whether `_classified_at` moves. A row
    -- without an event_id can only be reopened by its contact.
    reopened_rows as (
        select * from {{ this }}
        where event_id in (select reopened_ids.event_id from reopened_ids)
        union all
        select * from unresolved
        where event_id is null and {{ event_contact_now_known() }}
    ),

    reopened as (
        select
            _file_id,
            _source_row,
            _source_file,
            _loaded_at,
            event_id,
            source_contact_id,
            campaign_id,
            email,
            event_type,
            page_url,
            page_category,
            {%- for name in extras %}
                {% if event_extra_column_name(name) in stored -%}
                    {{ event_extra_column_name(name) }},
                {%- else -%}
                    cast(null as {{ text_type() }}) as {{ event_extra_column_name(name) }},
                {%- endif %}
            {%- endfor %}
            occurred_at
        from reopened_rows
    ),

    -- A row whose classification does not change keeps its `_classified_at`, so nothing
    -- downstream recomputes for it.
    previous as (
        select
            _file_id,
            _source_row,
            contact_id,
            quarantine_reason,
            is_duplicate,
            _classified_at
        from reopened_rows
    ),

    typed as (
        select * from typed_all
        union all
        select * from reopened
    ),
{% else %}
    typed as (
        select * from typed_all
    ),
{% endif %}

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

classified as (
    select
        *,
        quarantine_reason is null
        and row_number() over (
            partition by event_id, quarantine_reason is null
            order by _loaded_at, _file_id, _source_row
        ) > 1 as is_duplicate
    from resolved
),

final as (
    select
        classified.*,
        {% if is_incremental() %}
            case
                when
                    previous._file_id is not null
                    and previous.contact_id is not distinct from classified.contact_id
                    and previous.quarantine_reason
                    is not distinct from classified.quarantine_reason
                    and previous.is_duplicate = classified.is_duplicate
                    then previous._classified_at
                else {{ run_timestamp() }}
            end as _classified_at
        {% else %}
            {{ run_timestamp() }} as _classified_at
        {% endif %}
    from classified
    {% if is_incremental() %}
        left join previous
            on
                classified._file_id = previous._file_id
                and classified._source_row = previous._source_row
    {% endif %}
)

select * from final
