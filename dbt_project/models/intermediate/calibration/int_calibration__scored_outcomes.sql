{%- set window_days = var('calibration_window_days') | int -%}
{%- set band_width = var('calibration_band_width') | int -%}
{%- set calibration_date = var('calibration_date', '') | string | trim -%}
{%- if calibration_date and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', calibration_date) -%}
    {{ exceptions.raise_compiler_error(
        "var calibration_date must be a date as YYYY-MM-DD or empty, got '" ~ calibration_date ~ "'"
    ) }}
{%- endif -%}
{%- if window_days < 1 or band_width < 1 -%}
    {{ exceptions.raise_compiler_error(
        "vars calibration_window_days and calibration_band_width must be positive whole numbers"
    ) }}
{%- endif -%}
{%- if calibration_date -%}
    {%- set evaluation_filter = "as_of_date = cast('" ~ calibration_date ~ "' as date)" -%}
{%- else -%}
    {%- set evaluation_filter = "as_of_date <= cast(" ~ dbt.dateadd('day', -window_days, as_of_date()) ~ " as date)" -%}
{%- endif -%}

-- One row per lead scored on the evaluation date E, point-in-time: its score, stage and grade
-- as they were on E (the score history snapshot of E) and whether it converted, i.e. had a
-- won deal closed in (E, E + calibration_window_days]. Leads that were already customers on E
-- are left out: the question is whether scores find new business. E is the `calibration_date`
-- var, else the latest snapshot whose whole window has elapsed by the as-of date. Without a
-- snapshot on E the model is empty (and so are the calibration marts).
with

history as (
    select * from {{ ref('fct_lead_score_history') }}
),

deals as (
    select * from {{ ref('stg_crm__deals') }}
),

stage_bands as (
    select * from {{ ref('stg_scoring__score_bands') }}
    where band_type = 'stage'
),

lead_limits as (
    select max_points from {{ ref('stg_scoring__weights') }}
    where score_part = 'lead'
),

evaluation as (
    select max(as_of_date) as evaluation_date
    from history
    where {{ evaluation_filter }}
),

evaluation_window as (
    select
        evaluation_date,
        -- outcomes are known up to the as-of date, never beyond
        least(
            cast({{ dbt.dateadd('day', window_days, 'evaluation_date') }} as date),
            {{ as_of_date() }}
        ) as window_end_date,
        cast({{ dbt.dateadd('day', window_days, 'evaluation_date') }} as date)
        <= {{ as_of_date() }} as is_window_complete
    from evaluation
    where evaluation_date is not null
),

won_deals as (
    select
        deals.contact_id,
        deals.closed_at
    from deals
    where deals.is_won and deals.contact_id is not null and deals.closed_at is not null
),

-- a day's snapshot counts everything up to the end of that day
outcomes as (
    select
        won_deals.contact_id,
        max(
            case
                when won_deals.closed_at < cast(evaluation_window.evaluation_date as timestamp)
                    + {{ one_day_interval() }}
                    then 1
                else 0
            end
        ) as was_customer,
        min(
            case
                when won_deals.closed_at >= cast(evaluation_window.evaluation_date as timestamp)
                    + {{ one_day_interval() }}
                    and won_deals.closed_at < cast(evaluation_window.window_end_date as timestamp)
                    + {{ one_day_interval() }}
                    then won_deals.closed_at
            end
        ) as converted_at
    from won_deals
    cross join evaluation_window
    group by won_deals.contact_id
),

stage_ranks as (
    select
        max(case when band_rank = 2 then band_rank end) as mql_rank,
        max(band_rank) as sql_rank
    from stage_bands
),

scored as (
    select
        history.contact_id,
        history.lead_stage,
        history.fit_grade,
        history.stage_rank,
        history.lead_score,
        evaluation_window.evaluation_date,
        evaluation_window.window_end_date,
        evaluation_window.is_window_complete,
        outcomes.converted_at,
        -- the band of the score ceiling would hold only perfect scores: it joins the band below
        least(
            cast(floor(history.lead_score / {{ band_width }}) as integer),
            cast(ceiling(lead_limits.max_points / {{ band_width }}) as integer) - 1
        ) * {{ band_width }} as band_floor,
        history.stage_rank >= stage_ranks.mql_rank as is_mql_or_above,
        history.stage_rank >= stage_ranks.sql_rank as is_sql
    from history
    inner join evaluation_window
        on history.as_of_date = evaluation_window.evaluation_date
    cross join lead_limits
    cross join stage_ranks
    left join outcomes
        on history.contact_id = outcomes.contact_id
    where coalesce(outcomes.was_customer, 0) = 0
),

final as (
    select
        -- ids
        contact_id,

        -- strings
        lead_stage,
        fit_grade,
        {{ dbt.concat([
            "cast(band_floor as " ~ text_type() ~ ")",
            "'-'",
            "cast(band_floor + " ~ band_width ~ " as " ~ text_type() ~ ")",
        ]) }} as score_band,

        -- numerics
        lead_score,
        stage_rank,
        band_floor,
        band_floor + {{ band_width }} as band_ceiling,
        {{ window_days }} as window_days,

        -- booleans
        is_mql_or_above,
        is_sql,
        converted_at is not null as is_converted,
        is_window_complete,

        -- dates
        evaluation_date,
        window_end_date,
        converted_at
    from scored
)

select * from final
