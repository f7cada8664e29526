{{ config(materialized='view') }}

-- One row per lead, behaviour rule and day with matching events: the day aggregates of the
-- rule's signal (int_scoring__signal_activity_by_day), which rules that match the same events
-- share. A rule without decay gets no decay mass, although its signal may carry the mass of
-- a decayed rule with the same match.
with

signal_days as (
    select * from {{ ref('int_scoring__signal_activity_by_day') }}
),

rule_signals as (
    {{ rule_signals() }}
),

final as (
    select
        signal_days.contact_id,
        rule_signals.rule_id,
        signal_days.activity_date,
        signal_days.occurrences,
        case
            when rule_signals.half_life_days is not null then signal_days.decay_mass
        end as decay_mass,
        signal_days.last_occurred_at,
        signal_days.rules_version,
        signal_days._refreshed_at
    from signal_days
    inner join rule_signals
        on signal_days.signal_id = rule_signals.signal_id
)

select * from final
