{#
    Each rule's day aggregates: the rows of its signal in `activity`
    (int_scoring__signal_activity_by_day; `rules` as in rule_signals()) that meet `condition`, with the decay masses only for rules that decay. The condition is
    on the signal rows (alias `activity`) and applies before they are repeated for each rule
    of the signal, so a filter on leads or days reads only their rows.
#}
{% macro rule_days(activity, rules, condition='true') %}
    select
        activity.contact_id,
        rule_signals.rule_id,
        activity.activity_date,
        activity.occurrences,
        case
            when rule_signals.half_life_days is not null then activity.decay_mass
        end as decay_mass,
        activity.last_occurred_at,
        activity.value_count,
        activity.value_sum,
        case
            when rule_signals.half_life_days is not null then activity.value_decay_mass
        end as value_decay_mass,
        activity.value_max,
        activity.rules_version,
        activity._refreshed_at
    from (
        select * from {{ activity }} as activity
        where {{ condition }}
    ) as activity
    inner join ({{ rule_signals(rules) }}) as rule_signals
        on activity.signal_id = rule_signals.signal_id
{% endmacro %}
