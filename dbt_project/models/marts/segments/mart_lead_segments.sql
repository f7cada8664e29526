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
        cast(dimensions.contact_id as varchar) as contact_id,
        cast(dimensions.company_id as varchar) as company_id,
        cast(assignments.owner_id as varchar) as owner_id,

        -- strings
        cast(segments.segment as varchar) as segment,
        cast(segments.sales_action as varchar) as sales_action,
        cast(segments.campaign_track as varchar) as campaign_track,
        cast(segments.route as varchar) as route,
        cast(queues.queue as varchar) as queue,
        cast(assignments.owner_name as varchar) as owner_name,
        cast(dimensions.company_tier as varchar) as company_tier,
        cast(dimensions.engagement_level as varchar) as engagement_level,
        cast(dimensions.lifecycle_stage as varchar) as lifecycle_stage,
        cast(dimensions.funnel_stage as varchar) as funnel_stage,
        cast(dimensions.lead_source_group as varchar) as lead_source_group,
        cast(dimensions.persona as varchar) as persona,
        cast(dimensions.industry_vertical as varchar) as industry_vertical,
        cast(dimensions.hierarchical_segment as varchar) as hierarchical_segment,
        cast(dimensions.region as varchar) as region,
        cast(dimensions.lead_stage as varchar) as lead_stage,
        cast(dimensions.fit_grade as varchar) as fit_grade,
        cast(dimensions.priority as varchar) as priority,
        cast(custom.custom_segments as varchar) as custom_segments,

        -- numerics
        cast(segments.segment_priority as integer) as segment_priority,
        cast(dimensions.fit_score as float8) as fit_score,
        cast(dimensions.behavior_score as float8) as behavior_score,
        cast(dimensions.lead_score as float8) as lead_score,

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
