-- Raw crm_contacts rows that cannot be used, as received, with the reason.
{{ quarantine_rows(crm_raw_relation('crm_contacts'), ref('base_crm__contacts')) }}
