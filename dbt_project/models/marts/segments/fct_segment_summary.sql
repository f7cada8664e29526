-- One row per segment of the segment matrix (empty segments included): how many leads, their
-- average scores, the share of sales-qualified leads and the conversion rate (leads with a
-- deal won by the end of the as-of date: a past as-of date counts only what was known then).
-- The summary BI dashboards read.
with

matrix as (
    select
        trim(segment) as segment,
        cast(trim(priority) as integer) as segment_priority,
        trim(sales_action) as sales_action,
        trim(campaign_track) as campaign_track,
        trim(route) as route
    from {{ ref('segment_matrix') }}
),

leads as (
    select * from {{ ref('dim_lead_segments') }}
),

top_stage as (
    select label as top_stage_label
    from {{ ref('stg_scoring__score_bands') }}
    where band_type = 'stage'
    order by band_rank desc
    limit 1
),

totals as (
    select
        count(*) as all_leads,
        max(as_of_date) as as_of_date
    from leads
),

converted as (
    select distinct contact_id
    from {{ ref('stg_crm__deals') }}
    where is_won and contact_id is not null and closed_at < {{ as_of_end() }}
),

per_segment as (
    select
        leads.segment,
        count(*) as leads,
        avg(leads.fit_score) as avg_fit_score,
        avg(leads.behavior_score) as avg_behavior_score,
        avg(leads.lead_score) as avg_lead_score,
        sum(case when leads.lead_stage = top_stage.top_stage_label then 1 else 0 end)
            as sales_qualified_leads,
        sum(case when converted.contact_id is not null then 1 else 0 end) as converted_leads
    from leads
    cross join top_stage
    left join converted
        on leads.contact_id = converted.contact_id
    group by leads.segment
),

final as (
    select
        cast(matrix.segment as {{ text_type() }}) as segment,
        cast(matrix.segment_priority as integer) as segment_priority,
        cast(matrix.sales_action as {{ text_type() }}) as sales_action,
        cast(matrix.campaign_track as {{ text_type() }}) as campaign_track,
        cast(matrix.route as {{ text_type() }}) as route,
        cast(coalesce(per_segment.leads, 0) as bigint) as leads,
        cast(
            coalesce(per_segment.leads, 0) * 1.0 / nullif(totals.all_leads, 0) as {{ double_type() }}
        ) as share_of_leads,
        cast(per_segment.avg_fit_score as {{ double_type() }}) as avg_fit_score,
        cast(per_segment.avg_behavior_score as {{ double_type() }}) as avg_behavior_score,
        cast(per_segment.avg_lead_score as {{ double_type() }}) as avg_lead_score,
        cast(per_segment.sales_qualified_leads * 1.0 / nullif(per_segment.leads, 0) as {{ double_type() }})
            as sql_share,
        cast(coalesce(per_segment.converted_leads, 0) as bigint) as converted_leads,
        cast(per_segment.converted_leads * 1.0 / nullif(per_segment.leads, 0) as {{ double_type() }})
            as conversion_rate,
        cast(totals.as_of_date as date) as as_of_date
    from matrix
    cross join totals
    left join per_segment
        on matrix.segment = per_segment.segment
)

select * from final
