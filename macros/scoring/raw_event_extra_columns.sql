{# The extra columns of the raw marketing_events table (not in the contract, not lineage),
   lower-case, as the warehouse has them when the model runs; [] while dbt parses and in a
   unit test (its given rows are the raw table). Only
   base_marketing__events reads the raw table; the models after it read its `extra__*`. #}
{% macro raw_event_extra_columns(relation) -%}
    {%- set names = [] -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set contract = raw_contract_columns('marketing_events') -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set name = column.name | lower -%}
            {%- if not name.startswith('_') and name not in contract and name not in names -%}
                {%- do names.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}
