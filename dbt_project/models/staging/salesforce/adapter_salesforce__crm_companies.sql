{{ config(enabled=var('crm_source', 'generic') == 'salesforce') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- Salesforce companies in the shape of the raw contract's crm_companies: live accounts, and
-- the company each unconverted lead names (Salesforce keeps company, industry, size and
-- revenue on the lead; its id here is `lead:<lead id>`), so leads score on firmographics too.
-- Accounts without a created date take the time Fivetran first synced them. Every other column
-- of account (the org's custom fields among them) is passed on as an extra column
-- (`company.<field>`), empty on the leads' companies.
{%- set parts = [] %}
{%- set extras = [] %}

with

{%- if var('salesforce_account_enabled', true) %}
{%- set account = source('salesforce', 'account') -%}
{%- set account_columns = fivetran_columns(account) -%}
{%- do parts.append('accounts') %}
{%- do extras.extend(fivetran_extra_columns(account_columns, [
    'id', 'name', 'website', 'industry', 'number_of_employees', 'annual_revenue',
    'billing_country_code', 'billing_country', 'created_date', 'last_modified_date',
    'system_modstamp', 'is_deleted',
] + raw_contract_columns('crm_companies'))) %}

accounts as (
    select
        {{ fivetran_text(account_columns, ['id']) }} as company_id,
        {{ fivetran_text(account_columns, ['name']) }} as name,
        {{ fivetran_text(account_columns, ['website']) }} as domain,
        {{ fivetran_text(account_columns, ['industry']) }} as industry,
        {{ fivetran_text(account_columns, ['number_of_employees']) }} as employee_count,
        {{ fivetran_text(account_columns, ['annual_revenue']) }} as annual_revenue,
        {{ fivetran_text(account_columns, ['billing_country_code', 'billing_country']) }}
            as country,
        {{ fivetran_text(account_columns, ['created_date', '_fivetran_synced']) }} as created_at,
        {{ fivetran_text(account_columns, ['last_modified_date', 'system_modstamp']) }}
            as updated_at,
        {%- for alias, name in extras %}
            {{ fivetran_text(account_columns, [name]) }} as {{ alias }},
        {%- endfor %}
        cast(1 as bigint) as _file_id,
        '{{ account.schema }}.{{ account.identifier }}' as _source_file,
        {{ fivetran_synced_at(account_columns) }} as _loaded_at
    from {{ account }}
    where {{ fivetran_is_live(account_columns) }}
),
{%- endif %}

{%- if var('salesforce_lead_enabled', true) %}
{%- set lead = source('salesforce', 'lead') -%}
{%- set lead_columns = fivetran_columns(lead) -%}
{%- do parts.append('lead_companies') %}

lead_companies as (
    select
        'lead:' || person_ids.person_id as company_id,
        {{ fivetran_text(lead_columns, ['company'], 'lead') }} as name,
        {{ fivetran_text(lead_columns, ['website'], 'lead') }} as domain,
        {{ fivetran_text(lead_columns, ['industry'], 'lead') }} as industry,
        {{ fivetran_text(lead_columns, ['number_of_employees'], 'lead') }} as employee_count,
        {{ fivetran_text(lead_columns, ['annual_revenue'], 'lead') }} as annual_revenue,
        {{ fivetran_text(lead_columns, ['country_code', 'country'], 'lead') }} as country,
        {{ fivetran_text(lead_columns, ['created_date'], 'lead') }} as created_at,
        {{ fivetran_text(lead_columns, ['last_modified_date', 'system_modstamp'], 'lead') }}
            as updated_at,
        {%- for alias, _ in extras %}
            cast(null as {{ text_type() }}) as {{ alias }},
        {%- endfor %}
        cast(2 as bigint) as _file_id,
        '{{ lead.schema }}.{{ lead.identifier }}' as _source_file,
        {{ fivetran_synced_at(lead_columns, 'lead') }} as _loaded_at
    from {{ lead }} as lead
    inner join {{ ref('adapter_salesforce__person_ids') }} as person_ids
        on {{ fivetran_text(lead_columns, ['id'], 'lead') }} = person_ids.person_id
    where
        {{ fivetran_is_live(lead_columns, 'lead') }}
        and not person_ids.is_converted_lead
        and {{ fivetran_text(lead_columns, ['company'], 'lead') }} is not null
),
{%- endif %}

companies as (
    {%- for part in parts %}
        select * from {{ part }}
        {%- if not loop.last %}
        union all
        {%- endif %}
    {%- else %}
        select
            company_id,
            name,
            domain,
            industry,
            employee_count,
            annual_revenue,
            country,
            created_at,
            updated_at,
            _file_id,
            _source_file,
            _loaded_at
        from ({{ empty_raw_rows('crm_companies') }}) as no_tables
    {%- endfor %}
),

final as (
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

        -- the org's other account fields, as extra columns
        {%- for alias, _ in extras %}
            {{ alias }},
        {%- endfor %}

        -- lineage: the Fivetran table stands in for the landing file
        _file_id,
        row_number() over (partition by _file_id order by company_id) as _source_row,
        _source_file,
        _loaded_at
    from companies
)

select * from final
