{# Days before the as-of date of the state's rows: beyond every window and look-back. #}
{% macro max_days_before() -%}
    1000000
{%- endmacro %}
