-- Raw marketing_events rows that cannot be used, as received, with the reason.
{{ quarantine_rows(crm_raw_relation('marketing_events'), ref('base_marketing__events')) }}
