{{ config(enabled=var('crm_source', 'generic') == 'hubspot') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- HubSpot companies in the shape of the raw contract's crm_companies; soft-deleted companies
-- are left out. Empty when `hubspot_company_enabled` is false.
{%- set enabled = var('hubspot_company_enabled', true) -%}
{%- if enabled %}
{%- set company = source('hubspot', 'company') -%}
{%- set columns = fivetran_columns(company) %}
{#- Every other `property_*` column is passed on as an extra column (`company.<property>`). -#}
{%- set extras = fivetran_extra_columns(columns, [
    'id', 'property_name', 'property_domain', 'property_website', 'property_industry',
    'property_numberofemployees', 'property_annualrevenue', 'property_country',
    'property_createdate', 'property_hs_createdate', 'property_hs_lastmodifieddate',
] + raw_contract_columns('crm_companies'), 'property_') %}
{%- endif %}

with
{%- if enabled %}

companies as (
    select
        {{ fivetran_text(columns, ['id']) }} as company_id,
        {{ fivetran_text(columns, ['property_name']) }} as name,
        {{ fivetran_text(columns, ['property_domain', 'property_website']) }} as domain,
        {{ fivetran_text(columns, ['property_industry']) }} as industry,
        {{ fivetran_text(columns, ['property_numberofemployees']) }} as employee_count,
        {{ fivetran_text(columns, ['property_annualrevenue']) }} as annual_revenue,
        {{ fivetran_text(columns, ['property_country']) }} as country,
        {{ fivetran_text(columns, ['property_createdate', 'property_hs_createdate']) }}
            as created_at,
        {{ fivetran_text(columns, ['property_hs_lastmodifieddate']) }} as updated_at,
        {%- for alias, name in extras %}
            {{ fivetran_text(columns, [name]) }} as {{ alias }},
        {%- endfor %}
        {{ fivetran_synced_at(columns) }} as _loaded_at
    from {{ company }}
    where {{ fivetran_is_live(columns) }}
),
{%- endif %}

final as (
    {%- if enabled %}
    select
        -- contract columns, as text
        company_id,
        name,
        domain,
        industry,
        employee_count,
        annual_revenue,
        country,
        created_at,
        updated_at,

        -- the portal's other properties, as extra columns
        {%- for alias, _ in extras %}
            {{ alias }},
        {%- endfor %}

        -- lineage: the Fivetran table stands in for the landing file
        cast(1 as bigint) as _file_id,
        row_number() over (order by company_id) as _source_row,
        '{{ company.schema }}.{{ company.identifier }}' as _source_file,
        _loaded_at
    from companies
    {%- else %}
    {{ empty_raw_rows('crm_companies') }}
    {%- endif %}
)

select * from final
