{#
    Which day aggregates each behaviour rule reads: rules that match the same events share
    one signal, so a day aggregate is written once for all of them. A signal is what the
    rows depend on: the events matched (event, frequency, value and last-activity rules:
    event type, page category, URL pattern and the filter on an event attribute; recency and
    inactivity rules: every engagement event), the event attribute a value rule sums, and
    the half-life of the decay mass. A rule without decay (a frequency, recency or
    inactivity rule, or a rule without a half-life) reads only counts, sums and latest
    events, which are the same for every half-life, so it joins the signal of a decayed rule
    with the same match when there is one. With the shipped rules this shares "3+ site
    visits" with "Visited the website", "Existing customer exploring products" with "Visited
    a product page", and the inactivity rule with the recency rule: 142M day aggregates
    become 83M at 50M events. When a last-activity rule exists, the pseudo-rule `_any_event`
    has a signal of every event, whose latest time the rule compares its own with.
    signal_id numbers the signals in a fixed order, so it stays the same while the rules do
    (a rules edit aggregates every day again). `rules` is stg_scoring__behavior_rules.
#}
{% macro rule_signals(rules) %}
    with

    behavior_rules as (
        select * from {{ rules }}
    ),

    rules as (
        select
            rule_id,
            half_life_days,
            case
                when rule_type in ('recency', 'inactivity') then 'engagement' else 'match'
            end as match_kind,
            case when rule_type not in ('recency', 'inactivity') then event_type end as event_type,
            case when rule_type not in ('recency', 'inactivity') then page_category end
                as page_category,
            case when rule_type not in ('recency', 'inactivity') then url_pattern end
                as url_pattern,
            case when rule_type not in ('recency', 'inactivity') then filter_attribute end
                as filter_attribute,
            case when rule_type not in ('recency', 'inactivity') then filter_operator end
                as filter_operator,
            case when rule_type not in ('recency', 'inactivity') then filter_value end
                as filter_value,
            case when rule_type = 'value' then value_attribute end as value_attribute
        from behavior_rules
        where
            rule_type in ('event', 'frequency', 'recency', 'inactivity', 'value', 'last_activity')
        union all
        select
            '_any_event' as rule_id,
            cast(null as {{ double_type() }}) as half_life_days,
            'any' as match_kind,
            cast(null as {{ text_type() }}) as event_type,
            cast(null as {{ text_type() }}) as page_category,
            cast(null as {{ text_type() }}) as url_pattern,
            cast(null as {{ text_type() }}) as filter_attribute,
            cast(null as {{ text_type() }}) as filter_operator,
            cast(null as {{ text_type() }}) as filter_value,
            cast(null as {{ text_type() }}) as value_attribute
        from behavior_rules
        where rule_type = 'last_activity'
        group by rule_type
    ),

    keyed as (
        select
            rules.*,
            coalesce(
                half_life_days,
                min(half_life_days) over (
                    partition by
                        match_kind,
                        event_type,
                        page_category,
                        url_pattern,
                        filter_attribute,
                        filter_operator,
                        filter_value,
                        value_attribute
                )
            ) as signal_half_life_days
        from rules
    )

    select
        keyed.*,
        dense_rank() over (
            order by
                match_kind,
                coalesce(event_type, ''),
                coalesce(page_category, ''),
                coalesce(url_pattern, ''),
                coalesce(filter_attribute, ''),
                coalesce(filter_operator, ''),
                coalesce(filter_value, ''),
                coalesce(value_attribute, ''),
                coalesce(signal_half_life_days, -1)
        ) as signal_id
    from keyed
{% endmacro %}

{#
    Each rule's day aggregates: the rows of its signal in `activity`
    (int_scoring__signal_activity_by_day; `rules` as in rule_signals()) that meet `condition`, with the decay masses only for rules that decay. The condition is
    on the signal rows (alias `activity`) and applies before they are repeated for each rule
    of the signal, so a filter on leads or days reads only their rows.
#}
{% macro rule_days(activity, rules, condition='true') %}
    select
        activity.contact_id,
        rule_signals.rule_id,
        activity.activity_date,
        activity.occurrences,
        case
            when rule_signals.half_life_days is not null then activity.decay_mass
        end as decay_mass,
        activity.last_occurred_at,
        activity.value_count,
        activity.value_sum,
        case
            when rule_signals.half_life_days is not null then activity.value_decay_mass
        end as value_decay_mass,
        activity.value_max,
        activity.rules_version,
        activity._refreshed_at
    from (
        select * from {{ activity }} as activity
        where {{ condition }}
    ) as activity
    inner join ({{ rule_signals(rules) }}) as rule_signals
        on activity.signal_id = rule_signals.signal_id
{% endmacro %}

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

{#
    A behaviour rule's filter on an event attribute: the fit rules' operators on the
    attribute's text (equals, not_equals, in, not_in, contains, regex, is_missing,
    is_present) or its number (gt, gte, lt, lte), with a missing value meeting only
    is_missing.
#}
{% macro event_filter_matches(value, operator, filter_value) -%}
    {{ condition_matches(
        'lower(' ~ value ~ ')',
        parse_number(value),
        'cast(null as boolean)',
        "'text'",
        operator,
        filter_value,
        parse_number(filter_value),
        'cast(null as ' ~ double_type() ~ ')',
        'cast(null as ' ~ double_type() ~ ')',
        'false'
    ) }}
{%- endmacro %}

{#
    A full build in ranges of whole days of at most `day_aggregate_chunk_events` events each
    (one day is never split): the conditions on `occurred_at`, in date order, or [] when one
    statement takes everything. The recent days (from the behaviour state's cutoff on, what a
    daily run reads) are always a range of their own, written last: a full build leaves them
    together at the end of the table, as daily runs do, instead of scattered through it.
    Run only for a full build; it counts the events per day. Not on Spark, where the model
    is a table built in one statement and the cluster is the answer. `events` is
    stg_marketing__events, `rules` stg_scoring__behavior_rules.
#}
{% macro rebuild_day_ranges(events, rules) %}
    {%- if not execute or model.resource_type == 'unit_test' or target.type == 'spark'
        or not _relations_exist([events]) -%}
        {{ return([]) }}
    {%- endif -%}
    {%- set limit = var('day_aggregate_chunk_events') | int -%}
    {%- set per_day = run_query(
        "select cast(cast(occurred_at as date) as " ~ text_type() ~ ") as activity_date, "
        ~ "count(*) as events from " ~ events
        ~ " group by cast(occurred_at as date) order by 1"
    ) -%}
    {%- set recent = scoring_state_cutoff(rules) -%}
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
    never written twice. The relations are those of rule_activity_days().
#}
{% macro insert_other_day_ranges(events, event_types, rules) %}
    {%- if not execute or target.type == 'spark' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set older = run_query(
        "select 1 from " ~ this ~ " where _refreshed_at < " ~ run_timestamp() ~ " limit 1"
    ) -%}
    {%- if older.rows | length > 0 -%}
        {{ return('') }}
    {%- endif -%}
    {%- set ranges = rebuild_day_ranges(events, rules) -%}
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
                "insert into " ~ this ~ " " ~ rule_activity_days(
                    events, event_types, rules, condition, behavior_rules_version(rules, event_types)
                )
            ) -%}
        {%- endif -%}
    {%- endfor -%}
    {{ return('') }}
{% endmacro %}
