{{
    config(
        pre_hook="{{ delete_changed_event_days() }}",
        **incremental_config(unique_key='activity_date', strategy='append')
    )
}}

-- depends_on: {{ ref('base_marketing__events') }}
-- One row per lead, behaviour rule and day with matching events: how many, the latest, and
-- the decay mass S = sum(2 ^ (seconds since midnight / 86400 / half_life_days)).
--
-- Why S: exponential decay factorises. An event at time t, scored at as-of moment T, is worth
-- p * 0.5 ^ ((T - t) / h) = p * 0.5 ^ ((T - midnight) / h) * 2 ^ ((t - midnight) / h), so
-- summing S per day loses nothing: scoring multiplies it by the day's age factor and gets the
-- exact continuous decay. The table does not depend on the as-of date, so history, backtests
-- and a daily refresh read days instead of re-reading every event, and new events only ever
-- add or change the rows of their own day.
--
-- Incremental: a run aggregates again only the days with an event row that
-- base_marketing__events (re)classified since the last run (new and late events, duplicates
-- resolved, contacts found), and every day when the behaviour rules or event types changed
-- (`rules_version`). The pre-hook deletes those days and the run appends them. Each day is rebuilt whole from its events, so the result is the same as a
-- full refresh (tests/test_incremental.py).
{%- set rules_version = behavior_rules_version() %}
{%- set rebuild_all = not is_incremental() or stored_rules_version() != rules_version %}
with

events as (
    select * from {{ ref('stg_marketing__events') }}
    {% if not rebuild_all %}
        where cast(occurred_at as date) in ({{ changed_event_days() }})
    {% endif %}
),

event_types as (
    select
        event_type,
        is_engagement
    from {{ ref('event_types') }}
),

-- Aggregated by a small integer per rule, joined back to rule_id after grouping: the
-- aggregate holds one entry per lead, rule and day (about three per event), and a number
-- keeps each entry a fraction of the size of a rule id string.
rules as (
    select
        *,
        row_number() over (order by rule_id) as rule_number
    from {{ ref('stg_scoring__behavior_rules') }}
),

-- Event and frequency rules match on the event itself.
event_matches as (
    select
        events.contact_id,
        rules.rule_number,
        rules.half_life_days,
        events.occurred_at
    from events
    inner join rules
        on events.event_type = rules.event_type
    where
        rules.rule_type in ('event', 'frequency')
        and (rules.page_category is null or events.page_category = rules.page_category)
        and (
            rules.url_pattern is null
            or coalesce({{ regexp_like('events.page_url', 'rules.url_pattern') }}, false)
        )
),

-- Recency and inactivity rules look at any engagement event.
engagement_matches as (
    select
        events.contact_id,
        rules.rule_number,
        rules.half_life_days,
        events.occurred_at
    from events
    inner join event_types
        on events.event_type = event_types.event_type
    cross join rules
    where rules.rule_type in ('recency', 'inactivity') and event_types.is_engagement
),

matches as (
    select * from event_matches
    union all
    select * from engagement_matches
),

days as (
    select
        contact_id,
        rule_number,
        cast(occurred_at as date) as activity_date,
        count(*) as occurrences,
        sum(
            power(
                cast(2 as {{ double_type() }}),
                {{ dbt.datediff(dbt.date_trunc('day', 'occurred_at'), 'occurred_at', 'second') }}
                / 86400.0 / half_life_days
            )
        ) as decay_mass,
        max(occurred_at) as last_occurred_at
    from matches
    group by contact_id, rule_number, cast(occurred_at as date)
),

final as (
    select
        days.contact_id,
        rules.rule_id,
        days.activity_date,
        days.occurrences,
        days.decay_mass,
        days.last_occurred_at,
        '{{ rules_version }}' as rules_version,
        {{ run_timestamp() }} as _refreshed_at
    from days
    inner join rules
        on days.rule_number = rules.rule_number
)

select * from final
