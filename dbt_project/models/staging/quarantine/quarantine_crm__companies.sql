-- Raw crm_companies rows that cannot be used, as received, with the reason.
{{ quarantine_rows(source('crm', 'crm_companies'), ref('base_crm__companies')) }}
