{#
    A connector table's columns that no adapter column reads, as [(alias, column name)]:
    the CRM's custom properties (and the standard ones the contract has no column for), which
    the adapter passes on as extra columns of the raw contract's table, so rules can name
    them (`contact.<alias>`). `prefix` is stripped from the alias (HubSpot's `property_`) and
    only columns that start with it are taken; Fivetran's own columns never are.
#}
{% macro fivetran_extra_columns(columns, used, prefix='') -%}
    {%- set extras = [] -%}
    {%- for name in columns | sort
        if name.startswith(prefix) and name not in used and not name.startswith('_fivetran') -%}
        {%- set alias = modules.re.sub('[^a-z0-9_]+', '_', name[prefix | length:]).strip('_') -%}
        {%- if alias and alias not in used and alias not in extras | map(attribute=0) | list -%}
            {%- do extras.append((alias, name)) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(extras) }}
{%- endmacro %}
