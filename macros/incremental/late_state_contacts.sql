{# Leads with an event row (of `events`, base_marketing__events) of a day before the stored
   cutoff (re)classified since the state last ran: a late event, a duplicate resolved, a
   contact found. Their state is rebuilt. #}
{% macro late_state_contacts(stored_cutoff, events) -%}
    select distinct contact_id
    from {{ events }}
    where
        contact_id is not null
        and occurred_at < cast('{{ stored_cutoff }}' as timestamp)
        and _classified_at > {{ last_refreshed_at(this) }}
{%- endmacro %}
