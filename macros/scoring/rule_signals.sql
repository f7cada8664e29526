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
