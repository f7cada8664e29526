{{ config(materialized='view') }}

-- One row per lead and fit rule that fires: every condition of the rule holds for the lead
-- (rows of scoring_fit_rules with one rule_id are its conditions). A view:
-- int_scoring__lead_score_components, its one reader, computes it while writing the components (a
-- table here would write and read again about five rows per lead every day); it depends only
-- on the profile and the rules. Conditions read the attribute as the rule's type (text,
-- number, date as its age in days at the as-of date, boolean); see condition_matches().
with

attribute_values as (
    select * from {{ ref('int_scoring__lead_attribute_values') }}
),

conditions as (
    select * from {{ ref('stg_scoring__fit_rules') }}
),

evaluated as (
    select
        attribute_values.contact_id,
        attribute_values.attribute_value,
        conditions.*,
        {{ attribute_number_value(
            'attribute_values.attribute_value', 'conditions.attribute_type'
        ) }} as number_value,
        case
            when conditions.attribute_type = 'boolean'
                then {{ parse_boolean('attribute_values.attribute_value') }}
        end as boolean_value
    from attribute_values
    inner join conditions
        on attribute_values.attribute = conditions.attribute
    where {{ rule_applies(
        'conditions', 'attribute_values.contact_persona', 'attribute_values.is_customer'
    ) }}
),

met as (
    select
        contact_id,
        rule_id,
        score_part,
        description,
        points,
        condition_count,
        count(*) as conditions_met,
        {{ dbt.listagg(
            "coalesce(attribute_value, '(missing)')",
            "'; '",
            'order by condition_number'
        ) }} as matched_value
    from evaluated
    where {{ condition_matches(
        'attribute_value',
        'number_value',
        'boolean_value',
        'attribute_type',
        'operator',
        'rule_value',
        'value_number',
        'min_value',
        'max_value',
        'missing_matches'
    ) }}
    group by contact_id, rule_id, score_part, description, points, condition_count
),

final as (
    select
        contact_id,
        rule_id,
        score_part,
        case when score_part = 'fit' then 'fit' else 'attribute' end as rule_type,
        description,
        matched_value,
        1 as occurrences,
        cast(null as timestamp) as last_occurred_at,
        points as undecayed_points,
        points,
        false as is_decayed
    from met
    where conditions_met = condition_count
)

select * from final
