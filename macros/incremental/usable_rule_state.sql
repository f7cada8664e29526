{# int_scoring__behavior_components: the cutoff of the behaviour state (`rule_state`,
   int_scoring__rule_state) when it fits this as-of date (built with the current rules,
   cutoff not after the as-of date's), else none and scoring reads every day. #}
{% macro usable_rule_state(rule_state, rules, event_types) -%}
    {%- if not execute or model.resource_type == 'unit_test'
        or not _relations_exist([rule_state]) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query(
        "select cast(max(covered_until) as " ~ text_type() ~ "), min(rules_version), max(rules_version) from "
        ~ rule_state
    ) -%}
    {%- set row = result.rows[0] -%}
    {%- set version = behavior_rules_version(rules, event_types) -%}
    {%- if row[0] is none or row[1] != version or row[2] != version -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(row[0] if row[0] <= scoring_state_cutoff(rules) else none) }}
{%- endmacro %}
