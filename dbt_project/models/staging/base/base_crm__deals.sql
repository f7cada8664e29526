-- Every raw deal row, typed, with its quarantine reason and current-version flag. Deals carry
-- no updated_at, so the most recently loaded version of a deal wins.
with

source as (
    select * from {{ crm_raw_relation('crm_deals') }}
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
        amount,

        -- booleans
        coalesce(parsed_is_won, false) as is_won,
        coalesce(parsed_is_closed, parsed_is_won, false) as is_closed,
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
