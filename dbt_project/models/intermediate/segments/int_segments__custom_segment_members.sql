-- One row per lead and named custom segment (custom_segments seed) the lead belongs to: it
-- meets every condition of the segment.
{% set text_attributes = [
    'seniority', 'department', 'job_title', 'industry', 'country', 'size_band', 'persona',
    'lead_source', 'lifecycle_stage'
] %}
{% set count_attributes = [
    'pricing_page_views', 'product_page_views', 'blog_page_views', 'email_opens',
    'email_clicks', 'content_downloads', 'webinars_attended', 'form_submits', 'demo_requests'
] %}
with

leads as (
    select * from {{ ref('int_segments__lead_dimensions') }}
),

conditions as (
    select
        trim(segment_name) as segment_name,
        trim(condition_id) as condition_id,
        lower(trim(attribute)) as attribute,
        lower(trim(operator)) as operator,
        {{ normalize_rule_value('value') }} as rule_value,
        {{ as_number('min_value') }} as min_value,
        {{ as_number('max_value') }} as max_value
    from {{ ref('custom_segments') }}
),

segment_sizes as (
    select
        segment_name,
        count(*) as condition_count
    from conditions
    group by segment_name
),

attribute_values as (
    {{ unpivot_attributes('leads', text_attributes, count_attributes) }}
),

met as (
    select
        attribute_values.contact_id,
        conditions.segment_name,
        count(*) as conditions_met
    from attribute_values
    inner join conditions
        on attribute_values.attribute = conditions.attribute
    where
        attribute_values.text_value is not null
        and {{ rule_condition_matches(
            'attribute_values.text_value',
            'attribute_values.number_value',
            'conditions.operator',
            'conditions.rule_value',
            'conditions.min_value',
            'conditions.max_value'
        ) }}
    group by attribute_values.contact_id, conditions.segment_name
),

final as (
    select
        met.contact_id,
        met.segment_name
    from met
    inner join segment_sizes
        on met.segment_name = segment_sizes.segment_name
    where met.conditions_met = segment_sizes.condition_count
)

select * from final
