{# The first day with an event row (re)classified since the last run (changed_lead_days), as
   YYYY-MM-DD, none when nothing changed: a literal bound lets the engine skip the older
   days' blocks of the day aggregates, and compare one timestamp before hashing a lead for
   the events. #}
{% macro first_changed_day(events) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query(
        "select cast(min(cast(occurred_at as date)) as " ~ text_type() ~ ") from "
        ~ events ~ " where " ~ _changed_lead_events()
    ) -%}
    {{ return(result.rows[0][0] if result.rows | length > 0 else none) }}
{%- endmacro %}
