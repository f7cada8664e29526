-- One row per scored lead with every segmentation dimension: company tier, engagement level,
-- lifecycle stage, funnel stage, lead-source group, persona, industry vertical, the
-- hierarchical segment (tier -> tier-vertical), region and the re-engagement flag.
with

leads as (
    select * from {{ ref('dim_leads') }}
),

activity as (
    select * from {{ ref('int_segments__lead_activity') }}
),

source_groups as (
    select * from {{ ref('lead_source_groups') }}
),

verticals as (
    select * from {{ ref('industry_verticals') }}
),

regions as (
    select * from {{ ref('country_regions') }}
),

engagement_levels as (
    select * from {{ ref('stg_segments__engagement_levels') }}
),

final as (
    select
        -- ids
        leads.contact_id,
        leads.company_id,

        -- strings
        -- Fewer than 200 employees is SMB; a lead whose company size is unknown
        -- (no company, free-mail) is treated as the smallest tier.
        coalesce(leads.size_band, 'SMB') as company_tier,
        engagement_levels.engagement_level,
        coalesce(leads.lifecycle_stage, 'unknown') as lifecycle_stage,
        coalesce(activity.funnel_stage, 'none') as funnel_stage,
        coalesce(source_groups.lead_source_group, 'other') as lead_source_group,
        leads.persona,
        coalesce(verticals.vertical, 'Other') as industry_vertical,
        coalesce(leads.size_band, 'SMB') || '-' || coalesce(verticals.vertical, 'Other')
            as hierarchical_segment,
        regions.region,
        leads.job_title,
        leads.seniority,
        leads.department,
        leads.industry,
        leads.country,
        leads.size_band,
        leads.lead_source,
        leads.lead_stage,
        leads.fit_grade,
        leads.priority,

        -- numerics
        leads.fit_score,
        leads.behavior_score,
        leads.lead_score,
        {% for name in [
            'pricing_page_views', 'product_page_views', 'blog_page_views', 'email_opens',
            'email_clicks', 'content_downloads', 'webinars_attended', 'form_submits',
            'demo_requests',
        ] %}
            coalesce(activity.{{ name }}, 0) as {{ name }},
        {% endfor %}

        -- booleans
        leads.size_band is not null as has_known_company_size,
        coalesce(activity.is_re_engaged, false) as is_re_engaged,
        leads.is_customer,
        leads.is_unsubscribed,

        -- dates
        activity.last_activity_at,
        leads.as_of_date
    from leads
    left join activity
        on leads.contact_id = activity.contact_id
    left join source_groups
        on leads.lead_source = source_groups.lead_source
    left join verticals
        on lower(leads.industry) = verticals.industry
    left join regions
        on leads.country = regions.country
    inner join engagement_levels
        on
            (
                engagement_levels.lower_bound is null
                or leads.behavior_score >= engagement_levels.lower_bound
            )
            and (
                engagement_levels.upper_bound is null
                or leads.behavior_score < engagement_levels.upper_bound
            )
)

select * from final
