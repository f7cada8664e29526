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
