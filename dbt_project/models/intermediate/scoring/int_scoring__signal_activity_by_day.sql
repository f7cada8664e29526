{{
    config(
        pre_hook="{{ delete_changed_lead_days(
            ref('base_marketing__events'), ref('stg_scoring__behavior_rules'), ref('event_types')
        ) }}",
        **incremental_config(
            unique_key=['contact_id', 'activity_date'],
            strategy='append',
            on_schema_change='append_new_columns',
            materialized='day_chunked_incremental',
        )
    )
}}

-- One row per lead, signal and day with matching events: how many, the latest, the decay mass
-- S = sum(2 ^ (seconds since midnight / 86400 / half_life_days)) and, for the signals of value
-- rules, the count, sum, decayed sum (each value times its 2 ^ ...) and maximum of the event
-- attribute they read. A signal is what behaviour rules that match the same events share
-- (macros/scoring/rule_signals.sql); int_scoring__rule_activity_by_day gives each rule its
-- signal's rows.
--
-- Why S: exponential decay factorises. An event at time t, scored at as-of moment T, is worth
-- p * 0.5 ^ ((T - t) / h) = p * 0.5 ^ ((T - midnight) / h) * 2 ^ ((t - midnight) / h), so
-- summing S per day loses nothing: scoring multiplies it by the day's age factor and gets the
-- exact continuous decay. The table does not depend on the as-of date, so history, backtests
-- and a daily refresh read days instead of re-reading every event, and new events only ever
-- add or change the rows of their own day.
--
-- Incremental: a run aggregates again only the lead-days (a lead on a day) with an event row
-- that base_marketing__events (re)classified since the last run (new and late events,
-- duplicates resolved, contacts found), and everything when the behaviour rules or event
-- types changed (`rules_version`). The pre-hook deletes those lead-days and the run appends
-- them. Each lead-day is rebuilt whole from its events, so the result is the same as a full
-- refresh (tests/test_incremental.py), and a late event costs its lead's day, not the day's
-- events of every lead.
--
-- A full build of more than `day_aggregate_chunk_events` events runs in ranges of whole days,
-- one statement each: day_ranges() below marks where the range goes, and the materialization
-- (macros/materializations/day_chunked_incremental.sql) runs the query once per range.
{%- set base_events = ref('base_marketing__events') %}
{%- set stg_events = ref('stg_marketing__events') %}
{%- set rules = ref('stg_scoring__behavior_rules') %}
{%- set catalog = event_attribute_catalog(stg_events) %}
{%- set rules_version = behavior_rules_version(rules, ref('event_types')) %}
{%- set rebuild_all = not is_incremental() or stored_rules_version() != rules_version %}
{%- if rebuild_all %}
    {%- set events_condition = day_ranges('occurred_at', stg_events, scoring_state_cutoff(rules)) %}
{%- else %}
    {%- set first_day = first_changed_day(base_events) %}
    {%- set events_condition = "occurred_at >= cast('" ~ first_day ~ "' as timestamp)"
        if first_day else 'false' %}
{%- endif %}
with

events as (
    select events.* from {{ stg_events }} as events
    {%- if not rebuild_all %}
        -- The lead-days to aggregate again. A join on the lead and a range of time, not on
        -- cast(occurred_at as date): the engine hashes the leads and compares timestamps
        -- instead of casting every event.
        inner join ({{ changed_lead_days(base_events) }}) as lead_days
            on
                events.contact_id = lead_days.contact_id
                and events.occurred_at >= cast(lead_days.activity_date as timestamp)
                and events.occurred_at
                < {{ dbt.dateadd('day', 1, 'cast(lead_days.activity_date as timestamp)') }}
    {%- endif %}
    where {{ events_condition }}
),

event_types as (
    select
        event_type,
        is_engagement
    from {{ ref('event_types') }}
),

signals as (
    select distinct
        signal_id,
        match_kind,
        event_type,
        page_category,
        url_pattern,
        filter_attribute,
        filter_operator,
        filter_value,
        value_attribute,
        signal_half_life_days as half_life_days
    from ({{ rule_signals(rules) }}) as rule_signals
),

-- Signals of event, frequency, value and last-activity rules match on the event itself:
-- those with an event type by a join on it, those without (a filter alone) against every
-- event.
candidates as (
    select
        events.*,
        signals.signal_id,
        signals.half_life_days,
        signals.page_category as signal_page_category,
        signals.url_pattern,
        signals.filter_attribute,
        signals.filter_operator,
        signals.filter_value,
        signals.value_attribute
    from events
    inner join signals
        on events.event_type = signals.event_type
    where signals.match_kind = 'match'
    union all
    select
        events.*,
        signals.signal_id,
        signals.half_life_days,
        signals.page_category as signal_page_category,
        signals.url_pattern,
        signals.filter_attribute,
        signals.filter_operator,
        signals.filter_value,
        signals.value_attribute
    from events
    cross join signals
    where signals.match_kind = 'match' and signals.event_type is null
),

event_matches as (
    select
        candidates.contact_id,
        candidates.signal_id,
        candidates.half_life_days,
        candidates.occurred_at,
        case
            when candidates.value_attribute is not null
                then {{ parse_number(
                    event_attribute_value('candidates', 'candidates.value_attribute', catalog)
                ) }}
        end as event_value
    from candidates
    where
        (
            candidates.signal_page_category is null
            or candidates.page_category = candidates.signal_page_category
        )
        and (
            candidates.url_pattern is null
            or coalesce(
                {{ regexp_like('candidates.page_url', 'candidates.url_pattern') }}, false
            )
        )
        and (
            candidates.filter_attribute is null
            or {{ event_filter_matches(
                event_attribute_value('candidates', 'candidates.filter_attribute', catalog),
                'candidates.filter_operator',
                'candidates.filter_value'
            ) }}
        )
),

-- Signals of recency and inactivity rules look at any engagement event; the pseudo-rule of
-- last-activity rules at every event.
engagement_matches as (
    select
        events.contact_id,
        signals.signal_id,
        signals.half_life_days,
        events.occurred_at,
        cast(null as {{ double_type() }}) as event_value
    from events
    inner join event_types
        on events.event_type = event_types.event_type
    cross join signals
    where
        (signals.match_kind = 'engagement' and event_types.is_engagement)
        or signals.match_kind = 'any'
),

matches as (
    select * from event_matches
    union all
    select * from engagement_matches
),

final as (
    select
        contact_id,
        signal_id,
        cast(occurred_at as date) as activity_date,
        count(*) as occurrences,
        sum(
            power(
                cast(2 as {{ double_type() }}),
                {{ dbt.datediff(dbt.date_trunc('day', 'occurred_at'), 'occurred_at', 'second') }}
                / 86400.0 / half_life_days
            )
        ) as decay_mass,
        max(occurred_at) as last_occurred_at,
        '{{ rules_version }}' as rules_version,
        {{ run_timestamp() }} as _refreshed_at,
        -- after the lineage: columns added in a later release come last in a stored table
        count(event_value) as value_count,
        sum(event_value) as value_sum,
        sum(
            case
                when event_value is not null
                    then event_value * power(
                            cast(2 as {{ double_type() }}),
                            {{ dbt.datediff(
                                dbt.date_trunc('day', 'occurred_at'), 'occurred_at', 'second'
                            ) }}
                            / 86400.0 / half_life_days
                        )
            end
        ) as value_decay_mass,
        max(event_value) as value_max
    from matches
    group by contact_id, signal_id, cast(occurred_at as date)
)

select * from final
