{#
    Column types spelled the same way in every model: `varchar` and `double precision` on
    DuckDB and PostgreSQL, `string` and `double` on Spark (which refuses a varchar without a
    length). dbt's own type_float() is not used: on DuckDB it is a 4-byte float.
#}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type', 'leadscore')()) }}
{%- endmacro %}

{% macro default__text_type() -%}
    varchar
{%- endmacro %}

{% macro spark__text_type() -%}
    string
{%- endmacro %}
