{#
    Generic test: fails with every combination of `columns` that appears more than once,
    with how often (e.g. one row per lead and date).
#}
{% test unique_combination(model, columns) %}
    select
        {{ columns | join(', ') }},
        count(*) as occurrences
    from {{ model }}
    group by {{ columns | join(', ') }}
    having count(*) > 1
{% endtest %}
