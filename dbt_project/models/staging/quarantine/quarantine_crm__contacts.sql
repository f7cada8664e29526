-- Raw crm_contacts rows that cannot be used, as received, with the reason.
{{ quarantine_rows(source('crm', 'crm_contacts'), ref('base_crm__contacts')) }}
