-- One row per lead: who they are, their scores at the as-of date, stage, grade, priority,
-- the reasons in words, and what changed since the previous snapshot ("just heated up").
{%- set previous_snapshot = history_neighbours(ref('fct_lead_score_history'))[0] %}
with

scores as (
    select * from {{ ref('int_lead_scores') }}
),

profile as (
    select * from {{ ref('int_scoring__contact_profile') }}
),

contacts as (
    select
        contact_id,
        email
    from {{ ref('stg_crm__contacts') }}
),

-- The snapshot before the as-of date (one date of the history, not all of it).
previous_snapshots as (
    select
        contact_id,
        lead_score,
        lead_stage,
        as_of_date
    from {{ ref('fct_lead_score_history') }}
    where as_of_date = cast('{{ previous_snapshot or "0001-01-01" }}' as date)
),

stage_entries as (
    select
        contact_id,
        max(transitioned_on) as stage_since
    from {{ ref('fct_lead_stage_transitions') }}
    where transitioned_on <= {{ as_of_date() }}
    group by contact_id
),

final as (
    select
        -- ids
        scores.contact_id,
        profile.company_id,

        -- strings
        contacts.email,
        profile.job_title,
        profile.seniority,
        profile.department,
        profile.persona,
        profile.industry,
        profile.size_band,
        profile.country,
        profile.lead_source,
        profile.lifecycle_stage,
        scores.lead_stage,
        scores.fit_grade,
        scores.engagement_level,
        scores.priority,
        scores.score_reasons,
        previous_snapshots.lead_stage as previous_lead_stage,

        -- numerics
        scores.fit_score,
        scores.behavior_score,
        scores.lead_score,
        previous_snapshots.lead_score as previous_lead_score,
        scores.lead_score - previous_snapshots.lead_score as score_change,

        -- booleans
        profile.is_customer,
        profile.is_unsubscribed,

        -- dates
        stage_entries.stage_since,
        previous_snapshots.as_of_date as previous_as_of_date,
        scores.as_of_date
    from scores
    inner join profile
        on scores.contact_id = profile.contact_id
    inner join contacts
        on scores.contact_id = contacts.contact_id
    left join previous_snapshots
        on scores.contact_id = previous_snapshots.contact_id
    left join stage_entries
        on scores.contact_id = stage_entries.contact_id
)

select * from final
