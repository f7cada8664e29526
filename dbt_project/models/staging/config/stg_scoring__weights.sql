-- How fit and behaviour combine, the floor and ceiling of each part, and the base score (the
-- `base` row's points, which every lead starts with).
with

weights as (
    select * from {{ ref('scoring_weights') }}
),

final as (
    select
        weights.score_part,
        cast({{ as_number('weights.weight') }} as {{ double_type() }}) as weight,
        cast({{ as_number('weights.min_points') }} as {{ double_type() }}) as min_points,
        cast({{ as_number('weights.max_points') }} as {{ double_type() }}) as max_points,
        cast({{ as_number(seed_column('weights', ref('scoring_weights'), 'points')) }} as {{ double_type() }})
            as points
    from weights
)

select * from final
