{#
    When `relation` was last written, as a timestamp literal: its latest `column` (the run
    timestamp its rows carry; 1900-01-01 when empty). A literal, not a subquery: the
    pre-hook and the model's query see the same value although the pre-hook deletes rows in
    between, and the engine can skip the blocks of older rows (DuckDB's zone maps).
#}
{% macro last_refreshed_at(relation, column='_refreshed_at') -%}
    {%- set result = run_query(
        "select cast(max(" ~ column ~ ") as " ~ text_type() ~ ") from " ~ relation
    ) if execute else none -%}
    {%- set value = result.rows[0][0] if result and result.rows | length > 0 else none -%}
    cast('{{ value or "1900-01-01 00:00:00" }}' as timestamp)
{%- endmacro %}
