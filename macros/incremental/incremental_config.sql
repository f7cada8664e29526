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
    `materialized='day_chunked_incremental'` (the day aggregates) is incremental the same way.
#}
{% macro incremental_config(unique_key, on_schema_change='fail', spark_partition_by=none, materialized='incremental', strategy='delete+insert') -%}
    {%- set config = {'materialized': materialized, 'unique_key': unique_key, 'on_schema_change': on_schema_change} -%}
    {%- set no_delete_insert = target.type in ('spark', 'bigquery') -%}
    {%- if materialized not in ('incremental', 'day_chunked_incremental') or not no_delete_insert -%}
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
