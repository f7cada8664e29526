-- Every raw company row, typed, with its quarantine reason and current-version flag.
-- A bad employee count or revenue does not make a company unusable: the value is dropped
-- and flagged, so contacts at the company still score on industry and region.
{%- set raw_companies = source('crm', 'crm_companies') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_companies') %}
with

source as (
    select * from {{ raw_companies }}
),

typed as (
    select
        -- lineage
        {{ raw_lineage_columns() }},

        -- ids
        {{ clean_text('company_id') }} as company_id,

        -- strings
        {{ clean_text('name') }} as company_name,
        nullif(
            {{ regexp_replace_all('lower(trim(domain))', "'^https?://(www[.])?|^www[.]|/.*$'", "''") }},
            ''
        ) as domain,
        {{ clean_text('industry') }} as industry,
        upper({{ clean_text('country') }}) as country,

        -- numerics
        {{ parse_integer('employee_count') }} as parsed_employee_count,
        {{ clean_text('employee_count') }} is not null as has_employee_count,
        {{ parse_decimal('annual_revenue') }} as parsed_annual_revenue,
        {{ clean_text('annual_revenue') }} is not null as has_annual_revenue,

        -- timestamps
        {{ parse_timestamp('created_at') }} as created_at,
        {{ parse_timestamp('updated_at') }} as parsed_updated_at,
        {{ clean_text('updated_at') }} is not null as has_updated_at
    from source
),

classified as (
    select
        *,
        case
            when company_id is null then 'missing_company_id'
            when created_at is null then 'invalid_timestamp'
            when has_updated_at and parsed_updated_at is null then 'invalid_timestamp'
            when {{ created_after_load('created_at', '_loaded_at') }} then 'future_timestamp'
        end as quarantine_reason
    from typed
),

final as (
    select
        -- lineage
        {{ raw_lineage_columns() }},

        -- ids
        company_id,

        -- strings
        company_name,
        domain,
        industry,
        country,
        quarantine_reason,

        -- numerics
        case when parsed_employee_count >= 0 then parsed_employee_count end as employee_count,
        case when parsed_annual_revenue >= 0 then parsed_annual_revenue end as annual_revenue,

        -- booleans
        has_employee_count and coalesce(parsed_employee_count < 0, true)
            as is_employee_count_invalid,
        has_annual_revenue and coalesce(parsed_annual_revenue < 0, true)
            as is_annual_revenue_invalid,
        quarantine_reason is null
        and row_number() over (
            partition by company_id, quarantine_reason is null
            order by
                coalesce(parsed_updated_at, created_at) desc,
                _loaded_at desc,
                _file_id desc,
                _source_row desc
        ) = 1 as is_current_version,

        -- timestamps
        created_at,
        coalesce(parsed_updated_at, created_at) as updated_at
    from classified
)

select * from final
