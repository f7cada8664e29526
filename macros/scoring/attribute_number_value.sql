{#
    A value of a lead attribute (text, as int_scoring__lead_attribute_values holds it) read as
    the condition's type: the number, or a date's age in days at the as-of date.
#}
{% macro attribute_number_value(value, attribute_type) -%}
    case {{ attribute_type }}
        when 'number' then {{ parse_number(value) }}
        when 'date' then {{ dbt.datediff(
            'cast(' ~ parse_timestamp(value) ~ ' as date)', as_of_date(), 'day'
        ) }}
    end
{%- endmacro %}
