{% macro is_positive_integer(column) -%}
    coalesce({{ regexp_like('trim(' ~ column ~ ')', "'^[0-9]*[1-9][0-9]*$'") }}, false)
{%- endmacro %}
