{#
    A full build in ranges of whole days of at most `day_aggregate_chunk_events` events each
    (one day is never split): the conditions on `occurred_at`, in date order, or [] when one
    statement takes everything. The recent days (from the behaviour state's cutoff on, what a
    daily run reads) are always a range of their own, written last: a full build leaves them
    together at the end of the table, as daily runs do, instead of scattered through it.
    Run only for a full build; it counts the events per day. Not on Spark, where the model
    is a table built in one statement and the cluster is the answer. `events` is
    stg_marketing__events, `rules` stg_scoring__behavior_rules.
#}
{% macro rebuild_day_ranges(events, rules) %}
    {%- if not execute or model.resource_type == 'unit_test' or target.type == 'spark'
        or not _relations_exist([events]) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set limit = var('day_aggregate_chunk_events') | int -%}
    {%- set per_day = run_query(
        "select cast(cast(occurred_at as date) as " ~ text_type() ~ ") as activity_date, "
        ~ "count(*) as events from " ~ events
        ~ " group by cast(occurred_at as date) order by 1"
    ) -%}
    {%- set recent = scoring_state_cutoff(rules) -%}
    {%- set ranges = [] -%}
    {%- set current = {'first': none, 'events': 0} -%}
    {%- for row in per_day.rows -%}
        {%- if current.first is not none and (
            current.events + row[1] > limit or (current.first < recent and row[0] >= recent)
        ) -%}
            {%- do ranges.append(current.first) -%}
            {%- do current.update({'first': none, 'events': 0}) -%}
        {%- endif -%}
        {%- if current.first is none -%}
            {%- do current.update({'first': row[0]}) -%}
        {%- endif -%}
        {%- do current.update({'events': current.events + row[1]}) -%}
    {%- endfor -%}
    {%- if current.first is not none -%}
        {%- do ranges.append(current.first) -%}
    {%- endif -%}
    {%- if ranges | length < 2 -%}
        {{ return([]) }}
    {%- endif -%}
    {#- Range i starts at its first day; the first is open below and the last above. -#}
    {%- set conditions = [] -%}
    {%- for first in ranges -%}
        {%- set parts = [] -%}
        {%- if not loop.first -%}
            {%- do parts.append("cast(occurred_at as date) >= cast('" ~ first ~ "' as date)") -%}
        {%- endif -%}
        {%- if not loop.last -%}
            {%- do parts.append(
                "cast(occurred_at as date) < cast('" ~ ranges[loop.index] ~ "' as date)"
            ) -%}
        {%- endif -%}
        {%- do conditions.append(parts | join(' and ')) -%}
    {%- endfor -%}
    {{ return(conditions) }}
{% endmacro %}
