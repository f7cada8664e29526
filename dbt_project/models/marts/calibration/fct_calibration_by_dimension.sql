-- One row per dimension value on the evaluation date (lead stage, fit grade and segment as
-- they were then): leads, conversions, conversion rate, lift over the overall rate and the
-- share of all conversions captured. Empty when there is no score snapshot on the evaluation
-- date.
with

outcomes as (
    select * from {{ ref('int_calibration__scored_outcomes') }}
),

segment_history as (
    select * from {{ ref('fct_lead_segment_history') }}
),

leads as (
    select
        outcomes.*,
        coalesce(segment_history.segment, 'Unknown') as segment
    from outcomes
    left join segment_history
        on
            outcomes.contact_id = segment_history.contact_id
            and outcomes.evaluation_date = segment_history.as_of_date
),

by_value as (
    select
        'lead_stage' as dimension,
        lead_stage as dimension_value,
        min(stage_rank) as value_order,
        evaluation_date,
        count(*) as leads,
        sum(case when is_converted then 1 else 0 end) as conversions
    from leads
    group by lead_stage, evaluation_date

    union all

    select
        'fit_grade' as dimension,
        fit_grade as dimension_value,
        0 as value_order,
        evaluation_date,
        count(*) as leads,
        sum(case when is_converted then 1 else 0 end) as conversions
    from leads
    group by fit_grade, evaluation_date

    union all

    select
        'segment' as dimension,
        segment as dimension_value,
        0 as value_order,
        evaluation_date,
        count(*) as leads,
        sum(case when is_converted then 1 else 0 end) as conversions
    from leads
    group by segment, evaluation_date
),

totals as (
    select
        count(*) as all_leads,
        sum(case when is_converted then 1 else 0 end) as all_conversions
    from outcomes
),

final as (
    select
        -- strings
        cast(by_value.dimension as {{ text_type() }}) as dimension,
        cast(by_value.dimension_value as {{ text_type() }}) as dimension_value,

        -- numerics
        cast(by_value.value_order as integer) as value_order,
        cast(by_value.leads as bigint) as leads,
        cast(by_value.conversions as bigint) as conversions,
        cast(by_value.conversions * 1.0 / by_value.leads as {{ double_type() }}) as conversion_rate,
        cast(
            (by_value.conversions * 1.0 / by_value.leads)
            / nullif(totals.all_conversions * 1.0 / totals.all_leads, 0) as {{ double_type() }}
        ) as lift,
        cast(by_value.conversions * 1.0 / nullif(totals.all_conversions, 0) as {{ double_type() }})
            as share_of_conversions,

        -- dates
        cast(by_value.evaluation_date as date) as evaluation_date
    from by_value
    cross join totals
)

select * from final
