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
