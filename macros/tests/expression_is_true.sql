{#
    Generic test: fails with every row for which `expression` is not true. Used for
    reconciliation and for seed validation, where the failing rows name what is wrong.
#}
{% test expression_is_true(model, expression, column_name=none) %}
    select *
    from {{ model }}
    where not coalesce(({{ expression }}), false)
{% endtest %}
