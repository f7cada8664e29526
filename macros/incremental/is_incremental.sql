{#
    dbt's is_incremental(), also true for a model of the day_chunked_incremental
    materialization (macros/materializations/): the model's query and its hooks tell a run
    that adds to the stored table from a build of the whole table the same way.
#}
{% macro is_incremental() -%}
    {%- if not execute -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set relation = adapter.get_relation(this.database, this.schema, this.table) -%}
    {{ return(
        relation is not none
        and relation.type == 'table'
        and model.config.materialized in ('incremental', 'day_chunked_incremental')
        and not should_full_refresh()
    ) }}
{%- endmacro %}
