{#
    The value of the attribute named by `attribute` (an expression holding a catalog name) in
    the profile row `profile`, as text: lower-case for text attributes, so text comparisons
    ignore case. NULL when the lead has no value or no rule names the attribute. The raw
    relations and the fit rules seed are those of used_raw_attributes().
#}
{% macro lead_attribute_value(profile, attribute, raw_contacts, raw_companies, fit_rules) -%}
    {%- set entries = [] -%}
    {%- for entry in lead_attribute_catalog(raw_contacts, raw_companies)
        if entry.source == 'profile' -%}
        {%- do entries.append(entry) -%}
    {%- endfor -%}
    case {{ attribute }}
    {%- for entry in entries + used_raw_attributes(raw_contacts, raw_companies, fit_rules) %}
        when '{{ entry.attribute }}' then
        {%- if entry.type == 'text' %} lower(cast({{ profile }}.{{ entry.column }} as {{ text_type() }}))
        {%- else %} cast({{ profile }}.{{ entry.column }} as {{ text_type() }})
        {%- endif %}
    {%- endfor %}
    end
{%- endmacro %}
