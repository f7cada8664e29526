{#
    Leads and days with an event row (re)classified since the day aggregates last ran: a new
    or late event, a duplicate resolved, a contact found. A lead's day aggregates depend only
    on that lead's events of that day, so a run aggregates again exactly these lead-days (a
    late event rebuilds its lead's day, not everyone's). An event row's contact only ever
    goes from unknown to known (`events`, base_marketing__events), so no other lead-day
    changes.
#}
{% macro changed_lead_days(events) -%}
    select distinct
        contact_id,
        cast(occurred_at as date) as activity_date
    from {{ events }}
    where {{ _changed_lead_events() }}
{%- endmacro %}

{# The first of those days as YYYY-MM-DD, none when nothing changed: a literal bound lets
   the engine skip the older days' blocks of the day aggregates, and compare one timestamp
   before hashing a lead for the events. #}
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

{% macro _changed_lead_events() -%}
    contact_id is not null
    and occurred_at is not null
    and _classified_at > {{ last_refreshed_at(this) }}
{%- endmacro %}
