-- One row per lead and behaviour rule that gives points at the as-of date.
--   event:      points per matching event in the look-back, decayed continuously from the
--               day aggregates (see int_scoring__rule_activity_by_day), capped after decay;
--               count_once rules count only the most recent event.
--   frequency:  points once when min_count matching events fall in the last window_days.
--   recency:    points when any engagement falls in the last window_days.
--   inactivity: points when a lead older than the window had no engagement in it.
--   value:      the sum, maximum or average of an event attribute (time on site, a deal's
--               value) over the window (empty = all history): with `threshold`, points once
--               the aggregate reaches it; with `per_unit`, points for every per_unit of it
--               (both: per unit, once the threshold is reached); capped. A decayed sum decays
--               each event's value with its age; other value rules decay their points from
--               the latest matching event.
--   last_activity: points when the lead's most recent event (of any type) matches the rule
--               (and, with a window, falls in it); decayed from that event.
-- Windows count whole days ending with the as-of date (window 7 = the as-of day and the six
-- days before it).
--
-- Event totals read the behaviour state (int_scoring__rule_state: one row per lead and rule
-- for the days before its cutoff) plus the recent days, when the state fits the as-of date;
-- otherwise (a past as-of date, a first build) every day up to the as-of date. Both give the
-- same points (tests/test_incremental.py).
{%- set state = usable_rule_state(
    ref('int_scoring__rule_state'), ref('stg_scoring__behavior_rules'), ref('event_types')
) %}
with

profile as (
    select * from {{ ref('int_scoring__contact_profile') }}
),

rules as (
    select * from {{ ref('stg_scoring__behavior_rules') }}
),

-- Read twice (activity, window_totals): computed where it is read, not stored in between (a
-- stored copy of a month of rule days held more than DuckDB's memory at 1M leads and spilled).
days as {{ not_materialized() }} (
    select
        contact_id,
        rule_id,
        occurrences,
        decay_mass,
        last_occurred_at,
        value_count,
        value_sum,
        value_decay_mass,
        value_max,
        {{ dbt.datediff('activity_date', as_of_date(), 'day') }} as days_before_as_of,
        {{ dbt.datediff('activity_date', as_of_date(), 'day') }} + 1 as age_of_midnight_days
    from {{ ref('int_scoring__rule_activity_by_day') }}
    where
        activity_date <= {{ as_of_date() }}
        and activity_date >= cast('{{ state or "0001-01-01" }}' as date)
),

activity as (
    select * from days
    {% if state %}
        -- The days before the state's cutoff, one row per lead and rule, aged like a day
        -- whose midnight is mass_date; outside every window.
        union all
        select
            contact_id,
            rule_id,
            occurrences,
            mass as decay_mass,
            last_occurred_at,
            value_count,
            value_sum,
            value_mass as value_decay_mass,
            value_max,
            {{ max_days_before() }} as days_before_as_of,
            {{ dbt.datediff('mass_date', as_of_date(), 'day') }} + 1 as age_of_midnight_days
        from {{ ref('int_scoring__rule_state') }}
    {% endif %}
),

-- Rules apply to a lead when persona and customer scope match. Only inactivity rules can give
-- points without activity, so only they are paired with every lead; the other rules start
-- from the lead's totals (a cross join of every lead and rule is the costliest step at 1M
-- leads).
inactivity_rules as (
    select
        profile.contact_id,
        profile.created_at,
        rules.*
    from profile
    cross join rules
    where
        rules.rule_type = 'inactivity'
        and {{ rule_applies('rules', 'profile.persona', 'profile.is_customer') }}
),

event_totals as (
    select
        activity.contact_id,
        activity.rule_id,
        sum(activity.occurrences) as occurrences,
        max(activity.last_occurred_at) as last_occurred_at,
        sum(
            case
                when rules.half_life_days is null then activity.occurrences
                else activity.decay_mass * power(
                        cast(0.5 as {{ double_type() }}),
                        activity.age_of_midnight_days / rules.half_life_days
                    )
            end
        ) as decayed_occurrences
    from activity
    inner join rules
        on activity.rule_id = rules.rule_id
    where
        rules.rule_type = 'event'
        and (rules.lookback_days is null or activity.days_before_as_of < rules.lookback_days)
    group by activity.contact_id, activity.rule_id
),

