{# A score as a double rounded to 1e-6, 0 when there is nothing to sum. #}
{% macro round_score(expression) -%}
    cast(cast(coalesce({{ expression }}, 0) as decimal(18, 6)) as {{ double_type() }})
{%- endmacro %}
