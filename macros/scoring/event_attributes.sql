{#
    What behaviour rules can read of an event (filter_attribute, value_attribute): the raw
    contract's event columns as staging types them, and every extra column the landing files
    of marketing_events bring (time on site, a deal value, a UTM source, ...), which
    base_marketing__events keeps as `extra__<column>` (text as received). Rules name them
    `event.<column>` or `<column>`.
#}

{# (attribute, column of stg_marketing__events) of the contract's event columns. #}
{% macro event_contract_attributes() -%}
    {{ return([
        ('event_type', 'event_type'),
        ('page_url', 'page_url'),
        ('page_category', 'page_category'),
        ('campaign_id', 'campaign_id'),
        ('funnel_stage', 'funnel_stage'),
    ]) }}
{%- endmacro %}

{# The extra columns of the raw marketing_events table (not in the contract, not lineage),
   lower-case, as the warehouse has them when the model runs; [] while dbt parses and in a
   unit test (its given rows are the raw table). Only
   base_marketing__events reads the raw table; the models after it read its `extra__*`. #}
{% macro raw_event_extra_columns(relation) -%}
    {%- set names = [] -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set contract = raw_contract_columns('marketing_events') -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- set name = column.name | lower -%}
            {%- if not name.startswith('_') and name not in contract and name not in names -%}
                {%- do names.append(name) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{# base_marketing__events' column for a raw extra column. #}
{% macro event_extra_column_name(name) -%}
    {{ return('extra__' ~ modules.re.sub('[^a-z0-9_]', '_', name)) }}
{%- endmacro %}

{# The `extra__*` columns a staged events relation has (none in a unit test, whose inputs
   are the given rows). #}
{% macro staged_event_extra_columns(relation) -%}
    {%- set names = [] -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- for column in adapter.get_columns_in_relation(relation) -%}
            {%- if (column.name | lower).startswith('extra__') -%}
                {%- do names.append(column.name | lower) -%}
            {%- endif -%}
        {%- endfor -%}
    {%- endif -%}
    {{ return(names) }}
{%- endmacro %}

{# [(attribute, column)] of every event attribute of the staged events `relation`. #}
{% macro event_attribute_catalog(relation) -%}
    {%- set catalog = [] -%}
    {%- for name, column in event_contract_attributes() -%}
        {%- do catalog.append((name, column)) -%}
    {%- endfor -%}
    {%- for column in staged_event_extra_columns(relation) -%}
        {%- do catalog.append((column[7:], column)) -%}
    {%- endfor -%}
    {{ return(catalog) }}
{%- endmacro %}

{# The value of the event attribute named by `attribute` (an expression) on the event row
   `alias`, as text (NULL for a name the events do not have). #}
{% macro event_attribute_value(alias, attribute, catalog) -%}
    case {{ attribute }}
    {%- for name, column in catalog %}
        when '{{ name }}' then cast({{ alias }}.{{ column }} as {{ text_type() }})
    {%- endfor %}
    end
{%- endmacro %}

{# An event attribute's name as a rule may write it ("event.Time On Site", "time_on_site"). #}
{% macro normalize_event_attribute_name(column) -%}
    {{ regexp_replace_all(normalize_attribute_name(column), "'^event[.]'", "''") }}
{%- endmacro %}
