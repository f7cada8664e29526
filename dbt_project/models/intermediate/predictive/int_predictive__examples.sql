-- One row per lead and sample date (see int_predictive__sample_dates): the lead as it was on
-- that date (existing, not yet a customer), its attributes, its age, the rule score it had
-- then (from the score history, when a snapshot of that date exists) and, for training and
-- holdout dates, whether it converted in the outcome window after it.
--
-- Two kinds of samples (`sample_kind`): `date`, every lead existing on a sample date; and,
-- unless `sample_at_creation` is false (seed predictive_settings), `creation`: every lead
-- created in the training period seen once more on the day it was created (training only,
-- its outcome window a whole training window before E). A fast-closing funnel wins within
-- days of the first contact, so on dates a month apart most of its wins fall between two
-- dates and are never seen; sampled at creation, every lead's win is. With `auto`
-- (the default) they are kept only when the training dates alone hold fewer than
-- `min_training_conversions` conversions: on slower funnels they add nothing but weight on
-- brand-new leads.
--
-- Attributes (seniority, department, industry, company size, email domain type, lead
-- source, persona) are the lead's current values: the CRM keeps no history of them (the
-- contact's and company's other columns are in int_predictive__lead_attributes). Nothing
-- that records an outcome (lifecycle stage, customer flag, unsubscribed flag) is an input;
-- unsubscribes come in as dated behaviour instead.
--
-- Large warehouses: when the training and holdout dates hold more than
-- `max_training_examples` (seed predictive_settings) leads, a stable random sample of
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
        ) as max_training_examples,
        max(
            case
                when setting = 'training_step_days'
                    then {{ dbt.safe_cast('value', api.Column.translate_type('integer')) }}
            end
        ) as training_step_days,
        max(
            case
                when setting = 'min_training_conversions'
                    then {{ dbt.safe_cast('value', api.Column.translate_type('integer')) }}
            end
        ) as min_training_conversions,
        max(
            case when setting = 'sample_at_creation' then lower(trim(value)) end
        ) as sample_at_creation
    from {{ ref('predictive_settings') }}
),

dates as (
    select * from {{ ref('int_predictive__sample_dates') }}
),

training_span as (
    select
        min(feature_date) as first_date,
        max(feature_date) as last_date,
        max(window_days) as window_days
    from dates
    where sample_role = 'train'
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

-- every lead existing on a sample date
date_samples as (
    select
        profile.contact_id,
        dates.feature_date,
        dates.sample_role,
        'date' as sample_kind,
        dates.feature_end,
        dates.outcome_end
    from profile
    cross join dates
    where profile.created_at < dates.feature_end
),

-- training leads on the day they were created (from a step before the first training date
-- to the last), unless that day is a sample date already
creation_days as (
    select
        profile.contact_id,
        cast(profile.created_at as date) as feature_date,
        training_span.window_days
    from profile
    cross join training_span
    cross join settings
    where
        coalesce(settings.sample_at_creation, 'auto') <> 'false'
        and cast(profile.created_at as date) <= training_span.last_date
        and cast(profile.created_at as date) > cast({{ dbt.dateadd(
            'day', '-settings.training_step_days', 'training_span.first_date'
        ) }} as date)
),

creation_samples as (
    select
        creation_days.contact_id,
        creation_days.feature_date,
        'train' as sample_role,
        'creation' as sample_kind,
        cast(creation_days.feature_date as timestamp) + {{ one_day_interval() }} as feature_end,
        cast(
            {{ dbt.dateadd('day', 'creation_days.window_days', 'creation_days.feature_date') }}
            as timestamp
        ) + {{ one_day_interval() }} as outcome_end
    from creation_days
    left join dates
        on creation_days.feature_date = dates.feature_date
    where dates.feature_date is null
),

samples as (
    select * from date_samples
    union all
    select * from creation_samples
),

outcomes as (
    select
        samples.contact_id,
        samples.feature_date,
        max(case when won_deals.closed_at < samples.feature_end then 1 else 0 end)
            as was_customer,
        min(
            case
                when won_deals.closed_at >= samples.feature_end
                    and won_deals.closed_at < samples.outcome_end
                    then won_deals.closed_at
            end
        ) as converted_at
    from samples
    inner join won_deals
        on samples.contact_id = won_deals.contact_id
    group by samples.contact_id, samples.feature_date
),

-- `auto`: leads at creation only when the training dates hold too few conversions
date_conversions as (
    select count(*) as conversions
    from samples
    inner join outcomes
        on
            samples.contact_id = outcomes.contact_id
            and samples.feature_date = outcomes.feature_date
    where
        samples.sample_kind = 'date'
        and samples.sample_role = 'train'
        and outcomes.was_customer = 0
        and outcomes.converted_at is not null
),

creation_used as (
    select
        (
            coalesce(settings.sample_at_creation, 'auto') = 'true'
            or date_conversions.conversions < coalesce(settings.min_training_conversions, 40)
        ) as is_used
    from settings
    cross join date_conversions
),

leads as (
    select
        profile.contact_id,
        samples.feature_date,
        samples.sample_role,
        samples.sample_kind,
        profile.seniority,
        profile.department,
        profile.industry,
        profile.size_band,
        profile.email_domain_type,
        profile.lead_source,
        profile.persona,
        profile.employee_count,
        {{ dbt.datediff('profile.created_at', 'samples.feature_end', 'day') }} as lead_age_days,
        outcomes.converted_at
    from samples
    inner join profile
        on samples.contact_id = profile.contact_id
    left join outcomes
        on
            samples.contact_id = outcomes.contact_id
            and samples.feature_date = outcomes.feature_date
    cross join creation_used
    where
        coalesce(outcomes.was_customer, 0) = 0
        and (samples.sample_kind = 'date' or creation_used.is_used)
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
        leads.sample_kind,
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
