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

{# The first of `candidates` the table has, as text (the raw contract is text); NULL if it has
   none. Time-zone-aware timestamps are read in UTC, like every timestamp of the contract, and
   whole numbers stored as floats (HubSpot ids and counts: 250.0) as whole numbers. #}
{% macro fivetran_text(columns, candidates, table_alias=none) -%}
    {%- set present = [] -%}
    {%- for name in candidates if name in columns -%}
        {%- set column = columns[name] -%}
        {%- set data_type = column.data_type | lower -%}
        {%- set quoted = (table_alias ~ '.' if table_alias else '') ~ adapter.quote(column.name) -%}
        {%- if data_type in ('timestamp with time zone', 'timestamptz') -%}
            {%- do present.append("cast(" ~ quoted ~ " at time zone 'UTC' as " ~ text_type() ~ ")") -%}
        {%- elif data_type.startswith(('double', 'float', 'real', 'decimal', 'numeric')) -%}
            {%- do present.append(
                "regexp_replace(cast(" ~ quoted ~ " as " ~ text_type() ~ "), '^(-?[0-9]+)[.]0+$', '\\1')"
            ) -%}
        {%- else -%}
            {%- do present.append('cast(' ~ quoted ~ ' as ' ~ text_type() ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if present | length == 0 -%}
        cast(null as {{ text_type() }})
    {%- elif present | length == 1 -%}
        {{ present[0] }}
    {%- else -%}
        coalesce({{ present | join(', ') }})
    {%- endif -%}
{%- endmacro %}

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

{# When Fivetran synced the row, as the contract's `_loaded_at` (a timestamp). #}
{% macro fivetran_synced_at(columns, table_alias=none) -%}
    coalesce(
        {{ parse_timestamp(fivetran_text(columns, ['_fivetran_synced'], table_alias)) }},
        cast({{ dbt.current_timestamp() }} as timestamp)
    )
{%- endmacro %}

{# One row per element of a delimited string (HubSpot's lists of merged contact ids). #}
{% macro split_to_rows(expression, delimiter) -%}
    {{ return(adapter.dispatch('split_to_rows', 'leadscore')(expression, delimiter)) }}
{%- endmacro %}

{% macro default__split_to_rows(expression, delimiter) -%}
    unnest(string_to_array({{ expression }}, '{{ delimiter }}'))
{%- endmacro %}

{% macro duckdb__split_to_rows(expression, delimiter) -%}
    unnest(string_split({{ expression }}, '{{ delimiter }}'))
{%- endmacro %}

{#
    The columns of a raw contract table, in order, without the lineage columns: read from the
    generic source's documentation (models/staging/*/_*__sources.yml), which a test keeps equal
    to orchestration/defs/ingest/contract.py; in the Fivetran modes, where that source is
    disabled, from raw_contract_column_lists() (macros/sources/raw_contract.sql).
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

{# A relation of the contract table's shape with no rows: what an adapter model gives when the
   Fivetran tables it reads are switched off. #}
{% macro empty_raw_rows(raw_table) -%}
    select
        {% for name in raw_contract_columns(raw_table) -%}
            cast(null as {{ text_type() }}) as {{ name }},
        {% endfor -%}
        cast(null as bigint) as _file_id,
        cast(null as bigint) as _source_row,
        cast(null as {{ text_type() }}) as _source_file,
        cast(null as timestamp) as _loaded_at
    where 1 = 0
{%- endmacro %}

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
