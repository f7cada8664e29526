{# (attribute, type) of the profile's own attributes. Types: text, number, date, boolean. #}
{% macro profile_attributes() -%}
    {{ return([
        ('seniority', 'text'),
        ('department', 'text'),
        ('job_title', 'text'),
        ('industry', 'text'),
        ('country', 'text'),
        ('size_band', 'text'),
        ('email_domain_type', 'text'),
        ('email_domain', 'text'),
        ('lead_source', 'text'),
        ('lifecycle_stage', 'text'),
        ('persona', 'text'),
        ('employee_count', 'number'),
        ('annual_revenue', 'number'),
        ('created_at', 'date'),
        ('deal_count', 'number'),
        ('open_deal_count', 'number'),
        ('won_deal_count', 'number'),
        ('lost_deal_count', 'number'),
        ('deal_amount', 'number'),
        ('open_deal_amount', 'number'),
        ('last_deal_created_at', 'date'),
    ]) }}
{%- endmacro %}
