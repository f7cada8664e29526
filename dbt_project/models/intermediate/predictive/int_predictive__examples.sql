-- One row per lead and sample date (see int_predictive__sample_dates): the lead as it was on
-- that date (existing, not yet a customer), its attributes, its age, the rule score it had
-- then (from the score history, when a snapshot of that date exists) and, for training and
-- holdout dates, whether it converted in the outcome window after it.
--
-- Attributes (seniority, department, industry, company size, email domain type, lead
-- source, persona) are the lead's current values: the CRM keeps no history of them. Nothing
-- that records an outcome (lifecycle stage, customer flag, unsubscribed flag) is an input;
-- unsubscribes come in as dated behaviour instead.
--
-- Large warehouses: when the training and holdout dates hold more than
-- `max_training_examples` (seeds/predictive_settings.csv) leads, a stable random sample of
-- them (the same leads every run, by a hash of lead and date) is kept; the score date always
-- keeps every lead. `sample_fraction` is that hash, in [0, 1).
with

settings as (
    select
        max(
            case
                when setting = 'max_training_examples'
                    then {{ dbt.safe_cast('value', api.Column.translate_type('integer')) }}
            end
        ) as max_training_examples
    from {{ ref('predictive_settings') }}
),

dates as (
    select * from {{ ref('int_predictive__sample_dates') }}
),

profile as (
    select * from {{ ref('int_scoring__contact_profile') }}
),

history as (
    select
        contact_id,
        as_of_date,
        lead_score
    from {{ ref('fct_lead_score_history') }}
),

won_deals as (
    select
        contact_id,
        closed_at
    from {{ ref('stg_crm__deals') }}
    where is_won and contact_id is not null and closed_at is not null
),

outcomes as (
    select
        won_deals.contact_id,
        dates.feature_date,
        max(case when won_deals.closed_at < dates.feature_end then 1 else 0 end) as was_customer,
        min(
            case
                when won_deals.closed_at >= dates.feature_end
                    and won_deals.closed_at < dates.outcome_end
                    then won_deals.closed_at
            end
        ) as converted_at
    from won_deals
    cross join dates
    group by won_deals.contact_id, dates.feature_date
),

leads as (
    select
        profile.contact_id,
        dates.feature_date,
        dates.sample_role,
        profile.seniority,
        profile.department,
        profile.industry,
        profile.size_band,
        profile.email_domain_type,
        profile.lead_source,
        profile.persona,
        profile.employee_count,
        {{ dbt.datediff('profile.created_at', 'dates.feature_end', 'day') }} as lead_age_days,
        outcomes.converted_at
    from profile
    cross join dates
    left join outcomes
        on
            profile.contact_id = outcomes.contact_id
            and dates.feature_date = outcomes.feature_date
    where
        profile.created_at < dates.feature_end
        and coalesce(outcomes.was_customer, 0) = 0
),

sampled as (
    select
        leads.*,
        {{ hash_fraction(dbt.concat([
            'leads.contact_id', "'|'", 'cast(leads.feature_date as ' ~ dbt.type_string() ~ ')'
        ])) }} as sample_fraction
    from leads
),

sample_rate as (
    select
        case
            when count(*) = 0 or max(settings.max_training_examples) is null then 1.0
            else least(1.0, max(settings.max_training_examples) * 1.0 / count(*))
        end as rate
    from sampled
    cross join settings
    where sampled.sample_role <> 'score'
),

kept as (
    select sampled.*
    from sampled
    cross join sample_rate
    where sampled.sample_role = 'score' or sampled.sample_fraction < sample_rate.rate
),

final as (
    select
        -- ids
        leads.contact_id,

        -- strings
        leads.sample_role,
        leads.seniority,
        leads.department,
        leads.industry,
        leads.size_band,
        leads.email_domain_type,
        leads.lead_source,
        leads.persona,

        -- numerics
        leads.employee_count,
        leads.sample_fraction,
        leads.lead_age_days,
        history.lead_score as rule_lead_score,

        -- booleans
        case
            when leads.sample_role = 'score' then null
            else leads.converted_at is not null
        end as is_converted,

        -- dates
        leads.feature_date,

        -- timestamps
        leads.converted_at
    from kept as leads
    left join history
        on
            leads.contact_id = history.contact_id
            and leads.feature_date = history.as_of_date
)

select * from final
