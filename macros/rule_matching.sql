{#
    Custom segments' conditions: text operators on the lower-case text value, number
    operators (between, gt, gte, lt, lte) on the numeric value; the operators are
    condition_matches() (macros/scoring/conditions.sql), shared with the fit rules.
#}
{% macro rule_condition_matches(text_value, number_value, operator, rule_value, min_value, max_value) -%}
    {{ condition_matches(
        text_value, number_value, 'cast(null as boolean)', "'text'", operator, rule_value,
        parse_number(rule_value), min_value, max_value, 'false'
    ) }}
{%- endmacro %}

{# Seed list values: lower-case, trimmed, no spaces around `|`. #}
{% macro normalize_rule_value(column) -%}
    {{ regexp_replace_all('lower(trim(' ~ column ~ '))', "'\s*[|]\s*'", "'|'") }}
{%- endmacro %}

{#
    One row per lead and attribute: (attribute, text_value, number_value), so that one
    generic comparison (rule_condition_matches) serves every rule whatever attribute it names.
    `carry` lists columns kept on every row (e.g. persona, for rule scoping).
#}
{% macro unpivot_attributes(relation, text_attributes, number_attributes, carry=[]) %}
    {% for attribute in text_attributes %}
        select
            contact_id,
            {% for column in carry %}{{ column }},{% endfor %}
            '{{ attribute }}' as attribute,
            lower(cast({{ attribute }} as {{ text_type() }})) as text_value,
            cast(null as decimal(22, 6)) as number_value
        from {{ relation }}
        union all
    {% endfor %}
    {% for attribute in number_attributes %}
        select
            contact_id,
            {% for column in carry %}{{ column }},{% endfor %}
            '{{ attribute }}' as attribute,
            cast({{ attribute }} as {{ text_type() }}) as text_value,
            cast({{ attribute }} as decimal(22, 6)) as number_value
        from {{ relation }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
{% endmacro %}

{# A fit or behaviour rule applies to a lead when its persona and customer scope match. #}
{% macro rule_applies(rules, persona, is_customer) -%}
    ({{ rules }}.persona is null or {{ rules }}.persona = {{ persona }})
    and (
        {{ rules }}.customer_scope = 'all'
        or ({{ rules }}.customer_scope = 'existing_customer') = {{ is_customer }}
    )
{%- endmacro %}
