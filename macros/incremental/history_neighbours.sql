{#
    The snapshot dates of `history` (fct_lead_score_history) on either side of the as-of
    date: the latest before it and the earliest after it ('' when there is none). A run writes the as-of
    date's snapshot, so the stage transitions it can change are those on the as-of date and
    on the next snapshot date, whose previous snapshot it is now. Reading these two dates
    instead of the whole history keeps a daily run's cost flat as snapshots accumulate.
#}
{% macro history_neighbours(history) -%}
    {%- if not execute or model.resource_type == 'unit_test'
        or not _relations_exist([history]) -%}
        {{ return(['', '']) }}
    {%- endif -%}
    {%- set result = run_query(
        "select cast(max(case when as_of_date < " ~ as_of_date() ~ " then as_of_date end) as "
        ~ text_type() ~ "), cast(min(case when as_of_date > " ~ as_of_date()
        ~ " then as_of_date end) as " ~ text_type() ~ ") from " ~ history
    ) -%}
    {{ return([result.rows[0][0] or '', result.rows[0][1] or '']) }}
{%- endmacro %}
