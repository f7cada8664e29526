-- Score bands (stage, grade, engagement) as half-open ranges [lower_bound, upper_bound), so
-- every score falls in exactly one band of each type.
with

thresholds as (
    select * from {{ ref('scoring_thresholds') }}
),

typed as (
    select
        band_type,
        trim(label) as label,
        trim(description) as description,
        cast({{ as_number('min_score') }} as {{ double_type() }}) as min_score
    from thresholds
),

final as (
    select
        band_type,
        label,
        description,
        min_score as lower_bound,
        lead(min_score) over (
            partition by band_type order by min_score asc nulls first
        ) as upper_bound,
        row_number() over (
            partition by band_type order by min_score asc nulls first
        ) as band_rank
    from typed
)

select * from final
