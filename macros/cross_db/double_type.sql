{# An 8-byte float, spelled as each engine does (see text_type). #}
{% macro double_type() -%}
    {{ return(adapter.dispatch('double_type', 'leadscore')()) }}
{%- endmacro %}

{% macro default__double_type() -%}
    double precision
{%- endmacro %}

{% macro spark__double_type() -%}
    double
{%- endmacro %}
