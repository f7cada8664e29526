{# A fit or behaviour rule applies to a lead when its persona and customer scope match. #}
{% macro rule_applies(rules, persona, is_customer) -%}
    ({{ rules }}.persona is null or {{ rules }}.persona = {{ persona }})
    and (
        {{ rules }}.customer_scope = 'all'
        or ({{ rules }}.customer_scope = 'existing_customer') = {{ is_customer }}
    )
{%- endmacro %}
