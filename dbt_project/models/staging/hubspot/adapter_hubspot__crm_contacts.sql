{{ config(enabled=var('crm_source', 'generic') == 'hubspot') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- HubSpot contacts in the shape of the raw contract's crm_contacts. Soft-deleted contacts and
-- contacts HubSpot merged into another are left out (their ids resolve to the survivor, see
-- adapter_hubspot__contact_ids). A contact is unsubscribed when HubSpot says it opted out of
-- email or an email event unsubscribed it (STATUS_CHANGE to unsubscribed, spam report).
-- Every other `property_*` column (the portal's custom properties among them) is passed on as
-- an extra column named without the prefix, so fit rules can name it (`contact.<property>`).
{%- set contact = source('hubspot', 'contact') -%}
{%- set columns = fivetran_columns(contact) %}
{%- set extras = fivetran_extra_columns(columns, [
    'id', 'property_email', 'property_firstname', 'property_lastname', 'property_jobtitle',
    'property_associatedcompanyid', 'property_country', 'property_hs_analytics_source',
    'property_lifecyclestage', 'property_hs_email_optout', 'property_createdate',
    'property_created_at', 'property_hs_createdate', 'property_lastmodifieddate',
    'property_hs_lastmodifieddate',
] + raw_contract_columns('crm_contacts'), 'property_') %}

with

contacts as (
    select
        {{ fivetran_text(columns, ['id']) }} as contact_id,
        {{ fivetran_text(columns, ['property_email']) }} as email,
        {{ fivetran_text(columns, ['property_firstname']) }} as first_name,
        {{ fivetran_text(columns, ['property_lastname']) }} as last_name,
        {{ fivetran_text(columns, ['property_jobtitle']) }} as job_title,
        {{ fivetran_text(columns, ['property_associatedcompanyid']) }} as company_id,
        {{ fivetran_text(columns, ['property_country']) }} as country,
        lower({{ fivetran_text(columns, ['property_hs_analytics_source']) }}) as analytics_source,
        {{ fivetran_text(columns, ['property_lifecyclestage']) }} as lifecycle_stage,
        {{ parse_boolean(fivetran_text(columns, ['property_hs_email_optout'])) }} as is_opted_out,
        {{ fivetran_text(
            columns, ['property_createdate', 'property_created_at', 'property_hs_createdate']
        ) }} as created_at,
        {{ fivetran_text(
            columns, ['property_lastmodifieddate', 'property_hs_lastmodifieddate']
        ) }} as updated_at,
        {%- for alias, name in extras %}
            {{ fivetran_text(columns, [name]) }} as {{ alias }},
        {%- endfor %}
        {{ fivetran_synced_at(columns) }} as _loaded_at
    from {{ contact }}
    where {{ fivetran_is_live(columns) }}
),

contact_ids as (
    select * from {{ ref('adapter_hubspot__contact_ids') }}
),

email_unsubscribes as (
    select distinct contact_id
    from {{ ref('adapter_hubspot__marketing_events') }}
    where event_type = 'unsubscribe' and contact_id is not null
),

final as (
    select
        -- contract columns, as text
        contacts.contact_id,
        contacts.email,
        contacts.first_name,
        contacts.last_name,
        contacts.job_title,
        contacts.company_id,
        contacts.country,
        -- HubSpot's original-source values, named as the lead_source_groups seed names them
        case contacts.analytics_source
            when 'direct_traffic' then 'direct'
            when 'referrals' then 'referral'
            when 'email_marketing' then 'email'
            else contacts.analytics_source
        end as lead_source,
        contacts.lifecycle_stage,
        case
            when
                coalesce(contacts.is_opted_out, false)
                or email_unsubscribes.contact_id is not null
                then 'true'
            else 'false'
        end as unsubscribed,
        contacts.created_at,
        contacts.updated_at,

        -- the portal's other properties, as extra columns
        {%- for alias, _ in extras %}
            contacts.{{ alias }},
        {%- endfor %}

        -- lineage: the Fivetran table stands in for the landing file
        cast(1 as bigint) as _file_id,
        row_number() over (order by contacts.contact_id) as _source_row,
        '{{ contact.schema }}.{{ contact.identifier }}' as _source_file,
        contacts._loaded_at
    from contacts
    inner join contact_ids
        on contacts.contact_id = contact_ids.contact_id
    left join email_unsubscribes
        on contacts.contact_id = email_unsubscribes.contact_id
    where not contact_ids.is_merged
)

select * from final
