{# An event attribute's name as a rule may write it ("event.Time On Site", "time_on_site"). #}
{% macro normalize_event_attribute_name(column) -%}
    {{ regexp_replace_all(normalize_attribute_name(column), "'^event[.]'", "''") }}
{%- endmacro %}
