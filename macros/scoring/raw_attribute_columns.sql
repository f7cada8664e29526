{# The columns of a raw contract table's `relation` (extras included, lineage excluded),
   lower-case, as the warehouse has them when the model runs; [] while dbt parses. #}
{% macro raw_attribute_columns(relation) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set name = column.name | lower -%}
            {%- if not name.startswith('_') and name not in names -%}
                {%- do names.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}
