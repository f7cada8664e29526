-- Raw crm_owners rows that cannot be used, as received, with the reason.
{{ quarantine_rows(source('crm', 'crm_owners'), ref('base_crm__owners')) }}
