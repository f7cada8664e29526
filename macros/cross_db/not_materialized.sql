{#
    `with name as {{ not_materialized() }} (...)`: a CTE read twice that the engine should
    compute where it is read instead of storing its rows in between (DuckDB and PostgreSQL
    12+ take the keyword; other engines decide for themselves).
#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'leadscore')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro postgres__not_materialized() -%}
    not materialized
{%- endmacro %}
