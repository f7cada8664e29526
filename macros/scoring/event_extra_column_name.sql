{# base_marketing__events' column for a raw extra column. #}
{% macro event_extra_column_name(name) -%}
    {{ return('extra__' ~ modules.re.sub('[^a-z0-9_]', '_', name)) }}
{%- endmacro %}
