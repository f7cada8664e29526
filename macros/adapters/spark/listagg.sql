{#
    dbt-spark's listagg drops the order (collect_list has none), so the same lead's custom
    segments or score reasons could come out in another order than on DuckDB. Spark 4 has
    listagg ... within group (order by ...), which keeps it.
#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not supported on Spark") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