-- Value rules: the count, sum, decayed sum and maximum of their event attribute in the window
-- (the state's rows and the recent days, or only the recent days for a window).
value_totals as (
    select
        activity.contact_id,
        activity.rule_id,
        sum(activity.occurrences) as occurrences,
        max(activity.last_occurred_at) as last_occurred_at,
        sum(activity.value_count) as value_count,
        sum(activity.value_sum) as value_sum,
        max(activity.value_max) as value_max,
        sum(
            case
                when rules.half_life_days is null then activity.value_sum
                else activity.value_decay_mass * power(
                        cast(0.5 as {{ double_type() }}),
                        activity.age_of_midnight_days / rules.half_life_days
                    )
            end
        ) as decayed_value_sum
    from activity
    inner join rules
        on activity.rule_id = rules.rule_id
    where
        rules.rule_type = 'value'
        and (rules.window_days is null or activity.days_before_as_of < rules.window_days)
    group by activity.contact_id, activity.rule_id
),

-- Last-activity rules: the latest matching event and the lead's latest event of any kind.
latest_matches as (
    select
        activity.contact_id,
        activity.rule_id,
        sum(activity.occurrences) as occurrences,
        max(activity.last_occurred_at) as last_occurred_at
    from activity
    inner join rules
        on activity.rule_id = rules.rule_id
    where
        rules.rule_type = 'last_activity'
        and (rules.window_days is null or activity.days_before_as_of < rules.window_days)
    group by activity.contact_id, activity.rule_id
),

latest_events as (
    select
        contact_id,
        max(last_occurred_at) as last_occurred_at
    from activity
    where rule_id = '_any_event'
    group by contact_id
),

-- Windows are recent: the state's rows (before every window) are not read here.
window_totals as (
    select
        days.contact_id,
        days.rule_id,
        sum(days.occurrences) as occurrences,
        max(days.last_occurred_at) as last_occurred_at
    from days
    inner join rules
        on days.rule_id = rules.rule_id
    where
        rules.rule_type in ('frequency', 'recency', 'inactivity')
        and days.days_before_as_of < rules.window_days
    group by days.contact_id, days.rule_id
),

event_components as (
    select
        event_totals.contact_id,
        event_totals.rule_id,
        applicable.rule_type,
        applicable.description,
        event_totals.occurrences,
        event_totals.last_occurred_at,
        cast(null as {{ text_type() }}) as matched_value,
        applicable.max_points,
        applicable.half_life_days is not null as is_decayed,
        case
            when applicable.is_count_once then applicable.points
            else applicable.points * event_totals.occurrences
        end as undecayed_points,
        case
            when applicable.is_count_once and applicable.half_life_days is null
                then applicable.points
            when applicable.is_count_once
                then applicable.points * power(
                        cast(0.5 as {{ double_type() }}),
                        {{ dbt.datediff('event_totals.last_occurred_at', as_of_end(), 'second') }}
                        / 86400.0 / applicable.half_life_days
                    )
            else applicable.points * event_totals.decayed_occurrences
        end as decayed_points
    from event_totals
    inner join rules as applicable
        on event_totals.rule_id = applicable.rule_id
    inner join profile
        on event_totals.contact_id = profile.contact_id
    where {{ rule_applies('applicable', 'profile.persona', 'profile.is_customer') }}
),

-- Frequency and recency rules give points from the lead's totals in the window.
window_components as (
    select
        window_totals.contact_id,
        window_totals.rule_id,
        applicable.rule_type,
        applicable.description,
        window_totals.occurrences,
        window_totals.last_occurred_at,
        cast(null as {{ text_type() }}) as matched_value,
        applicable.max_points,
        false as is_decayed,
        applicable.points as undecayed_points,
        applicable.points as decayed_points
    from window_totals
    inner join rules as applicable
        on window_totals.rule_id = applicable.rule_id
    inner join profile
        on window_totals.contact_id = profile.contact_id
    where
        {{ rule_applies('applicable', 'profile.persona', 'profile.is_customer') }}
        and (
            (applicable.rule_type = 'frequency' and window_totals.occurrences >= applicable.min_count)
            or (applicable.rule_type = 'recency' and window_totals.occurrences > 0)
        )
),

-- Inactivity rules give points to a lead older than the window with no engagement in it.
inactivity_components as (
    select
        inactivity_rules.contact_id,
        inactivity_rules.rule_id,
        inactivity_rules.rule_type,
        inactivity_rules.description,
        0 as occurrences,
        cast(null as timestamp) as last_occurred_at,
        cast(null as {{ text_type() }}) as matched_value,
        inactivity_rules.max_points,
        false as is_decayed,
        inactivity_rules.points as undecayed_points,
        inactivity_rules.points as decayed_points
    from inactivity_rules
    left join window_totals
        on
            inactivity_rules.contact_id = window_totals.contact_id
            and inactivity_rules.rule_id = window_totals.rule_id
    where
        window_totals.contact_id is null
        and inactivity_rules.created_at
        < {{ dbt.dateadd('day', '-inactivity_rules.window_days', as_of_end()) }}
),

value_aggregates as (
    select
        value_totals.*,
        case applicable.value_aggregate
            when 'sum' then value_totals.value_sum
            when 'max' then value_totals.value_max
            when 'avg' then value_totals.value_sum / value_totals.value_count
        end as aggregate_value,
        case
            when applicable.half_life_days is null then 1
            else power(
                    cast(0.5 as {{ double_type() }}),
                    {{ dbt.datediff('value_totals.last_occurred_at', as_of_end(), 'second') }}
                    / 86400.0 / applicable.half_life_days
                )
        end as latest_decay
    from value_totals
    inner join rules as applicable
        on value_totals.rule_id = applicable.rule_id
    where value_totals.value_count > 0
),

value_components as (
    select
        value_aggregates.contact_id,
        value_aggregates.rule_id,
        applicable.rule_type,
        applicable.description,
        value_aggregates.occurrences,
        value_aggregates.last_occurred_at,
        {{ format_points('value_aggregates.aggregate_value') }} as matched_value,
        applicable.max_points,
        applicable.half_life_days is not null as is_decayed,
        case
            when applicable.per_unit is null then applicable.points
            else applicable.points * value_aggregates.aggregate_value / applicable.per_unit
        end as undecayed_points,
        case
            when applicable.per_unit is null
                then applicable.points * value_aggregates.latest_decay
            when applicable.value_aggregate = 'sum'
                then applicable.points * value_aggregates.decayed_value_sum / applicable.per_unit
            else
                applicable.points * value_aggregates.aggregate_value / applicable.per_unit
                * value_aggregates.latest_decay
        end as decayed_points
    from value_aggregates
    inner join rules as applicable
        on value_aggregates.rule_id = applicable.rule_id
    inner join profile
        on value_aggregates.contact_id = profile.contact_id
    where
        {{ rule_applies('applicable', 'profile.persona', 'profile.is_customer') }}
        and (
            applicable.threshold is null
            or value_aggregates.aggregate_value >= applicable.threshold
        )
),

last_activity_components as (
    select
        latest_matches.contact_id,
        latest_matches.rule_id,
        applicable.rule_type,
        applicable.description,
        latest_matches.occurrences,
        latest_matches.last_occurred_at,
        cast(null as {{ text_type() }}) as matched_value,
        applicable.max_points,
        applicable.half_life_days is not null as is_decayed,
        applicable.points as undecayed_points,
        case
            when applicable.half_life_days is null then applicable.points
            else applicable.points * power(
                    cast(0.5 as {{ double_type() }}),
                    {{ dbt.datediff('latest_matches.last_occurred_at', as_of_end(), 'second') }}
                    / 86400.0 / applicable.half_life_days
                )
        end as decayed_points
    from latest_matches
    inner join latest_events
        on latest_matches.contact_id = latest_events.contact_id
    inner join rules as applicable
        on latest_matches.rule_id = applicable.rule_id
    inner join profile
        on latest_matches.contact_id = profile.contact_id
    where
        latest_matches.last_occurred_at >= latest_events.last_occurred_at
        and {{ rule_applies('applicable', 'profile.persona', 'profile.is_customer') }}
),

components as (
    select * from event_components
    union all
    select * from window_components
    union all
    select * from inactivity_components
    union all
    select * from value_components
    union all
    select * from last_activity_components
),

final as (
    select
        contact_id,
        rule_id,
        'behavior' as score_part,
        rule_type,
        description,
        matched_value,
        occurrences,
        last_occurred_at,
        undecayed_points,
        case
            when max_points is null then decayed_points
            when decayed_points >= 0 then least(decayed_points, max_points)
            else greatest(decayed_points, -max_points)
        end as points,
        is_decayed
    from components
)

select * from final
