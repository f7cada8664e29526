-- One row per canonical contact (person). Attributes come from the most recently updated
-- member of the identity group; consent is the strictest: if any record of the person
-- unsubscribed, the person is unsubscribed.
with

current_contacts as (
    select * from {{ ref('base_crm__contacts') }}
    where is_current_version
),

identity as (
    select * from {{ ref('stg_crm__contact_identity') }}
),

companies as (
    select company_id from {{ ref('stg_crm__companies') }}
),

lifecycle_stages as (
    select lower(trim(lifecycle_stage)) as lifecycle_stage
    from {{ ref('lifecycle_stages') }}
),

members as (
    select
        identity.canonical_contact_id,
        current_contacts.*,
        row_number() over (
            partition by identity.canonical_contact_id
            order by current_contacts.updated_at desc, current_contacts.contact_id asc
        ) as freshness_rank
    from current_contacts
    inner join identity
        on current_contacts.contact_id = identity.source_contact_id
),

group_facts as (
    select
        canonical_contact_id,
        count(*) as source_contact_count,
        max(case when is_unsubscribed then 1 else 0 end) = 1 as is_unsubscribed,
        min(created_at) as created_at,
        max(updated_at) as updated_at
    from members
    group by canonical_contact_id
),

final as (
    select
        -- ids
        members.canonical_contact_id as contact_id,
        companies.company_id,
        members.company_id as source_company_id,

        -- strings
        members.email,
        members.email_domain,
        members.first_name,
        members.last_name,
        members.job_title,
        members.seniority,
        members.department,
        members.country,
        members.lead_source,
        members.lifecycle_stage,

        -- numerics
        group_facts.source_contact_count,

        -- booleans
        members.is_valid_email,
        members.is_freemail,
        group_facts.is_unsubscribed,
        members.company_id is not null and companies.company_id is null as has_unknown_company,
        members.lifecycle_stage is not null and lifecycle_stages.lifecycle_stage is null
            as is_lifecycle_stage_unknown,

        -- timestamps
        group_facts.created_at,
        group_facts.updated_at,

        -- lineage: the raw row the attributes come from (its extra columns are attributes
        -- rules can name, read by int_scoring__contact_profile)
        members._file_id,
        members._source_row
    from members
    inner join group_facts
        on members.canonical_contact_id = group_facts.canonical_contact_id
    left join companies
        on members.company_id = companies.company_id
    left join lifecycle_stages
        on members.lifecycle_stage = lifecycle_stages.lifecycle_stage
    where members.freshness_rank = 1
)

select * from final
