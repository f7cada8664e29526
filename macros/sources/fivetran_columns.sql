{#
    Fivetran tables carry the columns the customer's CRM has: a HubSpot portal without a
    `country` property has no property_country column, and newer connector versions add and
    rename columns. Adapter models read every column through fivetran_text, which looks at the
    table when the model runs and reads a missing column as NULL, so one model fits every
    account. Columns are {lower-case name: column} of the relation (empty while parsing).
#}
{% macro fivetran_columns(relation) -%}
    {%- set found = {} -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- do found.update({column.name | lower: column}) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(found) }}
{%- endmacro %}
