{# NULL unless the text is a number: SQL does not promise short-circuit evaluation, so a cast
   must never depend on an `and` to protect it. #}
{% macro as_number(column) -%}
    case when {{ is_number(column) }} then cast(trim({{ column }}) as decimal(18, 6)) end
{%- endmacro %}
