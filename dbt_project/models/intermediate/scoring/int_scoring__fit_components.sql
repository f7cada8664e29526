{{ config(materialized='view') }}

-- One row per lead and fit rule that fires. A view: fct_lead_score_components, its one
-- reader, computes it while writing the components (a table here would write and read
-- again about five rows per lead every day); it depends only on the profile and the rules.
{% set text_attributes = [
    'seniority', 'department', 'job_title', 'industry', 'country', 'size_band',
    'email_domain_type', 'lead_source', 'persona'
] %}
{% set number_attributes = ['employee_count', 'annual_revenue'] %}
with

profile as (
    select * from {{ ref('int_scoring__contact_profile') }}
),

rules as (
    select * from {{ ref('stg_scoring__fit_rules') }}
),

attribute_values as (
    {{ unpivot_attributes(
        'profile', text_attributes, number_attributes, carry=['persona as contact_persona', 'is_customer']
    ) }}
),

matches as (
    select
        attribute_values.contact_id,
        rules.rule_id,
        rules.description,
        rules.points,
        attribute_values.text_value as matched_value
    from attribute_values
    inner join rules
        on attribute_values.attribute = rules.attribute
    where
        attribute_values.text_value is not null
        and {{ rule_applies(
            'rules', 'attribute_values.contact_persona', 'attribute_values.is_customer'
        ) }}
        and {{ rule_condition_matches(
            'attribute_values.text_value',
            'attribute_values.number_value',
            'rules.operator',
            'rules.rule_value',
            'rules.min_value',
            'rules.max_value'
        ) }}
),

final as (
    select
        contact_id,
        rule_id,
        'fit' as score_part,
        'fit' as rule_type,
        description,
        matched_value,
        1 as occurrences,
        cast(null as timestamp) as last_occurred_at,
        points as undecayed_points,
        points,
        false as is_decayed
    from matches
)

select * from final
