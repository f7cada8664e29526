{% macro is_number(column) -%}
    coalesce({{ regexp_like('trim(' ~ column ~ ')', "'^[+-]?[0-9]+([.][0-9]+)?$'") }}, false)
{%- endmacro %}
