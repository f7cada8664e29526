-- Raw crm_deals rows that cannot be used, as received, with the reason.
{%- set raw_deals = source('crm', 'crm_deals') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_deals') %}
{{ quarantine_rows(raw_deals, ref('base_crm__deals')) }}
