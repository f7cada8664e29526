{%- set window_days = var('calibration_window_days') | int -%}
{%- set calibration_date = var('calibration_date', '') | string | trim -%}
{%- if calibration_date -%}
    {%- set holdout_filter = "as_of_date = cast('" ~ calibration_date ~ "' as date)" -%}
{%- else -%}
    {%- set holdout_filter = "as_of_date <= cast(" ~ dbt.dateadd('day', -window_days, as_of_date()) ~ " as date)" -%}
{%- endif -%}
{%- set max_training_dates = 52 -%}
{#- Training windows tried, shortest first, when `training_window_days` is auto. -#}
{%- set candidate_windows = [7, 14, 30, 60] | select('lt', window_days) | list -%}
{%- set fit_min_wins = 30 -%}

-- The dates the predictive model sees leads on, one row per date, and what each is for:
--   score     the as-of date: today's features, no outcome yet;
--   holdout   the calibration evaluation date E (the latest score snapshot whose outcome
--             window has elapsed, or as-of minus the window when there is none): the model is
--             judged there against the rule score, on the same leads and outcomes as the
--             calibration marts (window `calibration_window_days`);
--   train     `training_dates` dates (seed predictive_settings), `training_step_days` apart,
--             the latest one a whole training window before E, so no training outcome falls
--             after E: the split is by time and nothing about the held-out period leaks.
-- The training window is `training_window_days`, or when it is `auto` fitted to how fast
-- leads win: the shortest of 7, 14, 30 and 60 days (below the calibration window) within
-- which at least 95% of the first won deals closed, counted from the lead's creation (see
-- win_speed), else the calibration window. Fast-closing funnels get a short window and
-- training dates closer to E; on slow ones nothing changes.
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
        ) as training_step_days,
        max(
            case
                when setting = 'training_window_days' then {{ parse_integer('value') }}
            end
        ) as training_window_days
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

-- How fast leads win: days from a lead's creation to its first won deal known by E. For a
-- window of c days, the wins of leads created at least 2c days before E (so that a win up to
-- twice as late would be known) must be at least 30, 95% of them within c days.
first_wins as (
    select
        contact_id,
        min(closed_at) as closed_at
    from {{ ref('stg_crm__deals') }}
    where is_won and contact_id is not null and closed_at is not null
    group by contact_id
),

win_times as (
    select
        {{ dbt.datediff('profile.created_at', 'holdout.holdout_date', 'day') }} as days_observed,
        {{ dbt.datediff('profile.created_at', 'first_wins.closed_at', 'day') }} as days_to_win
    from {{ ref('int_scoring__contact_profile') }} as profile
    inner join first_wins
        on profile.contact_id = first_wins.contact_id
    cross join holdout
    where first_wins.closed_at < cast(holdout.holdout_date as timestamp) + {{ one_day_interval() }}
),

win_speed as (
    select
        {%- for days in candidate_windows %}
            sum(case when days_observed >= {{ 2 * days }} then 1 else 0 end) as wins_{{ days }},
            sum(
                case
                    when days_observed >= {{ 2 * days }} and days_to_win <= {{ days }} then 1
                    else 0
                end
            ) as within_{{ days }},
        {%- endfor %}
        count(*) as wins
    from win_times
),

training_window as (
    select
        coalesce(
            settings.training_window_days,
            case
                {%- for days in candidate_windows %}
                    when
                        win_speed.wins_{{ days }} >= {{ fit_min_wins }}
                        and win_speed.within_{{ days }} >= 0.95 * win_speed.wins_{{ days }}
                        then {{ days }}
                {%- endfor %}
                else {{ window_days }}
            end
        ) as window_days
    from settings
    cross join win_speed
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
                '-(training_window.window_days + steps.step_index * settings.training_step_days)',
                'holdout.holdout_date',
            ) }} as date
        ) as feature_date,
        'train' as sample_role,
        training_window.window_days
    from steps
    cross join settings
    cross join holdout
    cross join training_window
    where steps.step_index < settings.training_dates
),

dates as (
    select
        {{ as_of_date() }} as feature_date,
        'score' as sample_role,
        {{ window_days }} as window_days
    union all
    select
        holdout_date as feature_date,
        'holdout' as sample_role,
        {{ window_days }} as window_days
    from holdout
    union all
    select
        feature_date,
        sample_role,
        window_days
    from training
),

final as (
    select
        -- dates
        feature_date,

        -- strings
        sample_role,

        -- numerics
        window_days,

        -- timestamps: a date's features count everything up to the end of that day; its
        -- outcome is a won deal closed in [feature_end, outcome_end)
        cast(feature_date as timestamp) + {{ one_day_interval() }} as feature_end,
        case
            when sample_role <> 'score'
                then least(
                        cast({{ dbt.dateadd('day', 'window_days', 'feature_date') }} as timestamp),
                        cast({{ as_of_date() }} as timestamp)
                    ) + {{ one_day_interval() }}
        end as outcome_end
    from dates
)

select * from final
