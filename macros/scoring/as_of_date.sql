{# The as-of date (as_of_date_literal) as a date. #}
{% macro as_of_date() -%}
    cast('{{ as_of_date_literal() }}' as date)
{%- endmacro %}
