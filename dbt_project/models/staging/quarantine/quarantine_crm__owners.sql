-- Raw crm_owners rows that cannot be used, as received, with the reason.
{{ quarantine_rows(crm_raw_relation('crm_owners'), ref('base_crm__owners')) }}
