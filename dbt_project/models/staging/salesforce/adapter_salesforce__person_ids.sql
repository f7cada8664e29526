{{ config(enabled=var('crm_source', 'generic') == 'salesforce') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- One row per live Salesforce lead or contact id: the person it resolves to. A converted lead
-- is its contact (converted_contact_id), so activity logged against the lead before the
-- conversion reaches the contact; every other lead or contact is a person of its own.
{%- set contact = source('salesforce', 'contact') -%}
{%- set contact_columns = fivetran_columns(contact) %}

with

contacts as (
    select
        {{ fivetran_text(contact_columns, ['id']) }} as person_id,
        {{ fivetran_text(contact_columns, ['id']) }} as canonical_person_id,
        false as is_converted_lead
    from {{ contact }}
    where {{ fivetran_is_live(contact_columns) }}
),

{%- if var('salesforce_lead_enabled', true) %}
{%- set lead = source('salesforce', 'lead') -%}
{%- set lead_columns = fivetran_columns(lead) %}

leads as (
    select
        person_id,
        case when is_converted then converted_contact_id else person_id end
            as canonical_person_id,
        is_converted as is_converted_lead
    from (
        select
            {{ fivetran_text(lead_columns, ['id']) }} as person_id,
            {{ fivetran_text(lead_columns, ['converted_contact_id']) }} as converted_contact_id,
            coalesce(
                {{ parse_boolean(fivetran_text(lead_columns, ['is_converted'])) }}, false
            )
            and {{ fivetran_text(lead_columns, ['converted_contact_id']) }} is not null
                as is_converted
        from {{ lead }}
        where {{ fivetran_is_live(lead_columns) }}
    ) as live_leads
),
{%- endif %}

final as (
    select * from contacts
    {%- if var('salesforce_lead_enabled', true) %}
    union all
    select * from leads
    {%- endif %}
)

select * from final
