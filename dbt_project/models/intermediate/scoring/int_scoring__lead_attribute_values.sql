{{ config(materialized='view') }}

-- One row per lead and attribute that a fit rule names: the lead's value as text (lower-case
-- for text attributes; NULL when missing), with the persona and customer flag that scope
-- rules. A view: int_scoring__fit_components, its one reader, computes it while matching. The
-- value comes from the profile column the attribute catalog names (lead_attribute_value()).
{%- set raw_contacts = source('crm', 'crm_contacts') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_contacts') %}
{%- set raw_companies = source('crm', 'crm_companies') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_companies') %}
with

profile as (
    select * from {{ ref('int_scoring__contact_profile') }}
),

attributes as (
    select distinct attribute
    from {{ ref('stg_scoring__fit_rules') }}
),

final as (
    select
        -- ids
        profile.contact_id,

        -- strings
        attributes.attribute,
        {{ lead_attribute_value(
            'profile',
            'attributes.attribute',
            raw_contacts,
            raw_companies,
            ref('scoring_fit_rules'),
        ) }} as attribute_value,
        profile.persona as contact_persona,

        -- booleans
        profile.is_customer
    from profile
    cross join attributes
)

select * from final
