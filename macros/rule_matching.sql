{#
    True when a value meets a rule condition. One implementation of the operators for every
    seed that uses them (fit rules, custom segments):
      equals / not_equals / contains / regex  on the lower-case text value,
      in / not_in                            against a `|`-separated list,
      between                                on the numeric value, inclusive, open when a
                                             bound is empty.
    `rule_value` must already be lower-case with no spaces around `|`.
#}
{% macro rule_condition_matches(text_value, number_value, operator, rule_value, min_value, max_value) -%}
    case {{ operator }}
        when 'equals' then {{ text_value }} = {{ rule_value }}
        when 'not_equals' then {{ text_value }} <> {{ rule_value }}
        when 'in'
            then position('|' || {{ text_value }} || '|' in '|' || {{ rule_value }} || '|') > 0
        when 'not_in'
            then position('|' || {{ text_value }} || '|' in '|' || {{ rule_value }} || '|') = 0
        when 'contains' then position({{ rule_value }} in {{ text_value }}) > 0
        when 'regex' then {{ regexp_like(text_value, rule_value) }}
        when 'between'
            then
                {{ number_value }} is not null
                and ({{ min_value }} is null or {{ number_value }} >= {{ min_value }})
                and ({{ max_value }} is null or {{ number_value }} <= {{ max_value }})
        else false
    end
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
