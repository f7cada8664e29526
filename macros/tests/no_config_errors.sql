{#
    Generic test for configuration seeds. `checks` is a list of {problem, when}: `when` is a SQL
    condition that is true for a bad row. The test returns the bad rows and, because a count
    of failing rows does not tell an analyst which rule to fix, it stops the build with a
    message that names every bad row by `id_column` and its problem.
#}
{% macro config_errors_sql(model, id_column, checks) %}
    {% for check in checks %}
        select
            coalesce(cast({{ id_column }} as {{ text_type() }}), '(empty id)') as config_row,
            '{{ check.problem | replace("'", "''") }}' as problem
        from {{ model }}
        where {{ check.when }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endmacro %}

{% test no_config_errors(model, id_column, checks) %}
    {% set errors_sql = config_errors_sql(model, id_column, checks) %}
    {% if execute %}
        {% set found = run_query(errors_sql) %}
        {% if found.rows | length > 0 %}
            {% set lines = [] %}
            {% for row in found.rows %}
                {% do lines.append("  - " ~ model.identifier ~ " row '" ~ row[0] ~ "': " ~ row[1]) %}
            {% endfor %}
            {{ exceptions.raise_compiler_error(
                "Invalid scoring configuration (fix the seed CSV and run again):\n"
                ~ lines | join("\n")
            ) }}
        {% endif %}
    {% endif %}
    {{ errors_sql }}
{% endtest %}
