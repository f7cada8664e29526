-- Raw crm_contacts rows that cannot be used, as received, with the reason.
{%- set raw_contacts = source('crm', 'crm_contacts') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_contacts') %}
{{ quarantine_rows(raw_contacts, ref('base_crm__contacts')) }}
