-- Every raw deal row, typed, with its quarantine reason and current-version flag. Deals carry
-- no updated_at, so the most recently loaded version of a deal wins. Inconsistent rows are
-- normalised or quarantined, never left to fail a test downstream: a won deal is closed
-- (flagged `is_won_not_closed` when the row said otherwise), a negative amount is dropped
-- (`is_amount_invalid`), a deal closed before it was created or created after it was loaded
-- is quarantined (`closed_before_created`, `future_timestamp`).
{%- set raw_deals = source('crm', 'crm_deals') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_deals') %}
with

source as (
    select * from {{ raw_deals }}
),

typed as (
    select
        -- lineage
        {{ raw_lineage_columns() }},

        -- ids
        {{ clean_text('deal_id') }} as deal_id,
        {{ clean_text('contact_id') }} as source_contact_id,
        {{ clean_text('company_id') }} as company_id,

        -- strings
        lower({{ clean_text('stage') }}) as deal_stage,

        -- numerics
        {{ parse_decimal('amount') }} as amount,

        -- booleans
        {{ parse_boolean('is_won') }} as parsed_is_won,
        {{ parse_boolean('is_closed') }} as parsed_is_closed,

        -- timestamps
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp('closed_at') }} as closed_at,
        {{ clean_text('closed_at') }} is not null as has_closed_at
    from source
),

classified as (
    select
        *,
        case
            when deal_id is null then 'missing_deal_id'
            when created_at is null then 'invalid_timestamp'
            when has_closed_at and closed_at is null then 'invalid_timestamp'
            when closed_at < created_at then 'closed_before_created'
            when {{ created_after_load('created_at', '_loaded_at') }} then 'future_timestamp'
        end as quarantine_reason
    from typed
),

final as (
    select
        -- lineage
        {{ raw_lineage_columns() }},

        -- ids
        deal_id,
        source_contact_id,
        company_id,

        -- strings
        deal_stage,
        quarantine_reason,

        -- numerics
        case when amount >= 0 then amount end as amount,

        -- booleans
        coalesce(parsed_is_won, false) as is_won,
        coalesce(parsed_is_won, false) or coalesce(parsed_is_closed, false) as is_closed,
        coalesce(parsed_is_won and parsed_is_closed = false, false) as is_won_not_closed,
        coalesce(amount < 0, false) as is_amount_invalid,
        quarantine_reason is null
        and row_number() over (
            partition by deal_id, quarantine_reason is null
            order by _loaded_at desc, _file_id desc, _source_row desc
        ) = 1 as is_current_version,

        -- timestamps
        created_at,
        closed_at
    from classified
)

select * from final
