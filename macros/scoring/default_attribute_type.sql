{# The type a rule reads an attribute as when it does not say: the profile's (number and
   date for its numbers and dates), else number for comparisons, else text. #}
{% macro default_attribute_type(attribute, operator) -%}
    case
    {%- for name, type in profile_attributes() if type != 'text' %}
        when {{ attribute }} = '{{ name }}' then '{{ type }}'
    {%- endfor %}
        when {{ operator }} in ('gt', 'gte', 'lt', 'lte', 'between') then 'number'
        else 'text'
    end
{%- endmacro %}
