-- One row per lead with every value a destination may receive: scores rounded to whole
-- points (what a CRM shows, and a decimal that moves every day would resend every lead),
-- stage, grade, segment, the outreach fields, owner, reasons and change. Reads the published
-- segment mart directly, so the blocking checks on that mart gate every sync.
with

segments as (
    select * from {{ ref('dim_lead_segments') }}
),

leads as (
    select
        contact_id,
        email,
        score_reasons,
        score_change
    from {{ ref('dim_leads') }}
),

final as (
    select
        -- ids
        segments.contact_id,
        segments.owner_id,

        -- strings
        leads.email,
        segments.fit_grade,
        segments.lead_stage,
        segments.segment,
        segments.sales_action,
        segments.campaign_track,
        segments.queue,
        segments.owner_name,
        leads.score_reasons,

        -- numerics
        cast(round(segments.fit_score) as integer) as fit_score,
        cast(round(segments.behavior_score) as integer) as behavior_score,
        cast(round(segments.lead_score) as integer) as lead_score,
        cast(round(leads.score_change) as integer) as score_change,

        -- booleans
        segments.is_unsubscribed,

        -- dates
        segments.as_of_date as score_updated_on
    from segments
    inner join leads
        on segments.contact_id = leads.contact_id
)

select * from final
