-- One row per lead and rule with the points it gives at the as-of date: the explanation of
-- every score. Caps and the base score are components too (rule_type 'cap', 'base'), so each
-- score is exactly the sum of its components: fit_score = sum(points) of the fit part,
-- behavior_score likewise, and lead_score = sum(weighted_points) over all rows (a data test
-- holds dim_leads to it). Fit rules whose score_part is `behavior` (an export's activity
-- columns) count in the behaviour part.
with

profile as (
    select contact_id from {{ ref('int_scoring__contact_profile') }}
),

weights as (
    select * from {{ ref('stg_scoring__weights') }}
),

rule_components as (
    select * from {{ ref('int_scoring__fit_components') }}
    union all
    select * from {{ ref('int_scoring__behavior_components') }}
),

part_totals as (
    select
        profile.contact_id,
        coalesce(sum(case when rule_components.score_part = 'fit' then rule_components.points end), 0)
            as fit_raw,
        coalesce(
            sum(case when rule_components.score_part = 'behavior' then rule_components.points end), 0
        ) as behavior_raw
    from profile
    left join rule_components
        on profile.contact_id = rule_components.contact_id
    group by profile.contact_id
),

clamped as (
    select
        part_totals.*,
        least(greatest(part_totals.fit_raw, fit.min_points), fit.max_points) as fit_score,
        least(greatest(part_totals.behavior_raw, behavior.min_points), behavior.max_points)
            as behavior_score,
        fit.weight as fit_weight,
        behavior.weight as behavior_weight,
        lead.min_points as lead_min,
        lead.max_points as lead_max,
        coalesce(base.points, 0) as base_points
    from part_totals
    cross join weights as fit
    cross join weights as behavior
    cross join weights as lead
    left join weights as base
        on base.score_part = 'base'
    where fit.score_part = 'fit' and behavior.score_part = 'behavior' and lead.score_part = 'lead'
),

weighted as (
    select
        *,
        base_points + fit_weight * fit_score + behavior_weight * behavior_score as lead_raw
    from clamped
),

combined as (
    select
        *,
        least(greatest(lead_raw, lead_min), lead_max) as lead_score
    from weighted
),

base_and_cap_components as (
    select
        contact_id,
        '_base' as rule_id,
        'base' as score_part,
        'base' as rule_type,
        'Base score' as description,
        base_points as points,
        1 as weight
    from combined
    where base_points <> 0
    union all
    select
        contact_id,
        '_fit_cap' as rule_id,
        'fit' as score_part,
        'cap' as rule_type,
        'Fit score kept within its limits' as description,
        fit_score - fit_raw as points,
        fit_weight as weight
    from combined
    where fit_score <> fit_raw
    union all
    select
        contact_id,
        '_behavior_cap' as rule_id,
        'behavior' as score_part,
        'cap' as rule_type,
        'Behaviour score kept within its limits' as description,
        behavior_score - behavior_raw as points,
        behavior_weight as weight
    from combined
    where behavior_score <> behavior_raw
    union all
    select
        contact_id,
        '_lead_cap' as rule_id,
        'lead' as score_part,
        'cap' as rule_type,
        'Lead score kept within its limits' as description,
        lead_score - lead_raw as points,
        1 as weight
    from combined
    where lead_score <> lead_raw
),

final as (
    select
        -- ids
        rule_components.contact_id,
        rule_components.rule_id,

        -- strings
        rule_components.score_part,
        rule_components.rule_type,
        rule_components.description,
        rule_components.matched_value,

        -- numerics
        rule_components.occurrences,
        rule_components.undecayed_points,
        rule_components.points,
        weights.weight,
        rule_components.points * weights.weight as weighted_points,

        -- booleans
        rule_components.is_decayed,

        -- dates
        rule_components.last_occurred_at,
        {{ as_of_date() }} as as_of_date
    from rule_components
    inner join weights
        on rule_components.score_part = weights.score_part
    union all
    select
        contact_id,
        rule_id,
        score_part,
        rule_type,
        description,
        cast(null as {{ text_type() }}) as matched_value,
        cast(null as bigint) as occurrences,
        points as undecayed_points,
        points,
        weight,
        points * weight as weighted_points,
        false as is_decayed,
        cast(null as timestamp) as last_occurred_at,
        {{ as_of_date() }} as as_of_date
    from base_and_cap_components
)

select * from final
