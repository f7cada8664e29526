{#
    What behaviour rules can read of an event (filter_attribute, value_attribute): the raw
    contract's event columns as staging types them, and every extra column the landing files
    of marketing_events bring (time on site, a deal value, a UTM source, ...), which
    base_marketing__events keeps as `extra__<column>` (text as received). Rules name them
    `event.<column>` or `<column>`.

    Here: [(attribute, column)] of every event attribute of the staged events `relation`.
#}
{% macro event_attribute_catalog(relation) -%}
    {%- set catalog = [] -%}
    {%- for name, column in event_contract_attributes() -%}
        {%- do catalog.append((name, column)) -%}
    {%- endfor -%}
    {%- for column in staged_event_extra_columns(relation) -%}
        {%- do catalog.append((column[7:], column)) -%}
    {%- endfor -%}
    {{ return(catalog) }}
{%- endmacro %}
