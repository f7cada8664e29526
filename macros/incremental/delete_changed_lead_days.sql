{#
    Pre-hook of the day aggregates: removes the lead-days about to be aggregated again, so a
    lead-day whose last usable event became a duplicate leaves no stale row, and everything
    when the rules changed (the relations are those of changed_lead_days() and
    behavior_rules_version()).
#}
{% macro delete_changed_lead_days(events, rules, event_types) -%}
    {%- if is_incremental() -%}
        {%- if stored_rules_version() != behavior_rules_version(rules, event_types) -%}
            delete from {{ this }}
        {%- else -%}
            {%- set first_day = first_changed_day(events) -%}
            {%- if first_day is not none -%}
                delete from {{ this }} as aggregated
                using ({{ changed_lead_days(events) }}) as changed
                where
                    aggregated.contact_id = changed.contact_id
                    and aggregated.activity_date = changed.activity_date
                    and aggregated.activity_date >= cast('{{ first_day }}' as date)
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
