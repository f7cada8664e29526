{# The first of `candidates` the table has, as text (the raw contract is text); NULL if it has
   none. Time-zone-aware timestamps are read in UTC, like every timestamp of the contract, and
   whole numbers stored as floats (HubSpot ids and counts: 250.0) as whole numbers. #}
{% macro fivetran_text(columns, candidates, table_alias=none) -%}
    {%- set present = [] -%}
    {%- for name in candidates if name in columns -%}
        {%- set column = columns[name] -%}
        {%- set data_type = column.data_type | lower -%}
        {%- set quoted = (table_alias ~ '.' if table_alias else '') ~ adapter.quote(column.name) -%}
        {%- if data_type in ('timestamp with time zone', 'timestamptz') -%}
            {%- do present.append("cast(" ~ quoted ~ " at time zone 'UTC' as " ~ text_type() ~ ")") -%}
        {%- elif data_type.startswith(('double', 'float', 'real', 'decimal', 'numeric')) -%}
            {%- do present.append(
                "regexp_replace(cast(" ~ quoted ~ " as " ~ text_type() ~ "), '^(-?[0-9]+)[.]0+$', '\\1')"
            ) -%}
        {%- else -%}
            {%- do present.append('cast(' ~ quoted ~ ' as ' ~ text_type() ~ ')') -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if present | length == 0 -%}
        cast(null as {{ text_type() }})
    {%- elif present | length == 1 -%}
        {{ present[0] }}
    {%- else -%}
        coalesce({{ present | join(', ') }})
    {%- endif -%}
{%- endmacro %}
