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
#}

{# (attribute, type) of the profile's own attributes. Types: text, number, date, boolean. #}
{% macro profile_attributes() -%}
    {{ return([
        ('seniority', 'text'),
        ('department', 'text'),
        ('job_title', 'text'),
        ('industry', 'text'),
        ('country', 'text'),
        ('size_band', 'text'),
        ('email_domain_type', 'text'),
        ('email_domain', 'text'),
        ('lead_source', 'text'),
        ('lifecycle_stage', 'text'),
        ('persona', 'text'),
        ('employee_count', 'number'),
        ('annual_revenue', 'number'),
        ('created_at', 'date'),
        ('deal_count', 'number'),
        ('open_deal_count', 'number'),
        ('won_deal_count', 'number'),
        ('lost_deal_count', 'number'),
        ('deal_amount', 'number'),
        ('open_deal_amount', 'number'),
        ('last_deal_created_at', 'date'),
    ]) }}
{%- endmacro %}

{# The columns of a raw contract table's `relation` (extras included, lineage excluded),
   lower-case, as the warehouse has them when the model runs; [] while dbt parses. #}
{% macro raw_attribute_columns(relation) -%}
    {%- set names = [] -%}
    {%- if execute -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set name = column.name | lower -%}
            {%- if not name.startswith('_') and name not in names -%}
                {%- do names.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{# A raw column's name as a profile column: `contact__<name>` with anything but [a-z0-9_]
   replaced, so an odd column name from another loader still makes an identifier. #}
{% macro attribute_column_name(source, name) -%}
    {{ return(source ~ '__' ~ modules.re.sub('[^a-z0-9_]', '_', name)) }}
{%- endmacro %}

{#
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

{#
    The attribute names the fit rules use, as the catalog writes them, read from the seed
    (the relation `fit_rules`, scoring_fit_rules) when the model runs; none (every attribute) while dbt parses. A connector's table can
    have hundreds of columns: the profile carries only the raw columns some rule reads.
#}
{% macro fit_rule_attribute_names(fit_rules) -%}
    {%- if not execute or model.resource_type == 'unit_test' or load_relation(fit_rules) is none -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set names = [] -%}
    {%- for row in run_query("select distinct attribute from " ~ fit_rules ~ " where attribute is not null").rows -%}
        {%- set name = modules.re.sub('[^a-z0-9_.]+', '_', row[0] | trim | lower) -%}
        {%- do names.append(modules.re.sub('^_+|_+$', '', name)) -%}
    {%- endfor -%}
    {{ return(names) }}
{%- endmacro %}

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

{# The type a rule reads an attribute as when it does not say: the profile's (number and
   date for its numbers and dates), else number for comparisons, else text. #}
{% macro default_attribute_type(attribute, operator) -%}
    case
    {%- for name, type in profile_attributes() if type != 'text' %}
        when {{ attribute }} = '{{ name }}' then '{{ type }}'
    {%- endfor %}
        when {{ operator }} in ('gt', 'gte', 'lt', 'lte', 'between') then 'number'
        else 'text'
    end
{%- endmacro %}

{# A name as rules may write it ("Total Visits", "contact.Total Visits") in the catalog's
   form: lower case, runs of anything but letters, digits, `_` and `.` as one `_`. #}
{% macro normalize_attribute_name(column) -%}
    {{ regexp_replace_all(
        regexp_replace_all('lower(trim(' ~ column ~ '))', "'[^a-z0-9_.]+'", "'_'"),
        "'^_+|_+$'",
        "''"
    ) }}
{%- endmacro %}
