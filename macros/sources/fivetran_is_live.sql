{# True for a row Fivetran has not soft-deleted (`_fivetran_deleted`, the CRM's `is_deleted`)
   and, for tables synced in history mode, for the row's current version (`_fivetran_active`). #}
{% macro fivetran_is_live(columns, table_alias=none) -%}
    {%- set conditions = [] -%}
    {%- for name in ['_fivetran_deleted', 'is_deleted'] if name in columns -%}
        {%- do conditions.append(
            'not coalesce(' ~ parse_boolean(fivetran_text(columns, [name], table_alias)) ~ ', false)'
        ) -%}
    {%- endfor -%}
    {%- if '_fivetran_active' in columns -%}
        {%- do conditions.append(
            'coalesce(' ~ parse_boolean(fivetran_text(columns, ['_fivetran_active'], table_alias)) ~ ', true)'
        ) -%}
    {%- endif -%}
    {{ conditions | join(' and ') if conditions else 'true' }}
{%- endmacro %}
