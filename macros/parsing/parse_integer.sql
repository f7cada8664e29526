{#
    Text as a bigint, NULL (never an error) for text that does not parse, with the same answer
    on every adapter, so staging can quarantine the row with a reason instead of failing.
#}
{% macro parse_integer(column) -%}
    case
        when {{ regexp_like('trim(' ~ column ~ ')', "'^[+-]?[0-9]{1,18}$'") }}
            then cast(trim({{ column }}) as bigint)
    end
{%- endmacro %}
