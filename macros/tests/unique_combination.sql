{#
    Generic test: fails with every combination of `columns` that appears more than once,
    with how often (e.g. one row per lead and date).

    `latest_run_column`, for an incremental model whose runs replace whole keys (delete+insert
    on a key inside `columns`, or a pre-hook that deletes the keys a run is about to append):
    only the rows the latest run wrote are checked, those whose
    column (the run's timestamp) holds its maximum. Rows of earlier runs were checked when
    they were written, and a run deletes every row that shares a key with what it writes, so
    no duplicate can involve them; a daily test then costs the day's rows, not the history.
#}
{% test unique_combination(model, columns, latest_run_column=none) %}
    {%- set rows -%}
        select {{ columns | join(', ') }} from {{ model }}
        {% if latest_run_column %}
            where {{ latest_run_column }} = (select max({{ latest_run_column }}) from {{ model }})
        {% endif %}
    {%- endset -%}
    {{ adapter.dispatch('unique_combination_failures')(rows, columns) }}
{% endtest %}

{% macro default__unique_combination_failures(rows, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from ({{ rows }}) as checked
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endmacro %}

{#
    DuckDB: first the 64-bit hashes of the combinations that appear more than once (a group
    by one integer instead of several strings: the day aggregates' full build, 140M rows,
    took 34 s exactly and 13 s this way), then the exact check of only the rows with those
    hashes. A collision of two different combinations only adds rows to the exact check, so
    the result is the same.
#}
{% macro duckdb__unique_combination_failures(rows, columns) %}
    with

    repeated_hashes as (
        select hash({{ columns | join(', ') }}) as combination_hash
        from ({{ rows }}) as checked
        group by hash({{ columns | join(', ') }})
        having count(*) > 1
    )

    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from ({{ rows }}) as checked
    where hash({{ columns | join(', ') }}) in (select combination_hash from repeated_hashes)
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endmacro %}
