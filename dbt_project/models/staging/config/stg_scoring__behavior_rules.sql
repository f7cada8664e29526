-- Behaviour rules from the seed, typed and normalised (validated by the seed's tests first).
-- Event attribute names (filter_attribute, value_attribute) in the form the events carry them
-- (`extra__<name>` columns of base_marketing__events, or a contract column).
{%- set rules_seed = ref('scoring_behavior_rules') %}
{%- set aggregate_column = behavior_rule_column('aggregate', rules_seed, 'rules') %}
with

rules as (
    select * from {{ rules_seed }}
),

final as (
    select
        -- ids
        trim(rule_id) as rule_id,

        -- strings
        lower(trim(rule_type)) as rule_type,
        lower(trim(event_type)) as event_type,
        lower(trim(page_category)) as page_category,
        trim(url_pattern) as url_pattern,
        {{ normalize_event_attribute_name(
            behavior_rule_column('filter_attribute', rules_seed, 'rules')
        ) }} as filter_attribute,
        lower(trim({{ behavior_rule_column('filter_operator', rules_seed, 'rules') }}))
            as filter_operator,
        {{ normalize_rule_value(behavior_rule_column('filter_value', rules_seed, 'rules')) }}
            as filter_value,
        {{ normalize_event_attribute_name(
            behavior_rule_column('value_attribute', rules_seed, 'rules')
        ) }} as value_attribute,
        case
            when lower(trim(rule_type)) = 'value'
                then coalesce(lower(trim({{ aggregate_column }})), 'sum')
        end as value_aggregate,
        lower(trim(persona)) as persona,
        coalesce(lower(trim(customer_scope)), 'all') as customer_scope,
        coalesce(trim(description), trim(rule_id)) as description,

        -- numerics
        cast({{ as_number('points') }} as {{ double_type() }}) as points,
        cast({{ as_number('half_life_days') }} as {{ double_type() }}) as half_life_days,
        cast({{ as_number('max_points') }} as {{ double_type() }}) as max_points,
        {{ parse_integer('lookback_days') }} as lookback_days,
        {{ parse_integer('min_count') }} as min_count,
        {{ parse_integer('window_days') }} as window_days,
        cast(
            {{ as_number(behavior_rule_column('threshold', rules_seed, 'rules')) }}
            as {{ double_type() }}
        ) as threshold,
        cast(
            {{ as_number(behavior_rule_column('per_unit', rules_seed, 'rules')) }}
            as {{ double_type() }}
        ) as per_unit,

        -- booleans
        coalesce(lower(trim(count_once)) = 'true', false) as is_count_once
    from rules
)

select * from final
