{# First day the recent part covers, as YYYY-MM-DD: the state holds the days before it. #}
{% macro scoring_state_cutoff(rules) -%}
    {%- set as_of = modules.datetime.date.fromisoformat(as_of_date_literal()) -%}
    {%- set cutoff = as_of - modules.datetime.timedelta(days=scoring_recent_days(rules) - 1) -%}
    {{ return(cutoff.isoformat()) }}
{%- endmacro %}
