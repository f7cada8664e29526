{#
    Text as a decimal(22, 6), NULL (never an error) for text that does not parse, with the same answer
    on every adapter, so staging can quarantine the row with a reason instead of failing.
#}
{% macro parse_decimal(column) -%}
    case
        when {{ regexp_like('trim(' ~ column ~ ')', "'^[+-]?[0-9]{1,16}([.][0-9]{1,6})?$'") }}
            then cast(trim({{ column }}) as decimal(22, 6))
    end
{%- endmacro %}
