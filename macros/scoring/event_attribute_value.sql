{# The value of the event attribute named by `attribute` (an expression) on the event row
   `alias`, as text (NULL for a name the events do not have). #}
{% macro event_attribute_value(alias, attribute, catalog) -%}
    case {{ attribute }}
    {%- for name, column in catalog %}
        when '{{ name }}' then cast({{ alias }}.{{ column }} as {{ text_type() }})
    {%- endfor %}
    end
{%- endmacro %}
