{{
    config(
        pre_hook="{{ delete_reclassified_quarantine(ref('base_marketing__events')) }}",
        **incremental_config(
            unique_key=['_file_id', '_source_row'],
            on_schema_change='append_new_columns',
        )
    )
}}

-- Raw marketing_events rows that cannot be used, as received, with the reason.
--
-- Incremental: a run reads only the landing files with an event row classified since the
-- last run (files_reclassified_since_quarantine) and writes their quarantined rows again, so
-- a row that became usable (its contact arrived) leaves the quarantine and a daily run does
-- not rescan every raw event. `--full-refresh` reads every file; both give the same rows
-- (tests/test_incremental.py).
{%- set raw_events = source('marketing', 'marketing_events') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__marketing_events') %}
{{ quarantine_rows(
    raw_events,
    ref('base_marketing__events'),
    files=files_reclassified_since_quarantine(ref('base_marketing__events')),
) }}
