{#
    Custom segments' conditions: text operators on the lower-case text value, number
    operators (between, gt, gte, lt, lte) on the numeric value; the operators are
    condition_matches() (macros/scoring/condition_matches.sql), shared with the fit rules.
#}
{% macro rule_condition_matches(text_value, number_value, operator, rule_value, min_value, max_value) -%}
    {{ condition_matches(
        text_value, number_value, 'cast(null as boolean)', "'text'", operator, rule_value,
        parse_number(rule_value), min_value, max_value, 'false'
    ) }}
{%- endmacro %}
