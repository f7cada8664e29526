{{ config(enabled=var('crm_source', 'generic') == 'hubspot') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- HubSpot activity in the shape of the raw contract's marketing_events, one row per contact
-- and thing they did:
--   email_event      OPEN -> email_open, CLICK -> email_click, BOUNCE -> email_bounce,
--                    SPAMREPORT and STATUS_CHANGE to unsubscribed -> unsubscribe; sends,
--                    deliveries and HubSpot-filtered (bot) events are not the person's doing
--                    and are left out;
--   contact_form_submission   form_submit, or the type of the first `hubspot_form_event_types`
--                    pattern the form title or page URL matches (demo_request, ...);
--   engagement_meeting / engagement_call   sales_meeting / sales_call, one per contact the
--                    engagement involved.
-- Ids and emails of contacts merged into another resolve to the survivor here.
{%- set email_events_enabled = var('hubspot_email_event_enabled', true) -%}
{%- set status_changes_enabled = email_events_enabled
    and var('hubspot_email_event_status_change_enabled', true) -%}
{%- set forms_enabled = var('hubspot_contact_form_submission_enabled', true) -%}
{%- set engagements_enabled = var('hubspot_engagement_enabled', true) -%}
{%- set meetings_enabled = engagements_enabled
    and var('hubspot_engagement_meeting_enabled', true) -%}
{%- set calls_enabled = engagements_enabled and var('hubspot_engagement_call_enabled', true) -%}
{%- set parts = [] %}

with

contact_ids as (
    select * from {{ ref('adapter_hubspot__contact_ids') }}
),

email_identity as (
    select
        email,
        min(canonical_contact_id) as canonical_contact_id
    from contact_ids
    where email is not null
    group by email
)

{%- if email_events_enabled %}
{%- set email_event = source('hubspot', 'email_event') -%}
{%- set email_columns = fivetran_columns(email_event) -%}
{%- do parts.append('email_activity') %},

email_events as (
    select
        {{ fivetran_text(email_columns, ['id']) }} as source_event_id,
        upper({{ fivetran_text(email_columns, ['type']) }}) as hubspot_type,
        {{ normalize_email(fivetran_text(email_columns, ['recipient'])) }} as email,
        {{ fivetran_text(email_columns, ['email_campaign_id']) }} as campaign_id,
        {{ fivetran_text(email_columns, ['created']) }} as occurred_at,
        {{ fivetran_synced_at(email_columns) }} as _loaded_at
    from {{ email_event }}
    where
        {{ fivetran_is_live(email_columns) }}
        and not coalesce(
            {{ parse_boolean(fivetran_text(email_columns, ['filtered_event'])) }}, false
        )
),

{%- if status_changes_enabled %}
{%- set status_change = source('hubspot', 'email_event_status_change') -%}
{%- set status_columns = fivetran_columns(status_change) %}

unsubscribing_changes as (
    select distinct {{ fivetran_text(status_columns, ['id']) }} as source_event_id
    from {{ status_change }}
    where
        {{ fivetran_is_live(status_columns) }}
        and (
            upper({{ fivetran_text(status_columns, ['portal_subscription_status']) }})
            = 'UNSUBSCRIBED'
            or upper({{ fivetran_text(status_columns, ['subscriptions']) }})
            like '%UNSUBSCRIBED%'
        )
),
{%- endif %}

email_activity as (
    select
        'email:' || email_events.source_event_id as event_id,
        email_identity.canonical_contact_id as contact_id,
        email_events.email,
        case
            when email_events.hubspot_type = 'OPEN' then 'email_open'
            when email_events.hubspot_type = 'CLICK' then 'email_click'
            when email_events.hubspot_type = 'BOUNCE' then 'email_bounce'
            when email_events.hubspot_type = 'SPAMREPORT' then 'unsubscribe'
            {%- if status_changes_enabled %}
            when
                email_events.hubspot_type = 'STATUS_CHANGE'
                and unsubscribing_changes.source_event_id is not null
                then 'unsubscribe'
            {%- endif %}
        end as event_type,
        cast(null as {{ text_type() }}) as page_url,
        email_events.campaign_id,
        email_events.occurred_at,
        cast(1 as bigint) as _file_id,
        '{{ email_event.schema }}.{{ email_event.identifier }}' as _source_file,
        email_events._loaded_at
    from email_events
    left join email_identity
        on email_events.email = email_identity.email
    {%- if status_changes_enabled %}
    left join unsubscribing_changes
        on email_events.source_event_id = unsubscribing_changes.source_event_id
    {%- endif %}
)
{%- endif %}

{%- if forms_enabled %}
{%- set submission = source('hubspot', 'contact_form_submission') -%}
{%- set form_columns = fivetran_columns(submission) -%}
{%- do parts.append('form_activity') %},

form_submissions as (
    select
        {{ fivetran_text(form_columns, ['contact_id']) }} as contact_id,
        {{ fivetran_text(form_columns, ['conversion_id']) }} as conversion_id,
        {{ fivetran_text(form_columns, ['timestamp']) }} as occurred_at,
        {{ fivetran_text(form_columns, ['page_url']) }} as page_url,
        lower(
            coalesce({{ fivetran_text(form_columns, ['title']) }}, '')
            || ' '
            || coalesce({{ fivetran_text(form_columns, ['page_url']) }}, '')
        ) as form_text,
        {{ fivetran_synced_at(form_columns) }} as _loaded_at
    from {{ submission }}
    where {{ fivetran_is_live(form_columns) }}
),

form_activity as (
    select
        'form:' || coalesce(
            form_submissions.conversion_id,
            form_submissions.contact_id || ':' || form_submissions.occurred_at
        ) as event_id,
        coalesce(contact_ids.canonical_contact_id, form_submissions.contact_id) as contact_id,
        cast(null as {{ text_type() }}) as email,
        case
            {%- for mapping in var('hubspot_form_event_types', []) %}
            when {{ regexp_like('form_submissions.form_text', "'" ~ mapping.pattern ~ "'") }}
                then '{{ mapping.event_type }}'
            {%- endfor %}
            else 'form_submit'
        end as event_type,
        form_submissions.page_url,
        cast(null as {{ text_type() }}) as campaign_id,
        form_submissions.occurred_at,
        cast(2 as bigint) as _file_id,
        '{{ submission.schema }}.{{ submission.identifier }}' as _source_file,
        form_submissions._loaded_at
    from form_submissions
    left join contact_ids
        on form_submissions.contact_id = contact_ids.contact_id
)
{%- endif %}

{%- if meetings_enabled or calls_enabled %}
{%- set engagement_contact = source('hubspot', 'engagement_contact') -%}
{%- set link_columns = fivetran_columns(engagement_contact) %},

engagement_contacts as (
    select
        {{ fivetran_text(link_columns, ['engagement_id']) }} as engagement_id,
        {{ fivetran_text(link_columns, ['contact_id']) }} as contact_id,
        {{ fivetran_synced_at(link_columns) }} as _loaded_at
    from {{ engagement_contact }}
    where {{ fivetran_is_live(link_columns) }}
)
{%- endif %}

{%- for kind, table, file_id, time_columns in [
    ('meeting', 'engagement_meeting', 3,
        ['property_hs_meeting_start_time', 'property_hs_timestamp', 'start_time',
         'property_hs_createdate']),
    ('call', 'engagement_call', 4, ['property_hs_timestamp', 'property_hs_createdate']),
] if (meetings_enabled if kind == 'meeting' else calls_enabled) %}
{%- set relation = source('hubspot', table) -%}
{%- set engagement_columns = fivetran_columns(relation) -%}
{%- do parts.append(kind ~ '_activity') %},

{{ kind }}_activity as (
    select
        '{{ kind }}:' || engagements.engagement_id || ':' || engagement_contacts.contact_id
            as event_id,
        coalesce(contact_ids.canonical_contact_id, engagement_contacts.contact_id)
            as contact_id,
        cast(null as {{ text_type() }}) as email,
        'sales_{{ kind }}' as event_type,
        cast(null as {{ text_type() }}) as page_url,
        cast(null as {{ text_type() }}) as campaign_id,
        engagements.occurred_at,
        cast({{ file_id }} as bigint) as _file_id,
        '{{ relation.schema }}.{{ relation.identifier }}' as _source_file,
        engagement_contacts._loaded_at
    from (
        select
            {{ fivetran_text(engagement_columns, ['engagement_id']) }} as engagement_id,
            {{ fivetran_text(engagement_columns, time_columns) }} as occurred_at
        from {{ relation }}
        where {{ fivetran_is_live(engagement_columns) }}
    ) as engagements
    inner join engagement_contacts
        on engagements.engagement_id = engagement_contacts.engagement_id
    left join contact_ids
        on engagement_contacts.contact_id = contact_ids.contact_id
)
{%- endfor %},

activity as (
    {%- for part in parts %}
        select * from {{ part }}
        {%- if not loop.last %}
        union all
        {%- endif %}
    {%- else %}
        select
            event_id,
            contact_id,
            email,
            event_type,
            page_url,
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
        event_id,
        contact_id,
        email,
        event_type,
        page_url,
        cast(null as {{ text_type() }}) as page_category,
        campaign_id,
        occurred_at,

        -- lineage: the Fivetran table stands in for the landing file
        _file_id,
        row_number() over (partition by _file_id order by event_id) as _source_row,
        _source_file,
        _loaded_at
    from activity
    where event_type is not null
)

select * from final
