{#
    Post-hook of the day aggregates: after a full build whose query took the first range of
    days, aggregates the other ranges into the table, one statement each. A full build is
    recognised by every row carrying this run's timestamp; a range already in the table is
    never written twice. The relations are those of rule_activity_days().
#}
{% macro insert_other_day_ranges(events, event_types, rules) %}
    {%- if not execute or target.type == 'spark' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set older = run_query(
        "select 1 from " ~ this ~ " where _refreshed_at < " ~ run_timestamp() ~ " limit 1"
    ) -%}
    {%- if older.rows | length > 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set ranges = rebuild_day_ranges(events, rules) -%}
    {%- for condition in ranges[1:] -%}
        {%- set present = run_query(
            "select count(*) from " ~ this ~ " where "
            ~ condition | replace('occurred_at', 'activity_date')
        ) -%}
        {%- if present.rows[0][0] == 0 -%}
            {%- do log(
                "day aggregates: range " ~ (loop.index + 1) ~ " of " ~ ranges | length, info=true
            ) -%}
            {%- do run_query(
                "insert into " ~ this ~ " " ~ rule_activity_days(
                    events, event_types, rules, condition, behavior_rules_version(rules, event_types)
                )
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
