{#
    True when a record was created after the load that brought it (past the
    `future_event_tolerance_hours` tolerance): a clock error or a test record, quarantined as
    `future_timestamp`. Only the raw contract's tables know when a row was first loaded; a
    Fivetran connector stamps each row with its latest sync instead, which says nothing about
    the record's creation (its sample data even has records created after their sync), so on
    those sources the check is off.
#}
{% macro created_after_load(created_at, loaded_at) -%}
    {%- if crm_source() == 'generic' -%}
        {{ created_at }} > {{ dbt.dateadd('hour', var('future_event_tolerance_hours'), loaded_at) }}
    {%- else -%}
        1 = 0
    {%- endif -%}
{%- endmacro %}
