{# The catalog's raw-column entries some fit rule names (all of them while parsing). #}
{% macro used_raw_attributes(raw_contacts, raw_companies, fit_rules) -%}
    {%- set used = fit_rule_attribute_names(fit_rules) -%}
    {%- set entries = [] -%}
    {%- for entry in lead_attribute_catalog(raw_contacts, raw_companies)
        if entry.source != 'profile' -%}
        {%- if used is none or entry.attribute in used -%}
            {%- do entries.append(entry) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return(entries) }}
{%- endmacro %}
