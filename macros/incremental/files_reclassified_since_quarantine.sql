{#
    quarantine_marketing__events, incremental: the landing files with an event row that
    `events` (base_marketing__events) (re)classified since the quarantine last ran (new files, and older
    files whose rows changed: a contact found, a duplicate resolved). The watermark is read
    once, before the pre-hook deletes those files' rows, and written into the SQL.
#}
{% macro files_reclassified_since_quarantine(events) -%}
    select distinct _file_id
    from {{ events }}
    {%- if is_incremental() %}
    where _classified_at > {{ last_refreshed_at(this, '_classified_at') }}
    {%- endif %}
{%- endmacro %}
