{# A column of the scoring_behavior_rules seed (see seed_column), qualified with `alias`:
   the seed's name in its validation tests, `rules` in stg_scoring__behavior_rules. #}
{% macro behavior_rule_column(column, seed, alias='scoring_behavior_rules') -%}
    {{ return(seed_column(alias, seed, column)) }}
{%- endmacro %}
