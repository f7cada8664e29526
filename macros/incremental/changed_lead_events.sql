{# The event rows (re)classified since the model last ran (see changed_lead_days). #}
{% macro _changed_lead_events() -%}
    contact_id is not null
    and occurred_at is not null
    and _classified_at > {{ last_refreshed_at(this) }}
{%- endmacro %}
