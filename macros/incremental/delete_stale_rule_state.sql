{# Pre-hook of the state: everything goes when the rules changed; the late leads' rows go
   before they are rebuilt (a rule a lead no longer matches leaves no row). #}
{% macro delete_stale_rule_state(events, rules, event_types) -%}
    {%- if is_incremental() -%}
        {%- set stored = stored_state(this) -%}
        {%- if stored[1] != behavior_rules_version(rules, event_types) -%}
            delete from {{ this }}
        {%- elif stored[0] is not none and scoring_state_cutoff(rules) >= stored[0] -%}
            delete from {{ this }}
            where contact_id in ({{ late_state_contacts(stored[0], events) }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}
