-- One row per lead: the scores (sums of int_scoring__lead_score_components), their bands (stage from
-- the lead score, grade from fit, engagement level from behaviour), the fit x engagement
-- priority (A1 = best fit, most engaged) and the top reasons in words.
with

profile as (
    select * from {{ ref('int_scoring__contact_profile') }}
),

components as (
    select * from {{ ref('int_scoring__lead_score_components') }}
),

bands as (
    select * from {{ ref('stg_scoring__score_bands') }}
),

-- Rounded to 1e-6: the sums carry floating-point noise (100.00000000000006) that would
-- otherwise leak into bands and BI tools.
scores as (
    select
        profile.contact_id,
        {{ round_score("sum(case when components.score_part = 'fit' then components.points end)") }}
            as fit_score,
        {{ round_score(
            "sum(case when components.score_part = 'behavior' then components.points end)"
        ) }} as behavior_score,
        {{ round_score('sum(components.weighted_points)') }} as lead_score
    from profile
    left join components
        on profile.contact_id = components.contact_id
    group by profile.contact_id
),

-- Top three rules by absolute points, e.g. "Requested a demo (+30); Visited the pricing
-- page (+12.4, decayed)". Ranked on numbers first; only the three kept are put into words.
ranked_components as (
    select
        contact_id,
        description,
        points,
        is_decayed,
        -- Rounded so that equal points tie the same way on every engine.
        row_number() over (
            partition by contact_id
            order by cast(abs(points) as decimal(18, 6)) desc, rule_id asc
        ) as reason_rank
    from components
    where rule_type not in ('cap', 'base') and points <> 0
),

ranked_reasons as (
    select
        contact_id,
        reason_rank,
        description
        || ' ('
        || case when points >= 0 then '+' else '-' end
        || {{ format_points('abs(points)') }}
        || case when is_decayed then ', decayed' else '' end
        || ')' as reason
    from ranked_components
    where reason_rank <= 3
),

-- At most three per lead, so joined by position (cheaper than an ordered string aggregate).
reasons as (
    select
        contact_id,
        max(case when reason_rank = 1 then reason end)
        || coalesce('; ' || max(case when reason_rank = 2 then reason end), '')
        || coalesce('; ' || max(case when reason_rank = 3 then reason end), '') as score_reasons
    from ranked_reasons
    group by contact_id
),

final as (
    select
        -- ids
        scores.contact_id,

        -- strings
        stage.label as lead_stage,
        grade.label as fit_grade,
        engagement.label as engagement_level,
        grade.label || engagement.label as priority,
        coalesce(reasons.score_reasons, 'No scoring activity') as score_reasons,

        -- numerics
        scores.fit_score,
        scores.behavior_score,
        scores.lead_score,
        stage.band_rank as stage_rank,

        -- dates
        {{ as_of_date() }} as as_of_date
    from scores
    inner join bands as stage
        on
            stage.band_type = 'stage'
            and (stage.lower_bound is null or scores.lead_score >= stage.lower_bound)
            and (stage.upper_bound is null or scores.lead_score < stage.upper_bound)
    inner join bands as grade
        on
            grade.band_type = 'grade'
            and (grade.lower_bound is null or scores.fit_score >= grade.lower_bound)
            and (grade.upper_bound is null or scores.fit_score < grade.upper_bound)
    inner join bands as engagement
        on
            engagement.band_type = 'engagement'
            and (engagement.lower_bound is null or scores.behavior_score >= engagement.lower_bound)
            and (engagement.upper_bound is null or scores.behavior_score < engagement.upper_bound)
    left join reasons
        on scores.contact_id = reasons.contact_id
)

select * from final
