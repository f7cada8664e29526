-- One row per company: its contacts' scores rolled up. Account fit is the best fit among its
-- people (the ICP match of the account's best contact); engagement is the behaviour of all
-- its people together, capped at 100 like a lead's; the account score is its best lead's.
-- Buying-committee coverage is the share of `buying_committee_roles` held by at least one
-- engaged contact (engagement level other than Low).
with

companies as (
    select * from {{ ref('stg_crm__companies') }}
),

lead_dimensions as (
    select * from {{ ref('int_segments__lead_dimensions') }}
),

roles as (
    select
        trim(role) as role,
        lower(trim(persona)) as persona,
        lower(trim(department)) as department
    from {{ ref('buying_committee_roles') }}
),

engagement_levels as (
    select * from {{ ref('stg_segments__engagement_levels') }}
),

lowest_level as (
    select engagement_level as lowest_engagement_level
    from engagement_levels
    where lower_bound is null
),

-- Engaged = any level above the floor (Medium or High by default).
leads as (
    select
        lead_dimensions.*,
        lead_dimensions.engagement_level <> lowest_level.lowest_engagement_level as is_engaged
    from lead_dimensions
    cross join lowest_level
),

engaged as (
    select *
    from leads
    where is_engaged
),

coverage as (
    select
        engaged.company_id,
        count(distinct roles.role) as roles_covered
    from engaged
    inner join roles
        on
            (roles.persona is null or engaged.persona = roles.persona)
            and (roles.department is null or engaged.department = roles.department)
    group by engaged.company_id
),

per_company as (
    select
        company_id,
        count(*) as contacts,
        sum(case when is_engaged then 1 else 0 end) as engaged_contacts,
        max(fit_score) as account_fit_score,
        least(sum(case when behavior_score > 0 then behavior_score else 0 end), 100)
            as account_engagement_score,
        max(lead_score) as account_lead_score
    from leads
    where company_id is not null
    group by company_id
),

final as (
    select
        companies.company_id,
        companies.company_name,
        companies.industry,
        companies.country,
        companies.employee_count,
        coalesce(companies.size_band, 'SMB') as company_tier,
        coalesce(per_company.contacts, 0) as contacts,
        coalesce(per_company.engaged_contacts, 0) as engaged_contacts,
        coalesce(coverage.roles_covered, 0) as roles_covered,
        (select count(*) from roles) as roles_total,
        per_company.account_fit_score,
        coalesce(per_company.account_engagement_score, 0) as account_engagement_score,
        coalesce(per_company.account_lead_score, 0) as lead_score,
        engagement_levels.engagement_level
    from companies
    left join per_company
        on companies.company_id = per_company.company_id
    left join coverage
        on companies.company_id = coverage.company_id
    inner join engagement_levels
        on
            (
                engagement_levels.lower_bound is null
                or coalesce(per_company.account_engagement_score, 0) >= engagement_levels.lower_bound
            )
            and (
                engagement_levels.upper_bound is null
                or coalesce(per_company.account_engagement_score, 0) < engagement_levels.upper_bound
            )
)

select * from final
