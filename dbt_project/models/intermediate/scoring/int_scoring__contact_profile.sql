-- One row per lead known at the as-of date: the attributes fit rules look at, the persona, and
-- whether the lead is an existing customer (a deal won before the as-of moment), which
-- scopes new-business and upsell rules. Built only from what was true at the as-of date, so a
-- past date scores the way it would have then.
with

contacts as (
    select * from {{ ref('stg_crm__contacts') }}
),

companies as (
    select * from {{ ref('stg_crm__companies') }}
),

personas as (
    select
        seniority,
        persona
    from {{ ref('persona_by_seniority') }}
),

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
        contacts.lead_source,
        contacts.lifecycle_stage,
        coalesce(personas.persona, 'practitioner') as persona,

        -- numerics
        companies.employee_count,
        companies.annual_revenue,

        -- booleans
        customers.contact_id is not null as is_customer,
        contacts.is_unsubscribed,

        -- timestamps
        contacts.created_at
    from contacts
    left join companies
        on contacts.company_id = companies.company_id
    left join personas
        on contacts.seniority = personas.seniority
    left join customers
        on contacts.contact_id = customers.contact_id
    where contacts.created_at < {{ as_of_end() }}
)

select * from final
