{# The Spark name of a column type DuckDB and PostgreSQL spell otherwise (varchar, float8). #}
{% macro spark_type_name(type_name) -%}
    {%- set spark_names = {'varchar': 'string', 'text': 'string', 'float8': 'double', 'double precision': 'double'} -%}
    {{- spark_names.get(type_name | lower | trim, type_name) -}}
{%- endmacro %}
