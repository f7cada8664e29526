{#
    Layers land in schemas named after them (staging, quarantine, audit, config) so BI users
    find them without knowing dbt's naming rules. On a personal or CI target schema (anything
    but the adapter default) the layer is prefixed with it, so two people never collide.
#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set default_schema = target.schema -%}
    {%- if custom_schema_name is none -%}
        {{ default_schema }}
    {%- elif default_schema in ('main', 'public') -%}
        {{ custom_schema_name | trim }}
    {%- else -%}
        {{ default_schema }}_{{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
