-- One row per example of int_predictive__examples (lead and sample date) and behaviour rule
-- with activity before the end of that date:
-- the point-in-time behaviour the predictive model learns from. Built from the day aggregates
-- of int_scoring__rule_activity_by_day, so it reads days, not events, and decay is exact:
--   occurrences_7d / _30d / _90d / _total   matching events in the last 7, 30, 90 days and ever
--   decayed_occurrences                     events weighted 0.5 ^ (age / the rule's half-life)
--   days_since_last                         whole days from the latest matching day to the date
-- Each signal is counted once, so the model's factors do not split one signal between two
-- correlated rules: event rules give the signals they match; a frequency rule only when no
-- event rule already scores every event of its type (3+ site visits repeats "visited the
-- website", 3+ email opens is the only rule on opens); the first recency rule stands for
-- "any engagement" (its rows count every engagement event); inactivity rules repeat it.
with

all_rules as (
    select * from {{ ref('stg_scoring__behavior_rules') }}
),

covered_event_types as (
    select distinct event_type
    from all_rules
    where rule_type = 'event' and page_category is null and url_pattern is null
),

first_recency_rule as (
    select min(rule_id) as rule_id
    from all_rules
    where rule_type = 'recency'
),

rules as (
    select
        all_rules.rule_id,
        all_rules.rule_type,
        all_rules.half_life_days
    from all_rules
    left join covered_event_types
        on all_rules.event_type = covered_event_types.event_type
    left join first_recency_rule
        on all_rules.rule_id = first_recency_rule.rule_id
    where
        all_rules.rule_type = 'event'
        or (all_rules.rule_type = 'frequency' and covered_event_types.event_type is null)
        or first_recency_rule.rule_id is not null
),

-- only the leads and dates the model sees (a sample of them on large warehouses), each lead
-- on its own dates (sample dates, and its creation day for leads sampled at creation)
examples as (
    select
        contact_id,
        feature_date,
        sample_role,
        sample_fraction
    from {{ ref('int_predictive__examples') }}
),

activity as (
    select
        activity.contact_id,
        examples.sample_role,
        examples.sample_fraction,
        activity.rule_id,
        rules.rule_type,
        activity.occurrences,
        activity.decay_mass,
        rules.half_life_days,
        examples.feature_date,
        {{ dbt.datediff('activity.activity_date', 'examples.feature_date', 'day') }}
            as days_before
    from {{ ref('int_scoring__rule_activity_by_day') }} as activity
    inner join rules
        on activity.rule_id = rules.rule_id
    inner join examples
        on
            activity.contact_id = examples.contact_id
            and activity.activity_date <= examples.feature_date
),

final as (
    select
        -- ids
        contact_id,
        rule_id,

        -- strings
        rule_type,
        sample_role,

        -- numerics
        sample_fraction,
        sum(case when days_before < 7 then occurrences else 0 end) as occurrences_7d,
        sum(case when days_before < 30 then occurrences else 0 end) as occurrences_30d,
        sum(case when days_before < 90 then occurrences else 0 end) as occurrences_90d,
        sum(occurrences) as occurrences_total,
        sum(
            case
                when half_life_days is null then occurrences
                else decay_mass * power(
                        cast(0.5 as {{ double_type() }}), (days_before + 1) / half_life_days
                    )
            end
        ) as decayed_occurrences,
        min(days_before) as days_since_last,

        -- dates
        feature_date
    from activity
    group by contact_id, rule_id, rule_type, sample_role, sample_fraction, feature_date
)

select * from final
