{#
    `<alias>.<column>` when the seed (the relation `seed`) has the column, else a NULL of
    text: a column added to a configuration seed in a later release is optional, so an
    analyst's older CSV (in seeds/ or in a backtest's rules folder) still builds and means
    what it meant.
#}
{% macro seed_column(alias, seed, column) -%}
    {%- if execute and model.resource_type != 'unit_test' -%}
        {%- set present = adapter.get_columns_in_relation(seed) | map(attribute='name')
            | map('lower') | list -%}
        {%- if column not in present -%}
            {{ return('cast(null as ' ~ text_type() ~ ')') }}
        {%- endif -%}
    {%- endif -%}
    {{ return(alias ~ '.' ~ column) }}
{%- endmacro %}
