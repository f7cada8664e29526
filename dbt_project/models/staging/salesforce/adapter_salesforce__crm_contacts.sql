{{ config(enabled=var('crm_source', 'generic') == 'salesforce') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- Salesforce people in the shape of the raw contract's crm_contacts: live contacts, and live
-- leads that were not converted (a converted lead is its contact, see
-- adapter_salesforce__person_ids). A lead's company lives on the lead, so its company is the
-- lead's own row in adapter_salesforce__crm_companies (`lead:<lead id>`). Leads are at lifecycle
-- stage `lead`; contacts, whom sales converted or added, at `salesqualifiedlead`.
-- HasOptedOutOfEmail is the unsubscribed flag.
-- Every other column of contact and lead (the org's custom fields among them) is passed on as
-- an extra column, so fit rules can name it (`contact.<field>`); a column only one of the two
-- objects has is empty on the other's rows.
{%- set contact = source('salesforce', 'contact') -%}
{%- set contact_columns = fivetran_columns(contact) %}
{%- set lead_columns = {} %}
{%- if var('salesforce_lead_enabled', true) %}
{%- set lead = source('salesforce', 'lead') -%}
{%- set lead_columns = fivetran_columns(lead) %}
{%- endif %}
{%- set both = {} %}
{%- do both.update(contact_columns) %}
{%- do both.update(lead_columns) %}
{%- set extras = fivetran_extra_columns(both, [
    'id', 'email', 'first_name', 'last_name', 'title', 'account_id', 'mailing_country_code',
    'mailing_country', 'lead_source', 'has_opted_out_of_email', 'created_date',
    'last_modified_date', 'system_modstamp', 'is_deleted', 'company', 'country_code',
    'country', 'converted_contact_id', 'is_converted', 'master_record_id',
] + raw_contract_columns('crm_contacts')) %}

with

contacts as (
    select
        {{ fivetran_text(contact_columns, ['id']) }} as contact_id,
        {{ fivetran_text(contact_columns, ['email']) }} as email,
        {{ fivetran_text(contact_columns, ['first_name']) }} as first_name,
        {{ fivetran_text(contact_columns, ['last_name']) }} as last_name,
        {{ fivetran_text(contact_columns, ['title']) }} as job_title,
        {{ fivetran_text(contact_columns, ['account_id']) }} as company_id,
        {{ fivetran_text(contact_columns, ['mailing_country_code', 'mailing_country']) }}
            as country,
        {{ fivetran_text(contact_columns, ['lead_source']) }} as lead_source,
        'salesqualifiedlead' as lifecycle_stage,
        {{ fivetran_text(contact_columns, ['has_opted_out_of_email']) }} as unsubscribed,
        {{ fivetran_text(contact_columns, ['created_date']) }} as created_at,
        {{ fivetran_text(contact_columns, ['last_modified_date', 'system_modstamp']) }}
            as updated_at,
        {%- for alias, name in extras %}
            {{ fivetran_text(contact_columns, [name]) }} as {{ alias }},
        {%- endfor %}
        cast(1 as bigint) as _file_id,
        '{{ contact.schema }}.{{ contact.identifier }}' as _source_file,
        {{ fivetran_synced_at(contact_columns) }} as _loaded_at
    from {{ contact }}
    where {{ fivetran_is_live(contact_columns) }}
)

{%- if var('salesforce_lead_enabled', true) %},

leads as (
    select
        {{ fivetran_text(lead_columns, ['id'], 'lead') }} as contact_id,
        {{ fivetran_text(lead_columns, ['email'], 'lead') }} as email,
        {{ fivetran_text(lead_columns, ['first_name'], 'lead') }} as first_name,
        {{ fivetran_text(lead_columns, ['last_name'], 'lead') }} as last_name,
        {{ fivetran_text(lead_columns, ['title'], 'lead') }} as job_title,
        case
            when {{ fivetran_text(lead_columns, ['company'], 'lead') }} is not null
                then 'lead:' || {{ fivetran_text(lead_columns, ['id'], 'lead') }}
        end as company_id,
        {{ fivetran_text(lead_columns, ['country_code', 'country'], 'lead') }} as country,
        {{ fivetran_text(lead_columns, ['lead_source'], 'lead') }} as lead_source,
        'lead' as lifecycle_stage,
        {{ fivetran_text(lead_columns, ['has_opted_out_of_email'], 'lead') }} as unsubscribed,
        {{ fivetran_text(lead_columns, ['created_date'], 'lead') }} as created_at,
        {{ fivetran_text(lead_columns, ['last_modified_date', 'system_modstamp'], 'lead') }}
            as updated_at,
        {%- for alias, name in extras %}
            {{ fivetran_text(lead_columns, [name], 'lead') }} as {{ alias }},
        {%- endfor %}
        cast(2 as bigint) as _file_id,
        '{{ lead.schema }}.{{ lead.identifier }}' as _source_file,
        {{ fivetran_synced_at(lead_columns, 'lead') }} as _loaded_at
    from {{ lead }} as lead
    inner join {{ ref('adapter_salesforce__person_ids') }} as person_ids
        on {{ fivetran_text(lead_columns, ['id'], 'lead') }} = person_ids.person_id
    where {{ fivetran_is_live(lead_columns, 'lead') }} and not person_ids.is_converted_lead
)
{%- endif %},

people as (
    select * from contacts
    {%- if var('salesforce_lead_enabled', true) %}
    union all
    select * from leads
    {%- endif %}
),

final as (
    select
        -- contract columns, as text
        contact_id,
        email,
        first_name,
        last_name,
        job_title,
        company_id,
        country,
        -- Salesforce picklist values ("Partner Referral"), named as the seeds name sources
        lower(replace(trim(lead_source), ' ', '_')) as lead_source,
        lifecycle_stage,
        unsubscribed,
        created_at,
        updated_at,

        -- the org's other fields, as extra columns
        {%- for alias, _ in extras %}
            {{ alias }},
        {%- endfor %}

        -- lineage: the Fivetran table stands in for the landing file
        _file_id,
        row_number() over (partition by _file_id order by contact_id) as _source_row,
        _source_file,
        _loaded_at
    from people
)

select * from final
