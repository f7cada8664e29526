{#
    Which CRM the staging layer reads, from the `crm_source` var:
      generic     the raw tables the ingest assets load from landing files (the raw contract);
      hubspot     the tables Fivetran's HubSpot connector loads;
      salesforce  the tables Fivetran's Salesforce connector loads.
    For a Fivetran source, adapter models (models/staging/<source>/base_<source>__<raw table>)
    give its tables the shape of the raw contract's tables, so the base models and everything
    after them are the same whatever the source.
#}
{% macro crm_source() -%}
    {%- set value = var('crm_source', 'generic') | string | lower | trim -%}
    {%- if value not in ('generic', 'hubspot', 'salesforce') -%}
        {{ exceptions.raise_compiler_error(
            "var crm_source must be one of generic, hubspot, salesforce, got '" ~ value ~ "'"
        ) }}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
