{#
    Text as a boolean (true/t/1/yes/y, false/f/0/no/n), NULL (never an error) for text that does not parse, with the same answer
    on every adapter, so staging can quarantine the row with a reason instead of failing.
#}
{% macro parse_boolean(column) -%}
    case
        when lower(trim({{ column }})) in ('true', 't', '1', 'yes', 'y') then true
        when lower(trim({{ column }})) in ('false', 'f', '0', 'no', 'n') then false
    end
{%- endmacro %}
