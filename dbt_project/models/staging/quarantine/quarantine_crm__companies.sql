-- Raw crm_companies rows that cannot be used, as received, with the reason.
{%- set raw_companies = source('crm', 'crm_companies') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_companies') %}
{{ quarantine_rows(raw_companies, ref('base_crm__companies')) }}
