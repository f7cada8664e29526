{% macro one_day_interval() -%}
    {{ return(adapter.dispatch('one_day_interval', 'leadscore')()) }}
{%- endmacro %}

{% macro default__one_day_interval() -%}
    interval '1 day'
{%- endmacro %}
