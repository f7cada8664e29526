-- One row per lead with activity before the as-of moment: counts of the signals custom
-- segments use (over the last `segment_activity_days`), the deepest funnel stage reached in
-- that window, and whether the lead came back after a long silence (re-engagement).
with

events as (
    select
        contact_id,
        event_type,
        page_category,
        occurred_at
    from {{ ref('stg_marketing__events') }}
    where occurred_at < {{ as_of_end() }}
),

event_types as (
    select * from {{ ref('event_types') }}
),

page_categories as (
    select * from {{ ref('page_categories') }}
),

classified as (
    select
        events.contact_id,
        events.event_type,
        events.page_category,
        events.occurred_at,
        event_types.is_engagement,
        -- A page view sits at its page's funnel stage; other events at their type's.
        case coalesce(
            case when events.event_type = 'page_view' then page_categories.funnel_stage end,
            event_types.funnel_stage
        )
            when 'bofu' then 3
            when 'mofu' then 2
            when 'tofu' then 1
            else 0
        end as funnel_rank,
        events.occurred_at
        >= {{ dbt.dateadd('day', -var('segment_activity_days'), as_of_end()) }} as is_in_window,
        events.occurred_at
        >= {{ dbt.dateadd('day', -var('reengagement_recent_days'), as_of_end()) }} as is_recent
    from events
    inner join event_types
        on events.event_type = event_types.event_type
    left join page_categories
        on events.page_category = page_categories.page_category
),

per_lead as (
    select
        contact_id,
        {% for name, condition in [
            ('pricing_page_views', "event_type = 'page_view' and page_category = 'pricing'"),
            ('product_page_views', "event_type = 'page_view' and page_category = 'product'"),
            ('blog_page_views', "event_type = 'page_view' and page_category = 'blog'"),
            ('email_opens', "event_type = 'email_open'"),
            ('email_clicks', "event_type = 'email_click'"),
            ('content_downloads', "event_type = 'content_download'"),
            ('webinars_attended', "event_type = 'webinar_attended'"),
            ('form_submits', "event_type = 'form_submit'"),
            ('demo_requests', "event_type = 'demo_request'"),
        ] %}
            sum(case when is_in_window and {{ condition }} then 1 else 0 end) as {{ name }},
        {% endfor %}
        max(case when is_in_window and is_engagement then funnel_rank else 0 end) as funnel_rank,
        min(case when is_recent and is_engagement then occurred_at end) as first_recent_activity_at,
        max(case when not is_recent and is_engagement then occurred_at end)
            as last_activity_before_recent_at,
        max(case when is_engagement then occurred_at end) as last_activity_at
    from classified
    group by contact_id
),

final as (
    select
        *,
        case funnel_rank when 3 then 'BOFU' when 2 then 'MOFU' when 1 then 'TOFU' else 'none' end
            as funnel_stage,
        coalesce(
            first_recent_activity_at is not null
            and {{ dbt.datediff(
                'last_activity_before_recent_at', 'first_recent_activity_at', 'day'
            ) }} >= {{ var('reengagement_silence_days') }},
            false
        ) as is_re_engaged
    from per_lead
)

select * from final
