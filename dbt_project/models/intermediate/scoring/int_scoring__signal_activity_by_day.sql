{{
    config(
        pre_hook="{{ delete_changed_lead_days(
            ref('base_marketing__events'), ref('stg_scoring__behavior_rules'), ref('event_types')
        ) }}",
        post_hook="{{ insert_other_day_ranges(
            ref('stg_marketing__events'), ref('event_types'), ref('stg_scoring__behavior_rules')
        ) }}",
        **incremental_config(
            unique_key=['contact_id', 'activity_date'],
            strategy='append',
            on_schema_change='append_new_columns',
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
-- A full build of more than `day_aggregate_chunk_events` events runs in ranges of whole days:
-- this query aggregates the first range, the post-hook the others
-- (macros/scoring/insert_other_day_ranges.sql).
-- The query itself is the macro rule_activity_days().
{%- set base_events = ref('base_marketing__events') %}
{%- set events = ref('stg_marketing__events') %}
{%- set event_types = ref('event_types') %}
{%- set rules = ref('stg_scoring__behavior_rules') %}
{%- set rules_version = behavior_rules_version(rules, event_types) %}
{%- set rebuild_all = not is_incremental() or stored_rules_version() != rules_version %}
{%- if not rebuild_all %}
    {%- set first_day = first_changed_day(base_events) %}
    {%- set condition = "occurred_at >= cast('" ~ first_day ~ "' as timestamp)"
        if first_day else 'false' %}
    {{ rule_activity_days(
        events, event_types, rules, condition, rules_version,
        lead_days=changed_lead_days(base_events),
    ) }}
{%- else %}
    {{ rule_activity_days(
        events, event_types, rules, (rebuild_day_ranges(events, rules) or ['true'])[0],
        rules_version,
    ) }}
{%- endif %}
