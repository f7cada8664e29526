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
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    {% if latest_run_column %}
        where {{ latest_run_column }} = (select max({{ latest_run_column }}) from {{ model }})
    {% endif %}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
