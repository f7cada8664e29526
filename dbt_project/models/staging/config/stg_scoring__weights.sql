-- How fit and behaviour combine, the floor and ceiling of each part, and the base score (the
-- `base` row's points, which every lead starts with).
{%- set weights_seed = ref('scoring_weights') %}
with

weights as (
    select * from {{ weights_seed }}
),

final as (
    select
        weights.score_part,
        cast({{ as_number('weights.weight') }} as {{ double_type() }}) as weight,
        cast({{ as_number('weights.min_points') }} as {{ double_type() }}) as min_points,
        cast({{ as_number('weights.max_points') }} as {{ double_type() }}) as max_points,
        cast({{ as_number(seed_column('weights', weights_seed, 'points')) }} as {{ double_type() }})
            as points
    from weights
)

select * from final
