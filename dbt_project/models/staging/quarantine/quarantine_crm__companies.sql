-- Raw crm_companies rows that cannot be used, as received, with the reason.
{{ quarantine_rows(crm_raw_relation('crm_companies'), ref('base_crm__companies')) }}
