-- Raw crm_owners rows that cannot be used, as received, with the reason.
{%- set raw_owners = source('crm', 'crm_owners') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_owners') %}
{{ quarantine_rows(raw_owners, ref('base_crm__owners')) }}
