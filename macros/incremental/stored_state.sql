{# What the stored state covers: (covered_until as YYYY-MM-DD or none, rules_version). #}
{% macro stored_state(relation) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return([none, '']) }}
    {%- endif -%}
    {%- set result = run_query(
        "select cast(max(covered_until) as " ~ text_type() ~ "), max(rules_version) from " ~ relation
    ) -%}
    {%- set row = result.rows[0] -%}
    {{ return([row[0], row[1] or '']) }}
{%- endmacro %}
