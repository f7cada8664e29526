{#
    The columns of a raw contract table, in order, without the lineage columns: read from the
    generic source's documentation (models/staging/*/_*__sources.yml), which a test keeps equal
    to orchestration/defs/ingest/contract.py; in the Fivetran modes, where that source is
    disabled, from raw_contract_column_lists() (macros/sources/raw_contract_column_lists.sql).
#}
{% macro raw_contract_columns(raw_table) -%}
    {%- set source_name = 'marketing' if raw_table == 'marketing_events' else 'crm' -%}
    {%- set columns = [] -%}
    {%- if execute -%}
        {%- set node = graph.sources.get('source.leadscore.' ~ source_name ~ '.' ~ raw_table) -%}
        {%- if node is none -%}
            {{ return(raw_contract_column_lists()[raw_table]) }}
        {%- endif -%}
        {%- for name in node.columns if not name.startswith('_') -%}
            {%- do columns.append(name) -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(columns) }}
{%- endmacro %}
