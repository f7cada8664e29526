{{ config(materialized='view') }}

-- One row per attribute name a fit rule (scoring_fit_rules.attribute) can use: the profile's
-- own attributes, every column of the lead's contact and company rows (`contact.<column>`,
-- `company.<column>`, extra columns of the landing files and a connector's custom properties
-- included) and the plain names of those columns. Built from the warehouse's columns when the
-- model runs (macros/scoring/lead_attribute_catalog.sql), so a new column in a landing file is an
-- attribute on the next run. The fit rules' validation checks every rule against it.
{%- set raw_contacts = source('crm', 'crm_contacts') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_contacts') %}
{%- set raw_companies = source('crm', 'crm_companies') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_companies') %}
{%- set catalog = lead_attribute_catalog(raw_contacts, raw_companies) %}
with

catalog as (
    {%- for entry in catalog %}
        select
            '{{ entry.attribute }}' as attribute,
            '{{ entry.source }}' as attribute_source,
            '{{ entry.column }}' as profile_column,
            '{{ entry.type }}' as attribute_type
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        cast(attribute as {{ text_type() }}) as attribute,
        cast(attribute_source as {{ text_type() }}) as attribute_source,
        cast(profile_column as {{ text_type() }}) as profile_column,
        cast(attribute_type as {{ text_type() }}) as attribute_type
    from catalog
)

select * from final
