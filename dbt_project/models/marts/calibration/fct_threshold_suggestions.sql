-- One row per stage (MQL, SQL) and target_type: the stage's current cut-off next to the one the
-- evaluation date suggests, with leads, conversions, conversion rate and recall at both.
-- Targets come from the `calibration_targets` seed:
-- - target_conversion_rate: the lowest whole-point cut-off whose leads (score at or above it)
--   convert at least at the target rate (the most leads that still meet the rate);
-- - weekly_capacity: the lowest cut-off whose leads can be worked within the outcome window
--   at that many leads a week (at most weekly_capacity * window_days / 7 leads).
-- A suggestion is empty when no cut-off meets its target. Empty when there is no score
-- snapshot on the evaluation date.
with

outcomes as (
    select * from {{ ref('int_calibration__scored_outcomes') }}
),

targets as (
    select * from {{ ref('calibration_targets') }}
),

stage_bands as (
    select * from {{ ref('stg_scoring__score_bands') }}
    where band_type = 'stage'
),

totals as (
    select
        evaluation_date,
        window_days,
        count(*) as all_leads,
        sum(case when is_converted then 1 else 0 end) as all_conversions
    from outcomes
    group by evaluation_date, window_days
),

by_cutoff as (
    select
        cast(floor(lead_score) as integer) as cutoff,
        count(*) as leads,
        sum(case when is_converted then 1 else 0 end) as conversions
    from outcomes
    group by cast(floor(lead_score) as integer)
),

-- every whole-point cut-off a score reaches, with the leads at or above it
candidates as (
    select
        cutoff,
        sum(leads) over (
            order by cutoff desc rows between unbounded preceding and current row
        ) as leads,
        sum(conversions) over (
            order by cutoff desc rows between unbounded preceding and current row
        ) as conversions
    from by_cutoff
),

stage_targets as (
    select
        targets.stage,
        stage_bands.lower_bound as current_threshold,
        'target_conversion_rate' as target_type,
        cast(targets.target_conversion_rate as {{ double_type() }}) as target_value
    from targets
    inner join stage_bands
        on targets.stage = stage_bands.label

    union all

    select
        targets.stage,
        stage_bands.lower_bound as current_threshold,
        'weekly_capacity' as target_type,
        cast(targets.weekly_capacity as {{ double_type() }}) as target_value
    from targets
    inner join stage_bands
        on targets.stage = stage_bands.label
),

suggested as (
    select
        stage_targets.stage,
        stage_targets.target_type,
        min(candidates.cutoff) as suggested_threshold
    from stage_targets
    cross join totals
    inner join candidates
        on
            (
                stage_targets.target_type = 'target_conversion_rate'
                and candidates.conversions * 1.0 / candidates.leads >= stage_targets.target_value
            )
            or (
                stage_targets.target_type = 'weekly_capacity'
                and candidates.leads <= stage_targets.target_value * totals.window_days / 7.0
            )
    group by stage_targets.stage, stage_targets.target_type
),

current_counts as (
    select
        stage_targets.stage,
        stage_targets.target_type,
        count(outcomes.contact_id) as leads,
        sum(case when outcomes.is_converted then 1 else 0 end) as conversions
    from stage_targets
    left join outcomes
        on stage_targets.current_threshold <= outcomes.lead_score
    group by stage_targets.stage, stage_targets.target_type
),

final as (
    select
        -- strings
        cast(stage_targets.stage as {{ text_type() }}) as stage,
        cast(stage_targets.target_type as {{ text_type() }}) as target_type,

        -- numerics
        cast(stage_targets.target_value as {{ double_type() }}) as target_value,
        cast(totals.window_days as integer) as window_days,
        cast(stage_targets.current_threshold as {{ double_type() }}) as current_threshold,
        cast(current_counts.leads as bigint) as current_leads,
        cast(coalesce(current_counts.conversions, 0) as bigint) as current_conversions,
        cast(current_counts.conversions * 1.0 / nullif(current_counts.leads, 0) as {{ double_type() }})
            as current_conversion_rate,
        cast(current_counts.conversions * 1.0 / nullif(totals.all_conversions, 0) as {{ double_type() }})
            as current_recall,
        cast(suggested.suggested_threshold as {{ double_type() }}) as suggested_threshold,
        cast(candidates.leads as bigint) as suggested_leads,
        cast(candidates.conversions as bigint) as suggested_conversions,
        cast(candidates.conversions * 1.0 / nullif(candidates.leads, 0) as {{ double_type() }})
            as suggested_conversion_rate,
        cast(candidates.conversions * 1.0 / nullif(totals.all_conversions, 0) as {{ double_type() }})
            as suggested_recall,

        -- dates
        cast(totals.evaluation_date as date) as evaluation_date
    from stage_targets
    cross join totals
    inner join current_counts
        on
            stage_targets.stage = current_counts.stage
            and stage_targets.target_type = current_counts.target_type
    left join suggested
        on
            stage_targets.stage = suggested.stage
            and stage_targets.target_type = suggested.target_type
    left join candidates
        on suggested.suggested_threshold = candidates.cutoff
)

select * from final
