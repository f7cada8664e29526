-- How fit and behaviour combine, and the floor and ceiling of each part.
with

weights as (
    select * from {{ ref('scoring_weights') }}
),

final as (
    select
        score_part,
        cast({{ as_number('weight') }} as {{ double_type() }}) as weight,
        cast({{ as_number('min_points') }} as {{ double_type() }}) as min_points,
        cast({{ as_number('max_points') }} as {{ double_type() }}) as max_points
    from weights
)

select * from final
