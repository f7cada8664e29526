-- Engagement levels as half-open ranges of the behaviour score [lower_bound, upper_bound),
-- so every score has exactly one level.
with

levels as (
    select * from {{ ref('segment_engagement_levels') }}
),

final as (
    select
        trim(engagement_level) as engagement_level,
        min_behavior_score as lower_bound,
        lead(min_behavior_score) over (order by min_behavior_score asc nulls first)
            as upper_bound
    from levels
)

select * from final
