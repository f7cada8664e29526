-- What the postgres destination sends: one row per lead, keyed by the matching key.
with

leads as (
    {{ sync_leads('postgres', ref('int_sync__leads'), ref('sync_destinations')) }}
),

final as (
    select
        sync_key,
        fit_score,
        behavior_score,
        lead_score,
        fit_grade,
        lead_stage,
        segment,
        sales_action,
        campaign_track,
        queue,
        owner_id,
        owner_name,
        score_reasons,
        score_change,
        outreach_suppressed,
        score_updated_on
    from leads
)

select * from final
