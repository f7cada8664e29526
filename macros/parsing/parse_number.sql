{# A number written in plain decimal notation, as a double; NULL for anything else. #}
{% macro parse_number(column) -%}
    case
        when {{ regexp_like('trim(' ~ column ~ ')', "'^[+-]?[0-9]{1,15}([.][0-9]+)?$'") }}
            then cast(trim({{ column }}) as {{ double_type() }})
    end
{%- endmacro %}
