-- What the HubSpot destination sends: one row per contact, keyed by the matching key, with
-- HubSpot's property names (custom contact properties in the `leadscore` group).
with

leads as (
    {{ sync_leads('hubspot', ref('int_sync__leads'), ref('sync_destinations')) }}
),

final as (
    select
        sync_key,
        fit_score as leadscore_fit_score,
        behavior_score as leadscore_behavior_score,
        lead_score as leadscore_lead_score,
        fit_grade as leadscore_grade,
        lead_stage as leadscore_stage,
        segment as leadscore_segment,
        sales_action as leadscore_sales_action,
        campaign_track as leadscore_campaign_track,
        owner_id as leadscore_owner_id,
        score_reasons as leadscore_score_reasons,
        score_change as leadscore_score_change,
        outreach_suppressed as leadscore_outreach_suppressed,
        score_updated_on as leadscore_updated_on
    from leads
)

select * from final
