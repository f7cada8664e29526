-- Fit rules from the seed, typed and normalised (validated by the seed's tests first): one row
-- per condition. Rows of the seed with the same rule_id are the conditions of one rule, which
-- gives its points when all of them hold; the rule's points, part, scopes and description may
-- be written on one of its rows or repeated (the validation refuses rows that disagree).
{%- set rules_seed = ref('scoring_fit_rules') %}
with

rules as (
    select * from {{ rules_seed }}
),

typed as (
    select
        -- ids
        trim(rule_id) as rule_id,

        -- strings
        {{ normalize_attribute_name('attribute') }} as attribute,
        lower(trim({{ seed_column('rules', rules_seed, 'attribute_type') }}))
            as declared_type,
        lower(trim(operator)) as operator,
        {{ normalize_rule_value('value') }} as rule_value,
        lower(trim(persona)) as persona,
        lower(trim(customer_scope)) as customer_scope,
        lower(trim({{ seed_column('rules', rules_seed, 'score_part') }})) as score_part,
        trim(description) as description,

        -- numerics
        {{ as_number('value') }} as value_number,
        {{ as_number('min_value') }} as min_value,
        {{ as_number('max_value') }} as max_value,
        cast({{ as_number('points') }} as {{ double_type() }}) as points,

        -- booleans
        lower(trim({{ seed_column('rules', rules_seed, 'missing_matches') }})) = 'true'
            as missing_matches
    from rules
),

final as (
    select
        -- ids
        rule_id,
        row_number() over (
            partition by rule_id
            order by attribute, operator, rule_value, min_value, max_value
        ) as condition_number,

        -- strings
        attribute,
        coalesce(declared_type, {{ default_attribute_type('attribute', 'operator') }})
            as attribute_type,
        operator,
        rule_value,
        max(persona) over (partition by rule_id) as persona,
        coalesce(max(customer_scope) over (partition by rule_id), 'all') as customer_scope,
        coalesce(max(score_part) over (partition by rule_id), 'fit') as score_part,
        coalesce(max(description) over (partition by rule_id), rule_id) as description,

        -- numerics
        value_number,
        min_value,
        max_value,
        max(points) over (partition by rule_id) as points,
        count(*) over (partition by rule_id) as condition_count,

        -- booleans
        coalesce(missing_matches, false) as missing_matches
    from typed
)

select * from final
