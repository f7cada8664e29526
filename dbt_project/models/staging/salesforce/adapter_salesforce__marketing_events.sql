{{ config(enabled=var('crm_source', 'generic') == 'salesforce') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- Salesforce activities with a lead or contact (WhoId) in the shape of the raw contract's
-- marketing_events, attributed to the person through lead conversion:
--   event (calendar)  type Call -> sales_call, anything else -> sales_meeting;
--   task              completed tasks only: calls (subtype or type Call, or a call type)
--                     -> sales_call, any other task -> sales_task (known, scores nothing).
-- Activities with no WhoId (logged only against an account or opportunity) are left out.
{%- set parts = [] %}

with

person_ids as (
    select * from {{ ref('adapter_salesforce__person_ids') }}
)

{%- if var('salesforce_event_enabled', true) %}
{%- set event = source('salesforce', 'event') -%}
{%- set event_columns = fivetran_columns(event) -%}
{%- do parts.append('calendar_activity') %},

calendar_activity as (
    select
        'event:' || {{ fivetran_text(event_columns, ['id']) }} as source_event_id,
        {{ fivetran_text(event_columns, ['who_id']) }} as who_id,
        case
            when
                upper(coalesce({{ fivetran_text(event_columns, ['type']) }}, '')) = 'CALL'
                then 'sales_call'
            else 'sales_meeting'
        end as event_type,
        cast(null as {{ text_type() }}) as campaign_id,
        {{ fivetran_text(
            event_columns,
            ['start_date_time', 'activity_date_time', 'activity_date', 'created_date']
        ) }} as occurred_at,
        cast(1 as bigint) as _file_id,
        '{{ event.schema }}.{{ event.identifier }}' as _source_file,
        {{ fivetran_synced_at(event_columns) }} as _loaded_at
    from {{ event }}
    where
        {{ fivetran_is_live(event_columns) }}
        and {{ fivetran_text(event_columns, ['who_id']) }} is not null
)
{%- endif %}

{%- if var('salesforce_task_enabled', true) %}
{%- set task = source('salesforce', 'task') -%}
{%- set task_columns = fivetran_columns(task) -%}
{%- do parts.append('task_activity') %},

task_activity as (
    select
        'task:' || {{ fivetran_text(task_columns, ['id']) }} as source_event_id,
        {{ fivetran_text(task_columns, ['who_id']) }} as who_id,
        case
            when
                upper(coalesce({{ fivetran_text(task_columns, ['task_subtype']) }}, '')) = 'CALL'
                or upper(coalesce({{ fivetran_text(task_columns, ['type']) }}, '')) = 'CALL'
                or {{ fivetran_text(task_columns, ['call_type']) }} is not null
                then 'sales_call'
            else 'sales_task'
        end as event_type,
        cast(null as {{ text_type() }}) as campaign_id,
        {{ fivetran_text(
            task_columns, ['completed_date_time', 'activity_date', 'created_date']
        ) }} as occurred_at,
        cast(2 as bigint) as _file_id,
        '{{ task.schema }}.{{ task.identifier }}' as _source_file,
        {{ fivetran_synced_at(task_columns) }} as _loaded_at
    from {{ task }}
    where
        {{ fivetran_is_live(task_columns) }}
        and {{ fivetran_text(task_columns, ['who_id']) }} is not null
        and coalesce(
            {{ parse_boolean(fivetran_text(task_columns, ['is_closed'])) }},
            upper({{ fivetran_text(task_columns, ['status']) }}) = 'COMPLETED',
            true
        )
)
{%- endif %},

activity as (
    {%- for part in parts %}
        select * from {{ part }}
        {%- if not loop.last %}
        union all
        {%- endif %}
    {%- else %}
        select
            event_id as source_event_id,
            contact_id as who_id,
            event_type,
            campaign_id,
            occurred_at,
            _file_id,
            _source_file,
            _loaded_at
        from ({{ empty_raw_rows('marketing_events') }}) as no_tables
    {%- endfor %}
),

final as (
    select
        -- contract columns, as text
        activity.source_event_id as event_id,
        coalesce(person_ids.canonical_person_id, activity.who_id) as contact_id,
        cast(null as {{ text_type() }}) as email,
        activity.event_type,
        cast(null as {{ text_type() }}) as page_url,
        cast(null as {{ text_type() }}) as page_category,
        activity.campaign_id,
        activity.occurred_at,

        -- lineage: the Fivetran table stands in for the landing file
        activity._file_id,
        row_number() over (
            partition by activity._file_id order by activity.source_event_id
        ) as _source_row,
        activity._source_file,
        activity._loaded_at
    from activity
    left join person_ids
        on activity.who_id = person_ids.person_id
)

select * from final
