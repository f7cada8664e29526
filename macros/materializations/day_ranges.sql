{#
    Where a model built by the day_chunked_incremental materialization takes a range of whole
    days: `{{ day_ranges('occurred_at', events, split_at) }}` in the WHERE clause of the
    query that reads `relation` (stg_marketing__events for the day aggregates). When the model
    compiles it plans ranges of at most `day_aggregate_chunk_events` rows of `relation` each
    (one day is never split: the aggregate holds an entry per signal an event matches, and
    past memory it spills to disk). The days from `split_at` on (the behaviour state's
    cutoff, what a daily run reads) are always a range of their own, written last: a full
    build leaves them together at the end of the table, as daily runs do, instead of
    scattered through it.

    It renders `(/* day_ranges {...} */ true)`: every day, so the SQL means the whole build
    wherever it runs (a unit test, `dbt show`, a table on Spark, where the cluster is the
    answer). The materialization reads the plan in the comment and runs the query once per
    range, the comment replaced by the range's condition on `column`. One range, or none
    planned (while parsing, in a unit test, under another materialization), is plain `true`.
#}
{% macro day_ranges(column, relation, split_at) -%}
    {%- if not execute or model.resource_type == 'unit_test'
        or model.config.materialized != 'day_chunked_incremental'
        or not _relations_exist([relation]) -%}
        {{ return('true') }}
    {%- endif -%}
    {%- set limit = var('day_aggregate_chunk_events') | int -%}
    {%- set per_day = run_query(
        "select cast(cast(" ~ column ~ " as date) as " ~ text_type() ~ ") as day_start, "
        ~ "count(*) as row_count from " ~ relation
        ~ " group by cast(" ~ column ~ " as date) order by 1"
    ) -%}
    {%- set starts = [] -%}
    {%- set current = {'first': none, 'rows': 0} -%}
    {%- for row in per_day.rows -%}
        {%- if current.first is not none and (
            current.rows + row[1] > limit or (current.first < split_at and row[0] >= split_at)
        ) -%}
            {%- do starts.append(current.first) -%}
            {%- do current.update({'first': none, 'rows': 0}) -%}
        {%- endif -%}
        {%- if current.first is none -%}
            {%- do current.update({'first': row[0]}) -%}
        {%- endif -%}
        {%- do current.update({'rows': current.rows + row[1]}) -%}
    {%- endfor -%}
    {%- if current.first is not none -%}
        {%- do starts.append(current.first) -%}
    {%- endif -%}
    {%- if starts | length < 2 -%}
        {{ return('true') }}
    {%- endif -%}
    {{ return('(/* day_ranges ' ~ tojson({'column': column, 'starts': starts}) ~ ' */ true)') }}
{%- endmacro %}
