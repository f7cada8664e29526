-- One row per company (account-based marketing): account fit, engagement rolled up from its
-- contacts, engaged contacts, buying-committee coverage, tier and account segment.
with

accounts as (
    select * from {{ ref('int_segments__account_rollup') }}
),

segments as (
    select * from {{ ref('int_segments__account_matrix_segments') }}
),

final as (
    select
        -- ids
        accounts.company_id,

        -- strings
        accounts.company_name,
        accounts.industry,
        accounts.country,
        accounts.company_tier as account_tier,
        accounts.engagement_level as account_engagement_level,
        segments.segment as account_segment,
        segments.sales_action,
        segments.campaign_track,

        -- numerics
        accounts.employee_count,
        accounts.contacts,
        accounts.engaged_contacts,
        accounts.roles_covered,
        accounts.roles_total,
        accounts.roles_covered * 1.0 / nullif(accounts.roles_total, 0) as buying_committee_coverage,
        accounts.account_fit_score,
        accounts.account_engagement_score,
        accounts.lead_score as account_lead_score,

        -- dates
        {{ as_of_date() }} as as_of_date
    from accounts
    inner join segments
        on accounts.company_id = segments.company_id
)

select * from final
