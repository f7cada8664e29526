{#
    The query of int_scoring__rule_activity_by_day (see the model for what it computes), for
    the events that meet `events_condition` (a range of days in a full build), or with
    `lead_days` (a query of contact_id and activity_date) the events of those leads on those
    days: what an incremental run aggregates again.
#}
{% macro rule_activity_days(events_condition, rules_version, lead_days=none) %}
with

events as (
    select events.* from {{ ref('stg_marketing__events') }} as events
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
    from {{ ref('event_types') }}
),

-- Aggregated by a small integer per rule, joined back to rule_id after grouping: the
-- aggregate holds one entry per lead, rule and day (about three per event), and a number
-- keeps each entry a fraction of the size of a rule id string.
rules as (
    select
        *,
        row_number() over (order by rule_id) as rule_number
    from {{ ref('stg_scoring__behavior_rules') }}
),

-- Event and frequency rules match on the event itself.
event_matches as (
    select
        events.contact_id,
        rules.rule_number,
        rules.half_life_days,
        events.occurred_at
    from events
    inner join rules
        on events.event_type = rules.event_type
    where
        rules.rule_type in ('event', 'frequency')
        and (rules.page_category is null or events.page_category = rules.page_category)
        and (
            rules.url_pattern is null
            or coalesce({{ regexp_like('events.page_url', 'rules.url_pattern') }}, false)
        )
),

-- Recency and inactivity rules look at any engagement event.
engagement_matches as (
    select
        events.contact_id,
        rules.rule_number,
        rules.half_life_days,
        events.occurred_at
    from events
    inner join event_types
        on events.event_type = event_types.event_type
    cross join rules
    where rules.rule_type in ('recency', 'inactivity') and event_types.is_engagement
),

matches as (
    select * from event_matches
    union all
    select * from engagement_matches
),

days as (
    select
        contact_id,
        rule_number,
        cast(occurred_at as date) as activity_date,
        count(*) as occurrences,
        sum(
            power(
                cast(2 as {{ double_type() }}),
                {{ dbt.datediff(dbt.date_trunc('day', 'occurred_at'), 'occurred_at', 'second') }}
                / 86400.0 / half_life_days
            )
        ) as decay_mass,
        max(occurred_at) as last_occurred_at
    from matches
    group by contact_id, rule_number, cast(occurred_at as date)
),

final as (
    select
        days.contact_id,
        rules.rule_id,
        days.activity_date,
        days.occurrences,
        days.decay_mass,
        days.last_occurred_at,
        '{{ rules_version }}' as rules_version,
        {{ run_timestamp() }} as _refreshed_at
    from days
    inner join rules
        on days.rule_number = rules.rule_number
)

select * from final
{% endmacro %}

{#
    A full build in ranges of whole days of at most `day_aggregate_chunk_events` events each
    (one day is never split): the conditions on `occurred_at`, in date order, or [] when one
    statement takes everything. The recent days (from the behaviour state's cutoff on, what a
    daily run reads) are always a range of their own, written last: a full build leaves them
    together at the end of the table, as daily runs do, instead of scattered through it.
    Run only for a full build; it counts the events per day. Not on Spark, where the model
    is a table built in one statement and the cluster is the answer.
#}
{% macro rebuild_day_ranges() %}
    {%- if not execute or model.resource_type == 'unit_test' or target.type == 'spark'
        or not _relations_exist([ref('stg_marketing__events')]) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set limit = var('day_aggregate_chunk_events') | int -%}
    {%- set per_day = run_query(
        "select cast(cast(occurred_at as date) as " ~ text_type() ~ ") as activity_date, "
        ~ "count(*) as events from " ~ ref('stg_marketing__events')
        ~ " group by cast(occurred_at as date) order by 1"
    ) -%}
    {%- set recent = scoring_state_cutoff() -%}
    {%- set ranges = [] -%}
    {%- set current = {'first': none, 'events': 0} -%}
    {%- for row in per_day.rows -%}
        {%- if current.first is not none and (
            current.events + row[1] > limit or (current.first < recent and row[0] >= recent)
        ) -%}
            {%- do ranges.append(current.first) -%}
            {%- do current.update({'first': none, 'events': 0}) -%}
        {%- endif -%}
        {%- if current.first is none -%}
            {%- do current.update({'first': row[0]}) -%}
        {%- endif -%}
        {%- do current.update({'events': current.events + row[1]}) -%}
    {%- endfor -%}
    {%- if current.first is not none -%}
        {%- do ranges.append(current.first) -%}
    {%- endif -%}
    {%- if ranges | length < 2 -%}
        {{ return([]) }}
    {%- endif -%}
    {#- Range i starts at its first day; the first is open below and the last above. -#}
    {%- set conditions = [] -%}
    {%- for first in ranges -%}
        {%- set parts = [] -%}
        {%- if not loop.first -%}
            {%- do parts.append("cast(occurred_at as date) >= cast('" ~ first ~ "' as date)") -%}
        {%- endif -%}
        {%- if not loop.last -%}
            {%- do parts.append(
                "cast(occurred_at as date) < cast('" ~ ranges[loop.index] ~ "' as date)"
            ) -%}
        {%- endif -%}
        {%- do conditions.append(parts | join(' and ')) -%}
    {%- endfor -%}
    {{ return(conditions) }}
{% endmacro %}

{#
    Post-hook of the day aggregates: after a full build whose query took the first range of
    days, aggregates the other ranges into the table, one statement each. A full build is
    recognised by every row carrying this run's timestamp; a range already in the table is
    never written twice.
#}
{% macro insert_other_day_ranges() %}
    {%- if not execute or target.type == 'spark' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set older = run_query(
        "select 1 from " ~ this ~ " where _refreshed_at < " ~ run_timestamp() ~ " limit 1"
    ) -%}
    {%- if older.rows | length > 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set ranges = rebuild_day_ranges() -%}
    {%- for condition in ranges[1:] -%}
        {%- set present = run_query(
            "select count(*) from " ~ this ~ " where "
            ~ condition | replace('occurred_at', 'activity_date')
        ) -%}
        {%- if present.rows[0][0] == 0 -%}
            {%- do log(
                "day aggregates: range " ~ (loop.index + 1) ~ " of " ~ ranges | length, info=true
            ) -%}
            {%- do run_query(
                "insert into " ~ this ~ " " ~ rule_activity_days(condition, behavior_rules_version())
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
