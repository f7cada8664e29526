{#
    The query of int_scoring__signal_activity_by_day (see the model for what it computes),
    for the events that meet `events_condition` (a range of days in a full build), or with
    `lead_days` (a query of contact_id and activity_date) the events of those leads on those
    days: what an incremental run aggregates again. The relations: `events`
    (stg_marketing__events), `event_types` (the seed) and `rules` (stg_scoring__behavior_rules).
#}
{% macro rule_activity_days(events, event_types, rules, events_condition, rules_version, lead_days=none) %}
{%- set events_relation = events %}
{%- set catalog = event_attribute_catalog(events_relation) %}
with

events as (
    select events.* from {{ events_relation }} as events
    {%- if lead_days %}
        -- A join on the lead and a range of time, not on cast(occurred_at as date): the
        -- engine hashes the leads and compares timestamps instead of casting every event.
        inner join ({{ lead_days }}) as lead_days
            on
                events.contact_id = lead_days.contact_id
                and events.occurred_at >= cast(lead_days.activity_date as timestamp)
                and events.occurred_at
                < {{ dbt.dateadd('day', 1, 'cast(lead_days.activity_date as timestamp)') }}
    {%- endif %}
    where {{ events_condition }}
),

event_types as (
    select
        event_type,
        is_engagement
    from {{ event_types }}
),

signals as (
    select distinct
        signal_id,
        match_kind,
        event_type,
        page_category,
        url_pattern,
        filter_attribute,
        filter_operator,
        filter_value,
        value_attribute,
        signal_half_life_days as half_life_days
    from ({{ rule_signals(rules) }}) as rule_signals
),

-- Signals of event, frequency, value and last-activity rules match on the event itself:
-- those with an event type by a join on it, those without (a filter alone) against every
-- event.
candidates as (
    select
        events.*,
        signals.signal_id,
        signals.half_life_days,
        signals.page_category as signal_page_category,
        signals.url_pattern,
        signals.filter_attribute,
        signals.filter_operator,
        signals.filter_value,
        signals.value_attribute
    from events
    inner join signals
        on events.event_type = signals.event_type
    where signals.match_kind = 'match'
    union all
    select
        events.*,
        signals.signal_id,
        signals.half_life_days,
        signals.page_category as signal_page_category,
        signals.url_pattern,
        signals.filter_attribute,
        signals.filter_operator,
        signals.filter_value,
        signals.value_attribute
    from events
    cross join signals
    where signals.match_kind = 'match' and signals.event_type is null
),

event_matches as (
    select
        contact_id,
        signal_id,
        half_life_days,
        occurred_at,
        case
            when value_attribute is not null
                then {{ parse_number(event_attribute_value('candidates', 'value_attribute', catalog)) }}
        end as event_value
    from candidates
    where
        (signal_page_category is null or page_category = signal_page_category)
        and (
            url_pattern is null
            or coalesce({{ regexp_like('page_url', 'url_pattern') }}, false)
        )
        and (
            filter_attribute is null
            or {{ event_filter_matches(
                event_attribute_value('candidates', 'filter_attribute', catalog),
                'filter_operator',
                'filter_value'
            ) }}
        )
),

-- Signals of recency and inactivity rules look at any engagement event; the pseudo-rule of
-- last-activity rules at every event.
engagement_matches as (
    select
        events.contact_id,
        signals.signal_id,
        signals.half_life_days,
        events.occurred_at,
        cast(null as {{ double_type() }}) as event_value
    from events
    inner join event_types
        on events.event_type = event_types.event_type
    cross join signals
    where
        (signals.match_kind = 'engagement' and event_types.is_engagement)
        or signals.match_kind = 'any'
),

matches as (
    select * from event_matches
    union all
    select * from engagement_matches
),

final as (
    select
        contact_id,
        signal_id,
        cast(occurred_at as date) as activity_date,
        count(*) as occurrences,
        sum(
            power(
                cast(2 as {{ double_type() }}),
                {{ dbt.datediff(dbt.date_trunc('day', 'occurred_at'), 'occurred_at', 'second') }}
                / 86400.0 / half_life_days
            )
        ) as decay_mass,
        max(occurred_at) as last_occurred_at,
        '{{ rules_version }}' as rules_version,
        {{ run_timestamp() }} as _refreshed_at,
        -- after the lineage: columns added in a later release come last in a stored table
        count(event_value) as value_count,
        sum(event_value) as value_sum,
        sum(
            case
                when event_value is not null
                    then event_value * power(
                            cast(2 as {{ double_type() }}),
                            {{ dbt.datediff(
                                dbt.date_trunc('day', 'occurred_at'), 'occurred_at', 'second'
                            ) }}
                            / 86400.0 / half_life_days
                        )
            end
        ) as value_decay_mass,
        max(event_value) as value_max
    from matches
    group by contact_id, signal_id, cast(occurred_at as date)
)

select * from final
{% endmacro %}
