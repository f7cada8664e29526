{# The raw columns of `source` (contact or company) the profile carries, as
   `<alias>.<raw column> as <profile column>` select items: those some fit rule reads. #}
{% macro raw_attribute_select(source, alias, raw_contacts, raw_companies, fit_rules) -%}
    {%- set columns = [] -%}
    {%- for entry in used_raw_attributes(raw_contacts, raw_companies, fit_rules)
        if entry.source == source -%}
        {%- if entry.column not in columns -%}
            {%- do columns.append(entry.column) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- set items = [] -%}
    {%- for entry in lead_attribute_catalog(raw_contacts, raw_companies)
        if entry.source == source and entry.attribute.startswith(source ~ '.')
        and entry.column in columns -%}
        {%- do items.append(
            clean_text('cast(' ~ alias ~ '.' ~ adapter.quote(entry.raw_column) ~ ' as ' ~ text_type() ~ ')')
            ~ ' as ' ~ entry.column
        ) -%}
    {%- endfor -%}
    {{ return(items) }}
{%- endmacro %}
