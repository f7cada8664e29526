{#
    Apache Spark (dbt-spark) differences that cannot be written once for every engine.
    Seeds declare their column types with the names DuckDB and PostgreSQL share (varchar,
    float8, integer, bigint, boolean); Spark spells two of them differently, so its seed
    table is created with the Spark names. Everything else about the seed is dbt-spark's own.
#}
{% macro spark_type_name(type_name) -%}
    {%- set spark_names = {'varchar': 'string', 'text': 'string', 'float8': 'double', 'double precision': 'double'} -%}
    {{- spark_names.get(type_name | lower | trim, type_name) -}}
{%- endmacro %}

{% macro spark__create_csv_table(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set quote_seed_column = model['config'].get('quote_columns', None) -%}

    {% set sql %}
    create table {{ this.render() }} (
        {%- for col_name in agate_table.column_names -%}
            {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
            {%- set type = spark_type_name(column_override.get(col_name, inferred_type)) -%}
            {%- set column_name = (col_name | string) -%}
            {{ adapter.quote_seed_column(column_name, quote_seed_column) }} {{ type }} {%- if not loop.last -%}, {%- endif -%}
        {%- endfor -%}
    )
    {{ file_format_clause() }}
    {{ partition_cols(label="partitioned by") }}
    {{ clustered_cols(label="clustered by") }}
    {{ location_clause() }}
    {{ comment_clause() }}
    {% endset %}

    {% call statement('_') -%}
        {{ sql }}
    {%- endcall %}

    {{ return(sql) }}
{% endmacro %}

{#
    dbt-spark's session cursor pastes bindings into the SQL as '<value>' without escaping, so a
    quote in a seed (the sync destinations' descriptions) breaks the insert and an empty cell
    arrives as the text 'None'. Seed rows are written here as literals instead; the profile
    keeps backslashes literal (escapedStringLiterals), so a quote is spliced in with chr(39).
#}
{% macro spark_seed_literal(value) -%}
    {%- if value is none -%}
        null
    {%- elif value is sameas true or value is sameas false -%}
        {{ 'true' if value else 'false' }}
    {%- elif value is number -%}
        {{ value }}
    {%- else -%}
        '{{ (value | string).replace("'", "' || chr(39) || '") }}'
    {%- endif -%}
{%- endmacro %}

{% macro spark__load_csv_rows(model, agate_table) %}
    {% set batch_size = get_batch_size() %}
    {% set column_override = model['config'].get('column_types', {}) %}
    {% set statements = [] %}
    {% for chunk in agate_table.rows | batch(batch_size) %}
        {% set sql %}
            insert into {{ this.render() }} values
            {% for row in chunk -%}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set inferred_type = adapter.convert_type(agate_table, loop.index0) -%}
                    {%- set type = spark_type_name(column_override.get(col_name, inferred_type)) -%}
                    cast({{ spark_seed_literal(row[loop.index0]) }} as {{ type }})
                    {%- if not loop.last %},{%- endif %}
                {%- endfor -%})
                {%- if not loop.last %},{%- endif %}
            {%- endfor %}
        {% endset %}
        {% do adapter.add_query(sql, abridge_sql_log=True) %}
        {% if loop.index0 == 0 %}
            {% do statements.append(sql) %}
        {% endif %}
    {% endfor %}
    {{ return(statements[0]) }}
{% endmacro %}

{#
    Column types spelled the same way in every model: `varchar` and `double precision` on
    DuckDB and PostgreSQL, `string` and `double` on Spark (which refuses a varchar without a
    length). dbt's own type_float() is not used: on DuckDB it is a 4-byte float.
#}
{% macro text_type() -%}
    {{ return(adapter.dispatch('text_type', 'leadscore')()) }}
{%- endmacro %}

{% macro default__text_type() -%}
    varchar
{%- endmacro %}

{% macro spark__text_type() -%}
    string
{%- endmacro %}

{#
    `with name as {{ not_materialized() }} (...)`: a CTE read twice that the engine should
    compute where it is read instead of storing its rows in between (DuckDB and PostgreSQL
    12+ take the keyword; other engines decide for themselves).
#}
{% macro not_materialized() -%}
    {{ return(adapter.dispatch('not_materialized', 'leadscore')()) }}
{%- endmacro %}

{% macro default__not_materialized() -%}
{%- endmacro %}

{% macro duckdb__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro postgres__not_materialized() -%}
    not materialized
{%- endmacro %}

{% macro double_type() -%}
    {{ return(adapter.dispatch('double_type', 'leadscore')()) }}
{%- endmacro %}

{% macro default__double_type() -%}
    double precision
{%- endmacro %}

{% macro spark__double_type() -%}
    double
{%- endmacro %}

{#
    How an incremental model writes, per adapter, from one place (the models call
    config(**incremental_config(...)) instead of naming a strategy):
      * DuckDB, PostgreSQL, Snowflake, Databricks (dbt-databricks 1.11+): delete+insert on
        the unique key.
      * Spark through dbt-spark and BigQuery have no delete+insert. A model whose unique key
        is a date it writes whole (the score and segment histories) uses insert_overwrite with
        that date as the partition, which replaces exactly the partitions a run produces. A
        model that rewrites arbitrary keys (events, day aggregates, behaviour state, owner
        assignments) is built as a table from all history on each run; its SQL is unchanged,
        because is_incremental() is false for a table.
    `strategy='append'` is for a model whose pre-hook already deleted every key it is about
    to write (the day aggregates): delete+insert would scan the table a second time.
#}
{% macro incremental_config(unique_key, on_schema_change='fail', spark_partition_by=none, materialized='incremental', strategy='delete+insert') -%}
    {%- set config = {'materialized': materialized, 'unique_key': unique_key, 'on_schema_change': on_schema_change} -%}
    {%- set no_delete_insert = target.type in ('spark', 'bigquery') -%}
    {%- if materialized != 'incremental' or not no_delete_insert -%}
        {%- do config.update({'incremental_strategy': strategy}) -%}
    {%- elif spark_partition_by and target.type == 'bigquery' -%}
        {%- do config.update({
            'incremental_strategy': 'insert_overwrite',
            'partition_by': {'field': spark_partition_by, 'data_type': 'date'},
        }) -%}
    {%- elif spark_partition_by -%}
        {%- do config.update({'incremental_strategy': 'insert_overwrite', 'partition_by': spark_partition_by}) -%}
    {%- else -%}
        {%- do config.update({'materialized': 'table'}) -%}
    {%- endif -%}
    {{ return(config) }}
{%- endmacro %}

{# The contracts of the marts name their column types as DuckDB and PostgreSQL do. #}
{% macro spark__cast(field, type) -%}
    cast({{ field }} as {{ spark_type_name(type) }})
{%- endmacro %}

{#
    dbt-spark's listagg drops the order (collect_list has none), so the same lead's custom
    segments or score reasons could come out in another order than on DuckDB. Spark 4 has
    listagg ... within group (order by ...), which keeps it.
#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- if limit_num -%}
        {{ exceptions.raise_compiler_error("listagg with limit_num is not supported on Spark") }}
    {%- endif -%}
    listagg({{ measure }}, {{ delimiter_text }})
    {%- if order_by_clause %} within group ({{ order_by_clause }}){% endif %}
{%- endmacro %}
