{# The `extra__*` columns a staged events relation has (none in a unit test, whose inputs
   are the given rows). #}
{% macro staged_event_extra_columns(relation) -%}
    {%- set names = [] -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if (column.name | lower).startswith('extra__') -%}
                {%- do names.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}
