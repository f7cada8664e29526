-- Every score on dim_leads is the sum of its rows in fct_lead_score_components (to 1e-6,
-- the rounding of the scores): the explanation always adds up to the number.
with

component_sums as (
    select
        contact_id,
        sum(case when score_part = 'fit' then points else 0 end) as fit_points,
        sum(case when score_part = 'behavior' then points else 0 end) as behavior_points,
        sum(weighted_points) as lead_points
    from {{ ref('fct_lead_score_components') }}
    group by contact_id
),

final as (
    select
        leads.contact_id,
        leads.fit_score,
        leads.behavior_score,
        leads.lead_score,
        component_sums.fit_points,
        component_sums.behavior_points,
        component_sums.lead_points
    from {{ ref('dim_leads') }} as leads
    left join component_sums
        on leads.contact_id = component_sums.contact_id
)

select * from final
where
    abs(fit_score - coalesce(fit_points, 0)) > 0.000001
    or abs(behavior_score - coalesce(behavior_points, 0)) > 0.000001
    or abs(lead_score - coalesce(lead_points, 0)) > 0.000001
