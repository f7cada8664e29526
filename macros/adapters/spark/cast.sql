{# The contracts of the marts name their column types as DuckDB and PostgreSQL do. #}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type_name(type) }})
{%- endmacro %}
