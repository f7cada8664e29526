-- Fit rules from the seed, typed and normalised (validated by the seed's tests first).
with

rules as (
    select * from {{ ref('scoring_fit_rules') }}
),

final as (
    select
        -- ids
        trim(rule_id) as rule_id,

        -- strings
        lower(trim(attribute)) as attribute,
        lower(trim(operator)) as operator,
        {{ normalize_rule_value('value') }} as rule_value,
        lower(trim(persona)) as persona,
        coalesce(lower(trim(customer_scope)), 'all') as customer_scope,
        coalesce(trim(description), trim(rule_id)) as description,

        -- numerics
        {{ as_number('min_value') }} as min_value,
        {{ as_number('max_value') }} as max_value,
        cast({{ as_number('points') }} as {{ double_type() }}) as points
    from rules
)

select * from final
