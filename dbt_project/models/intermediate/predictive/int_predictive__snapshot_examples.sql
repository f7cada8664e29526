-- One row per lead known at the as-of date (created by its end), customers included: the
-- examples of the cross-sectional mode, for data whose outcomes are known only at the as-of
-- date (a one-row-per-lead CRM export whose converted leads are won deals closed on the export
-- day). The outcome is a won deal closed by the end of the as-of date; the lead's attributes
-- are its current values and its age is counted to the as-of date. Leads still open
-- (`is_converted` false) are the ones the model scores.
--
-- `sample_fraction` is a stable hash of the contact id in [0, 1) (the first 8 hex digits of
-- md5(contact_id) / 2^32): leads below the `holdout_share` setting are held out, chosen before
-- any fitting and the same every run. Nothing here is an input that records the outcome:
-- lifecycle stage and the customer flag are left out, and behaviour is not read in this mode
-- (a converted lead's activity after its win would tell the model the answer).
with

profile as (
    select * from {{ ref('int_scoring__contact_profile') }}
),

history as (
    select
        contact_id,
        lead_score
    from {{ ref('fct_lead_score_history') }}
    where as_of_date = {{ as_of_date() }}
),

won as (
    select
        contact_id,
        min(closed_at) as converted_at
    from {{ ref('stg_crm__deals') }}
    where
        is_won
        and contact_id is not null
        and closed_at is not null
        and closed_at < {{ as_of_end() }}
    group by contact_id
),

final as (
    select
        -- ids
        profile.contact_id,

        -- strings
        profile.seniority,
        profile.department,
        profile.industry,
        profile.size_band,
        profile.email_domain_type,
        profile.lead_source,
        profile.persona,

        -- numerics
        profile.employee_count,
        {{ hash_fraction('profile.contact_id') }} as sample_fraction,
        {{ dbt.datediff('profile.created_at', as_of_end(), 'day') }} as lead_age_days,
        history.lead_score as rule_lead_score,

        -- booleans
        won.contact_id is not null as is_converted,

        -- dates
        {{ as_of_date() }} as feature_date,

        -- timestamps
        won.converted_at
    from profile
    left join history
        on profile.contact_id = history.contact_id
    left join won
        on profile.contact_id = won.contact_id
)

select * from final
