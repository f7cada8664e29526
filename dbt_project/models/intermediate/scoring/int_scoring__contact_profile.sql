-- One row per lead known at the as-of date: every attribute rules can name (the catalog of
-- macros/scoring/lead_attribute_catalog.sql), the persona, and whether the lead is an existing
-- customer (a deal won before the as-of moment), which scopes new-business and upsell rules.
-- Deal roll-ups count what was true at the as-of date, so a past date scores the way it would
-- have then. The contact's and company's raw columns (`contact__*`, `company__*`: the raw
-- contract's and every extra column a file or connector brought) are those of the rows staging
-- took the attributes from, and only those some fit rule reads.
{%- set raw_contacts = source('crm', 'crm_contacts') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_contacts') %}
{%- set raw_companies = source('crm', 'crm_companies') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_companies') %}
{%- set fit_rules = ref('scoring_fit_rules') %}
{%- set contact_columns = raw_attribute_select(
    'contact', 'contact_rows', raw_contacts, raw_companies, fit_rules
) %}
{%- set company_columns = raw_attribute_select(
    'company', 'company_rows', raw_contacts, raw_companies, fit_rules
) %}
with

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

companies as (
    select * from {{ ref('stg_crm__companies') }}
),

{%- if contact_columns %}

    contact_rows as (
        select * from {{ raw_contacts }}
    ),
{%- endif %}
{%- if company_columns %}

    company_rows as (
        select * from {{ raw_companies }}
    ),
{%- endif %}

personas as (
    select
        seniority,
        persona
    from {{ ref('persona_by_seniority') }}
),

-- Deals as they stood at the as-of moment: created by then; closed (won or lost) only if
-- they closed by then.
deals as (
    select
        contact_id,
        amount,
        created_at,
        is_won and closed_at < {{ as_of_end() }} as is_won_by_then,
        is_closed and not is_won and closed_at < {{ as_of_end() }} as is_lost_by_then
    from {{ ref('stg_crm__deals') }}
    where contact_id is not null and created_at < {{ as_of_end() }}
),

deal_facts as (
    select
        contact_id,
        count(*) as deal_count,
        sum(case when is_won_by_then or is_lost_by_then then 0 else 1 end) as open_deal_count,
        sum(case when is_won_by_then then 1 else 0 end) as won_deal_count,
        sum(case when is_lost_by_then then 1 else 0 end) as lost_deal_count,
        sum(amount) as deal_amount,
        sum(case when is_won_by_then or is_lost_by_then then 0 else amount end) as open_deal_amount,
        max(created_at) as last_deal_created_at
    from deals
    group by contact_id
),

-- Won before the as-of moment, also when the deal's creation was not recorded in time.
customers as (
    select distinct contact_id
    from {{ ref('stg_crm__deals') }}
    where is_won and contact_id is not null and closed_at < {{ as_of_end() }}
),

final as (
    select
        -- ids
        contacts.contact_id,
        contacts.company_id,

        -- strings
        contacts.seniority,
        contacts.department,
        contacts.job_title,
        companies.industry,
        coalesce(contacts.country, companies.country) as country,
        companies.size_band,
        case
            when contacts.email is null then 'missing'
            when not contacts.is_valid_email then 'invalid'
            when contacts.is_freemail then 'freemail'
            else 'valid'
        end as email_domain_type,
        contacts.email_domain,
        contacts.lead_source,
        contacts.lifecycle_stage,
        coalesce(personas.persona, 'practitioner') as persona,

        -- numerics
        companies.employee_count,
        companies.annual_revenue,
        coalesce(deal_facts.deal_count, 0) as deal_count,
        coalesce(deal_facts.open_deal_count, 0) as open_deal_count,
        coalesce(deal_facts.won_deal_count, 0) as won_deal_count,
        coalesce(deal_facts.lost_deal_count, 0) as lost_deal_count,
        deal_facts.deal_amount,
        deal_facts.open_deal_amount,

        -- booleans
        customers.contact_id is not null as is_customer,
        contacts.is_unsubscribed,

        -- the contact's and the company's raw columns, as received (text)
        {%- for item in contact_columns + company_columns %}
            {{ item }},
        {%- endfor %}

        -- timestamps
        contacts.created_at,
        deal_facts.last_deal_created_at
    from contacts
    left join companies
        on contacts.company_id = companies.company_id
    {%- if contact_columns %}
        left join contact_rows
            on
                contacts._file_id = contact_rows._file_id
                and contacts._source_row = contact_rows._source_row
    {%- endif %}
    {%- if company_columns %}
        left join company_rows
            on
                companies._file_id = company_rows._file_id
                and companies._source_row = company_rows._source_row
    {%- endif %}
    left join personas
        on contacts.seniority = personas.seniority
    left join customers
        on contacts.contact_id = customers.contact_id
    left join deal_facts
        on contacts.contact_id = deal_facts.contact_id
    where contacts.created_at < {{ as_of_end() }}
)

select * from final
