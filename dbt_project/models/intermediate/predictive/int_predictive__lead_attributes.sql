{{ config(materialized='view') }}
{#- The raw columns of the contact and company rows, as the warehouse has them when the model
    runs (macros/scoring/lead_attribute_catalog.sql: lower-case names, lineage left out), as
    `nullif(lower(trim(<column>)), '') as <source>__<column>` select items. -#}
{#- Referenced here so that dbt sees the dependency while parsing (when there are no columns). -#}
{%- set companies_model = ref('stg_crm__companies') -%}
{%- set raw_contacts = source('crm', 'crm_contacts') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_contacts') -%}
{%- set raw_companies = source('crm', 'crm_companies') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_companies') -%}
{%- set items = {'contact': [], 'company': []} -%}
{%- set aliases = [] -%}
{%- for source, relation in [('contact', raw_contacts), ('company', raw_companies)] -%}
    {%- for name in raw_attribute_columns(relation) -%}
        {%- set alias = attribute_column_name(source, name) -%}
        {%- if alias not in aliases -%}
            {%- do aliases.append(alias) -%}
            {%- do items[source].append(
                "nullif(lower(trim(cast(" ~ source ~ "_rows." ~ adapter.quote(name) ~ " as "
                ~ text_type() ~ "))), '') as " ~ alias
            ) -%}
        {%- endif -%}
    {%- endfor -%}
{%- endfor %}

-- One row per lead known at the as-of date: every column of the raw row its contact's
-- attributes come from (`contact__<column>`) and of its company's (`company__<column>`): the
-- raw contract's columns and every extra column a landing file, an export mapping or a
-- connector brought, as lower-case trimmed text (NULL when missing or empty). The raw rows are
-- the ones staging took the attributes from (joined on `_file_id` and `_source_row`).
--
-- A view: a connector's table can have hundreds of columns, and the predictive model reads
-- only those it can use (ids, names, e-mails, dates, free text and columns that record the
-- outcome are left out, then at most `max_attribute_columns` of the best filled; see
-- orchestration/predictive/model.py), when it runs.
with

contacts as (
    select
        contact_id,
        company_id,
        created_at,
        _file_id,
        _source_row
    from {{ ref('stg_crm__contacts') }}
    where created_at < {{ as_of_end() }}
),
{%- if items.contact %}

    contact_rows as (
        select * from {{ raw_contacts }}
    ),
{%- endif %}
{%- if items.company %}

    companies as (
        select
            company_id,
            _file_id,
            _source_row
        from {{ companies_model }}
    ),

    company_rows as (
        select * from {{ raw_companies }}
    ),
{%- endif %}

final as (
    select
        -- ids
        contacts.contact_id,

        -- strings: the raw columns, as received
        {%- for item in items.contact + items.company %}
            {{ item }},
        {%- endfor %}

        -- timestamps
        contacts.created_at
    from contacts
    {%- if items.contact %}
        left join contact_rows
            on
                contacts._file_id = contact_rows._file_id
                and contacts._source_row = contact_rows._source_row
    {%- endif %}
    {%- if items.company %}
        left join companies
            on contacts.company_id = companies.company_id
        left join company_rows
            on
                companies._file_id = company_rows._file_id
                and companies._source_row = company_rows._source_row
    {%- endif %}
)

select * from final
