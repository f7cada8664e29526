-- One row per lead: every segmentation dimension, the matrix segment with its sales action,
-- campaign track and route, the queue and owner for leads that need a human, and the named
-- custom segments the lead belongs to. The lead-level mart BI tools and syncs read.
with

dimensions as (
    select * from {{ ref('int_segments__lead_dimensions') }}
),

segments as (
    select * from {{ ref('int_segments__lead_matrix_segments') }}
),

assignments as (
    select * from {{ ref('fct_lead_owner_assignments') }}
    where is_active
),

queues as (
    select
        trim(route) as route,
        trim(queue) as queue
    from {{ ref('routing_queues') }}
),

custom as (
    select
        contact_id,
        {{ dbt.listagg('segment_name', "'; '", 'order by segment_name') }} as custom_segments
    from {{ ref('int_segments__custom_segment_members') }}
    group by contact_id
),

final as (
    select
        -- ids
        cast(dimensions.contact_id as {{ text_type() }}) as contact_id,
        cast(dimensions.company_id as {{ text_type() }}) as company_id,
        cast(assignments.owner_id as {{ text_type() }}) as owner_id,

        -- strings
        cast(segments.segment as {{ text_type() }}) as segment,
        cast(segments.sales_action as {{ text_type() }}) as sales_action,
        cast(segments.campaign_track as {{ text_type() }}) as campaign_track,
        cast(segments.route as {{ text_type() }}) as route,
        cast(queues.queue as {{ text_type() }}) as queue,
        cast(assignments.owner_name as {{ text_type() }}) as owner_name,
        cast(dimensions.company_tier as {{ text_type() }}) as company_tier,
        cast(dimensions.engagement_level as {{ text_type() }}) as engagement_level,
        cast(dimensions.lifecycle_stage as {{ text_type() }}) as lifecycle_stage,
        cast(dimensions.funnel_stage as {{ text_type() }}) as funnel_stage,
        cast(dimensions.lead_source_group as {{ text_type() }}) as lead_source_group,
        cast(dimensions.persona as {{ text_type() }}) as persona,
        cast(dimensions.industry_vertical as {{ text_type() }}) as industry_vertical,
        cast(dimensions.hierarchical_segment as {{ text_type() }}) as hierarchical_segment,
        cast(dimensions.region as {{ text_type() }}) as region,
        cast(dimensions.lead_stage as {{ text_type() }}) as lead_stage,
        cast(dimensions.fit_grade as {{ text_type() }}) as fit_grade,
        cast(dimensions.priority as {{ text_type() }}) as priority,
        cast(custom.custom_segments as {{ text_type() }}) as custom_segments,

        -- numerics
        cast(segments.segment_priority as integer) as segment_priority,
        cast(dimensions.fit_score as {{ double_type() }}) as fit_score,
        cast(dimensions.behavior_score as {{ double_type() }}) as behavior_score,
        cast(dimensions.lead_score as {{ double_type() }}) as lead_score,

        -- booleans
        cast(dimensions.is_re_engaged as boolean) as is_re_engaged,
        cast(dimensions.is_customer as boolean) as is_customer,
        cast(dimensions.is_unsubscribed as boolean) as is_unsubscribed,

        -- dates
        cast(assignments.assigned_on as date) as owner_assigned_on,
        cast(dimensions.as_of_date as date) as as_of_date
    from dimensions
    inner join segments
        on dimensions.contact_id = segments.contact_id
    left join queues
        on segments.route = queues.route
    left join assignments
        on dimensions.contact_id = assignments.contact_id
    left join custom
        on dimensions.contact_id = custom.contact_id
)

select * from final
