{#
    What rules can say about a lead, decided when a model compiles (nothing is fixed in SQL):

      * the profile's own attributes: typed and derived values (seniority from the job title,
        size band, email domain type, persona, ...) and roll-ups of the lead's deals as of the
        as-of date (see profile_attributes());
      * every column of the lead's contact row as `contact.<column>` and of its company's row
        as `company.<column>`: the raw contract's columns and every extra column a landing
        file or a connector brought, as received (text);
      * a plain column name, for a contact column (else a company column) whose name the
        profile does not already use: `total_visits` is `contact.total_visits`.

    int_scoring__contact_profile holds one column per entry (`column`); the attribute values,
    the fit rules and their validation all read this one list.

    Every attribute name a rule can use: [{attribute, source, column, type, raw_column}],
    profile attributes first. `raw_column` is the column of the raw table (contact and
    company attributes: the relations `raw_contacts` and `raw_companies`), `column` the
    profile's.
#}
{% macro lead_attribute_catalog(raw_contacts, raw_companies) -%}
    {%- set catalog = [] -%}
    {%- set taken = [] -%}
    {%- for name, type in profile_attributes() -%}
        {%- do catalog.append({
            'attribute': name, 'source': 'profile', 'column': name, 'type': type, 'raw_column': none
        }) -%}
        {%- do taken.append(name) -%}
    {%- endfor -%}
    {%- set sourced = [] -%}
    {%- for source, relation in [('contact', raw_contacts), ('company', raw_companies)] -%}
        {%- for name in raw_attribute_columns(relation) -%}
            {%- set entry = {
                'attribute': source ~ '.' ~ name,
                'source': source,
                'column': attribute_column_name(source, name),
                'type': 'text',
                'raw_column': name,
            } -%}
            {%- do catalog.append(entry) -%}
            {%- do sourced.append(entry) -%}
        {%- endfor -%}
    {%- endfor -%}
    {#- Plain names: the contact's column, else the company's, when the profile has none. -#}
    {%- for entry in sourced if entry.raw_column not in taken -%}
        {%- do catalog.append({
            'attribute': entry.raw_column,
            'source': entry.source,
            'column': entry.column,
            'type': 'text',
            'raw_column': entry.raw_column,
        }) -%}
        {%- do taken.append(entry.raw_column) -%}
    {%- endfor -%}
    {{ return(catalog) }}
{%- endmacro %}
