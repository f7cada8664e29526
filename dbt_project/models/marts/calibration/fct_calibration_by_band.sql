-- One row per score band on the evaluation date: leads, conversions, conversion rate, lift
-- over the overall rate, the share of all conversions the band captured, and the same
-- figures cumulated from the top band down ("the top 3 bands hold 20% of leads and 70% of
-- conversions"). Empty when there is no score snapshot on the evaluation date.
with

outcomes as (
    select * from {{ ref('int_calibration__scored_outcomes') }}
),

bands as (
    select
        evaluation_date,
        window_end_date,
        window_days,
        score_band,
        band_floor,
        band_ceiling,
        count(*) as leads,
        sum(case when is_converted then 1 else 0 end) as conversions
    from outcomes
    group by evaluation_date, window_end_date, window_days, score_band, band_floor, band_ceiling
),

totals as (
    select
        sum(leads) as all_leads,
        sum(conversions) as all_conversions
    from bands
),

cumulated as (
    select
        bands.*,
        totals.all_leads,
        totals.all_conversions,
        sum(bands.leads) over (
            order by bands.band_floor desc rows between unbounded preceding and current row
        ) as leads_at_or_above,
        sum(bands.conversions) over (
            order by bands.band_floor desc rows between unbounded preceding and current row
        ) as conversions_at_or_above
    from bands
    cross join totals
),

final as (
    select
        -- strings
        cast(score_band as {{ text_type() }}) as score_band,

        -- numerics
        cast(band_floor as integer) as band_floor,
        cast(band_ceiling as integer) as band_ceiling,
        cast(window_days as integer) as window_days,
        cast(leads as bigint) as leads,
        cast(conversions as bigint) as conversions,
        cast(conversions * 1.0 / leads as {{ double_type() }}) as conversion_rate,
        cast(
            (conversions * 1.0 / leads) / nullif(all_conversions * 1.0 / all_leads, 0) as {{ double_type() }}
        ) as lift,
        cast(leads * 1.0 / all_leads as {{ double_type() }}) as share_of_leads,
        cast(conversions * 1.0 / nullif(all_conversions, 0) as {{ double_type() }}) as share_of_conversions,
        cast(leads_at_or_above as bigint) as leads_at_or_above,
        cast(conversions_at_or_above as bigint) as conversions_at_or_above,
        cast(conversions_at_or_above * 1.0 / leads_at_or_above as {{ double_type() }})
            as conversion_rate_at_or_above,
        cast(leads_at_or_above * 1.0 / all_leads as {{ double_type() }}) as cumulative_share_of_leads,
        cast(conversions_at_or_above * 1.0 / nullif(all_conversions, 0) as {{ double_type() }})
            as cumulative_share_of_conversions,

        -- dates
        cast(evaluation_date as date) as evaluation_date,
        cast(window_end_date as date) as window_end_date
    from cumulated
)

select * from final
