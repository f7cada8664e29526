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
