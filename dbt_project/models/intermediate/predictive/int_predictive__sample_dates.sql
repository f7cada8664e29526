{%- set window_days = var('calibration_window_days') | int -%}
{%- set calibration_date = var('calibration_date', '') | string | trim -%}
{%- if calibration_date -%}
    {%- set holdout_filter = "as_of_date = cast('" ~ calibration_date ~ "' as date)" -%}
{%- else -%}
    {%- set holdout_filter = "as_of_date <= cast(" ~ dbt.dateadd('day', -window_days, as_of_date()) ~ " as date)" -%}
{%- endif -%}
{%- set max_training_dates = 52 -%}

-- The dates the predictive model sees leads on, one row per date, and what each is for:
--   score     the as-of date: today's features, no outcome yet;
--   holdout   the calibration evaluation date E (the latest score snapshot whose outcome
--             window has elapsed, or as-of minus the window when there is none): the model is
--             judged there against the rule score, on the same leads and outcomes as the
--             calibration marts;
--   train     `training_dates` dates (seed predictive_settings), `training_step_days` apart,
--             the latest one a whole outcome window before E, so no training outcome falls
--             after E: the split is by time and nothing about the held-out period leaks.
with

settings as (
    select
        max(
            case
                when setting = 'training_dates'
                    then {{ dbt.safe_cast('value', api.Column.translate_type('integer')) }}
            end
        ) as training_dates,
        max(
            case
                when setting = 'training_step_days'
                    then {{ dbt.safe_cast('value', api.Column.translate_type('integer')) }}
            end
        ) as training_step_days
    from {{ ref('predictive_settings') }}
),

snapshots as (
    select distinct as_of_date from {{ ref('fct_lead_score_history') }}
),

holdout as (
    select
        coalesce(
            max(as_of_date),
            cast({{ dbt.dateadd('day', -window_days, as_of_date()) }} as date)
        ) as holdout_date
    from snapshots
    where {{ holdout_filter }}
),

steps as (
    select generated_number - 1 as step_index
    from ({{ dbt.generate_series(max_training_dates) }}) as series
),

training as (
    select
        cast(
            {{ dbt.dateadd(
                'day',
                '-(' ~ window_days ~ ' + steps.step_index * settings.training_step_days)',
                'holdout.holdout_date',
            ) }} as date
        ) as feature_date,
        'train' as sample_role
    from steps
    cross join settings
    cross join holdout
    where steps.step_index < settings.training_dates
),

dates as (
    select
        {{ as_of_date() }} as feature_date,
        'score' as sample_role
    union all
    select
        holdout_date as feature_date,
        'holdout' as sample_role
    from holdout
    union all
    select
        feature_date,
        sample_role
    from training
),

final as (
    select
        -- dates
        feature_date,

        -- strings
        sample_role,

        -- numerics
        {{ window_days }} as window_days,

        -- timestamps: a date's features count everything up to the end of that day; its
        -- outcome is a won deal closed in [feature_end, outcome_end)
        cast(feature_date as timestamp) + {{ one_day_interval() }} as feature_end,
        case
            when sample_role <> 'score'
                then least(
                        cast({{ dbt.dateadd('day', window_days, 'feature_date') }} as timestamp),
                        cast({{ as_of_date() }} as timestamp)
                    ) + {{ one_day_interval() }}
        end as outcome_end
    from dates
)

select * from final
