-- Raw crm_deals rows that cannot be used, as received, with the reason.
{{ quarantine_rows(crm_raw_relation('crm_deals'), ref('base_crm__deals')) }}
