{#
    The behaviour state (int_scoring__rule_state) holds, per lead and event rule without a
    look-back, the totals of the days before a cutoff; scoring adds the recent days, the
    last `scoring_recent_days()` days up to the as-of date, from the day aggregates. Every
    window and look-back of the rules fits in the recent days, so only event totals need
    the state. `rules` is stg_scoring__behavior_rules.
#}
{% macro scoring_recent_days(rules) -%}
    {%- if not execute or model.resource_type == 'unit_test'
        or not _relations_exist([rules]) -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set result = run_query(
        "select max(case when coalesce(window_days, 0) > coalesce(lookback_days, 0) "
        ~ "then window_days else lookback_days end) from "
        ~ rules
    ) -%}
    {%- set days = result.rows[0][0] if result.rows | length > 0 else none -%}
    {{ return([1, (days or 1) | int] | max) }}
{%- endmacro %}
