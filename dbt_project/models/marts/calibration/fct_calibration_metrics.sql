-- One row per evaluation date: how well the lead score on that date ranked the leads that
-- went on to convert. ROC AUC by the rank-sum (Mann-Whitney) formula, tied scores sharing
-- their average rank: AUC = (R - P(P + 1) / 2) / (P * N), R the rank sum of the P converted
-- leads, N the others. Precision and recall at the MQL and SQL thresholds use the stage each
-- lead was in on that date. Empty when there is no score snapshot on the evaluation date.
with

outcomes as (
    select * from {{ ref('int_calibration__scored_outcomes') }}
),

stage_bands as (
    select * from {{ ref('stg_scoring__score_bands') }}
    where band_type = 'stage'
),

by_score as (
    select
        lead_score,
        count(*) as leads,
        sum(case when is_converted then 1 else 0 end) as conversions
    from outcomes
    group by lead_score
),

ranked as (
    select
        leads,
        conversions,
        coalesce(
            sum(leads) over (
                order by lead_score rows between unbounded preceding and 1 preceding
            ),
            0
        ) as leads_below
    from by_score
),

rank_sum as (
    -- tied leads hold ranks leads_below + 1 .. leads_below + leads: their average is the midpoint
    select sum(conversions * (leads_below + (leads + 1) / 2.0)) as converted_rank_sum
    from ranked
),

totals as (
    select
        evaluation_date,
        window_end_date,
        window_days,
        count(*) as leads,
        sum(case when is_converted then 1 else 0 end) as conversions,
        sum(case when is_mql_or_above then 1 else 0 end) as mql_leads,
        sum(case when is_mql_or_above and is_converted then 1 else 0 end) as mql_conversions,
        sum(case when is_sql then 1 else 0 end) as sql_leads,
        sum(case when is_sql and is_converted then 1 else 0 end) as sql_conversions
    from outcomes
    group by evaluation_date, window_end_date, window_days
),

thresholds as (
    select
        max(case when band_rank = 2 then label end) as mql_label,
        max(case when band_rank = 2 then lower_bound end) as mql_threshold,
        max(case when upper_bound is null then label end) as sql_label,
        max(case when upper_bound is null then lower_bound end) as sql_threshold
    from stage_bands
),

final as (
    select
        -- strings
        cast(thresholds.mql_label as {{ text_type() }}) as mql_label,
        cast(thresholds.sql_label as {{ text_type() }}) as sql_label,

        -- numerics
        cast(totals.window_days as integer) as window_days,
        cast(totals.leads as bigint) as leads,
        cast(totals.conversions as bigint) as conversions,
        cast(totals.conversions * 1.0 / totals.leads as {{ double_type() }}) as conversion_rate,
        cast(
            (
                rank_sum.converted_rank_sum
                - totals.conversions * (totals.conversions + 1) / 2.0
            )
            / nullif(totals.conversions * 1.0 * (totals.leads - totals.conversions), 0)
            as {{ double_type() }}
        ) as roc_auc,
        cast(thresholds.mql_threshold as {{ double_type() }}) as mql_threshold,
        cast(totals.mql_leads as bigint) as mql_leads,
        cast(totals.mql_conversions as bigint) as mql_conversions,
        cast(totals.mql_conversions * 1.0 / nullif(totals.mql_leads, 0) as {{ double_type() }})
            as mql_precision,
        cast(totals.mql_conversions * 1.0 / nullif(totals.conversions, 0) as {{ double_type() }})
            as mql_recall,
        cast(thresholds.sql_threshold as {{ double_type() }}) as sql_threshold,
        cast(totals.sql_leads as bigint) as sql_leads,
        cast(totals.sql_conversions as bigint) as sql_conversions,
        cast(totals.sql_conversions * 1.0 / nullif(totals.sql_leads, 0) as {{ double_type() }})
            as sql_precision,
        cast(totals.sql_conversions * 1.0 / nullif(totals.conversions, 0) as {{ double_type() }})
            as sql_recall,

        -- dates
        cast(totals.evaluation_date as date) as evaluation_date,
        cast(totals.window_end_date as date) as window_end_date
    from totals
    cross join rank_sum
    cross join thresholds
)

select * from final
