{#
    The raw contract's columns per table, in order, lineage left out: for the Fivetran modes
    (var crm_source), where the generic sources that document the contract are disabled,
    so `graph.sources` does not hold them. tests/test_contract.py keeps this equal to
    orchestration/defs/ingest/contract.py and to the sources' YAML.
#}
{% macro raw_contract_column_lists() -%}
    {{ return({
        'crm_companies': [
            'company_id', 'name', 'domain', 'industry', 'employee_count', 'annual_revenue',
            'country', 'created_at', 'updated_at',
        ],
        'crm_contacts': [
            'contact_id', 'email', 'first_name', 'last_name', 'job_title', 'company_id',
            'country', 'lead_source', 'lifecycle_stage', 'unsubscribed', 'created_at',
            'updated_at',
        ],
        'marketing_events': [
            'event_id', 'contact_id', 'email', 'event_type', 'page_url', 'page_category',
            'campaign_id', 'occurred_at',
        ],
        'crm_deals': [
            'deal_id', 'contact_id', 'company_id', 'amount', 'stage', 'is_closed', 'is_won',
            'created_at', 'closed_at',
        ],
        'crm_owners': [
            'owner_id', 'name', 'email', 'team', 'region',
        ],
    }) }}
{%- endmacro %}
