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
