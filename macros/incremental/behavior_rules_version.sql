{#
    Helpers of the incremental day aggregates (int_scoring__signal_activity_by_day).

    behavior_rules_version(rules, event_types): a digest of everything a day aggregate
    depends on besides the events (which rule matches which event, what it sums, and each
    rule's half-life): the behaviour rules (`rules`, stg_scoring__behavior_rules) and the
    event types' engagement flags (`event_types`, the event_types seed). When an analyst edits them, every day is
    aggregated again.
#}
{% macro behavior_rules_version(rules, event_types) -%}
    {%- if not execute or model.resource_type == 'unit_test'
        or not _relations_exist([rules, event_types]) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rule_rows = run_query(
        "select rule_id, rule_type, event_type, page_category, url_pattern, half_life_days, "
        ~ "filter_attribute, filter_operator, filter_value, value_attribute from "
        ~ rules ~ " order by rule_id"
    ) -%}
    {%- set event_type_rows = run_query(
        "select event_type, is_engagement from " ~ event_types ~ " order by event_type"
    ) -%}
    {%- set parts = [] -%}
    {%- for row in rule_rows.rows -%}
        {%- do parts.append(row.values() | map('string') | join('|')) -%}
    {%- endfor -%}
    {%- for row in event_type_rows.rows -%}
        {%- do parts.append(row.values() | map('string') | join('|')) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}
