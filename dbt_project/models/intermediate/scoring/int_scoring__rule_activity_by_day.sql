{{ config(materialized='view') }}

-- One row per lead, behaviour rule and day with matching events: the day aggregates of the
-- rule's signal (int_scoring__signal_activity_by_day), which rules that match the same events
-- share. A rule without decay gets no decay mass, although its signal may carry the mass of
-- a decayed rule with the same match. The query is the macro rule_days()
-- (macros/scoring/rule_days.sql), which the behaviour state also reads with its filters.
{{ rule_days(ref('int_scoring__signal_activity_by_day'), ref('stg_scoring__behavior_rules')) }}
