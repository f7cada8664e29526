{{
    config(
        pre_hook="{{ delete_stale_rule_state(
            ref('base_marketing__events'), ref('stg_scoring__behavior_rules'), ref('event_types')
        ) }}",
        **incremental_config(
            unique_key=['contact_id', 'rule_id'], on_schema_change='append_new_columns'
        )
    )
}}

-- One row per lead and rule that reads all history (event rules without a look-back, value
-- and last-activity rules without a window, and the `_any_event` pseudo-rule those compare
-- with): the totals of its matching events on the days before `covered_until` (the state
-- cutoff, `scoring_recent_days()` days before the as-of date), so the daily score reads a row
-- per lead and rule plus the recent days instead of every day of history. Value rules keep
-- the count, sum, decayed sum and maximum of the event attribute they read.
--
-- The decay mass is kept aged to `mass_date`:
--   mass = sum over days d < covered_until of S_d * 0.5 ^ ((mass_date - d) / half_life)
-- (S_d: the day's decay mass, int_scoring__rule_activity_by_day). Scoring ages it by
-- 0.5 ^ ((as-of + 1 - mass_date) / half_life), which gives each event exactly its own decay.
-- A run that moves the cutoff forward ages the rows of leads with activity on the days it
-- passes and adds those days; the other rows keep their mass_date and stay exact. Leads
-- with a late or reclassified event before the stored cutoff are rebuilt from their days;
-- a rules edit rebuilds everything. A past as-of date (before the stored cutoff) leaves the
-- state alone and scoring reads the days (int_scoring__behavior_components).
{%- set base_events = ref('base_marketing__events') %}
{%- set behavior_rules = ref('stg_scoring__behavior_rules') %}
{%- set signal_days = ref('int_scoring__signal_activity_by_day') %}
{%- set cutoff = scoring_state_cutoff(behavior_rules) %}
{%- set rules_version = behavior_rules_version(behavior_rules, ref('event_types')) %}
{%- set stored = stored_state(this) %}
{%- set rebuild = not is_incremental() or stored[0] is none or stored[1] != rules_version %}
{%- set keep = not rebuild and cutoff < stored[0] %}
{#- Which days: all before the cutoff, none, or the days the cutoff passes and every day of
    the late leads. Two conditions, not one with `or`: the date range alone lets the engine
    skip the older days' blocks instead of reading every day of history. #}
{%- if rebuild %}
    {%- set day_parts = ['true'] %}
{%- elif keep %}
    {%- set day_parts = [] %}
{%- else %}
    {%- set day_parts = [
        "activity.activity_date >= cast('" ~ stored[0] ~ "' as date)",
        "activity.activity_date < cast('" ~ stored[0] ~ "' as date)"
        ~ " and activity.contact_id in (select late_contacts.contact_id from late_contacts)",
    ] %}
{%- endif %}
with

behavior_rules as (
    select * from {{ behavior_rules }}
),

rules as (
    select
        rule_id,
        half_life_days
    from behavior_rules
    where
        (rule_type = 'event' and lookback_days is null)
        or (rule_type in ('value', 'last_activity') and window_days is null)
    union all
    select
        '_any_event' as rule_id,
        cast(null as {{ double_type() }}) as half_life_days
    from behavior_rules
    where rule_type = 'last_activity' and window_days is null
    group by rule_type
),

{% if not rebuild and not keep %}
    late_contacts as (
        {{ late_state_contacts(stored[0], base_events) }}
    ),
{% endif %}

days as (
    {%- for condition in day_parts or ['false'] %}
        {% if not loop.first %}union all{% endif %}
        select
            activity.contact_id,
            activity.rule_id,
            activity.activity_date,
            activity.occurrences,
            activity.decay_mass,
            activity.last_occurred_at,
            activity.value_count,
            activity.value_sum,
            activity.value_decay_mass,
            activity.value_max
        -- The rules' days (int_scoring__rule_activity_by_day's query), with the conditions
        -- on the signal rows: a lead's or a day's rows are read before they are repeated per
        -- rule, so the engine skips the others.
        from (
            {{ rule_days(
                signal_days,
                behavior_rules,
                "activity.activity_date < cast('" ~ cutoff ~ "' as date) and " ~ condition
            ) }}
        ) as activity
        where activity.rule_id in (select rules.rule_id from rules)
    {%- endfor %}
),

combined as (
    select
        days.contact_id,
        days.rule_id,
        days.occurrences,
        days.decay_mass * power(
            cast(0.5 as {{ double_type() }}),
            {{ dbt.datediff('days.activity_date', "cast('" ~ cutoff ~ "' as date)", 'day') }}
            / rules.half_life_days
        ) as mass,
        days.last_occurred_at,
        days.value_count,
        days.value_sum,
        days.value_decay_mass * power(
            cast(0.5 as {{ double_type() }}),
            {{ dbt.datediff('days.activity_date', "cast('" ~ cutoff ~ "' as date)", 'day') }}
            / rules.half_life_days
        ) as value_mass,
        days.value_max
    from days
    inner join rules
        on days.rule_id = rules.rule_id
    {% if not rebuild and not keep %}
        -- The stored rows of leads that gain days, aged to the new cutoff (late leads were
        -- deleted by the pre-hook and come back whole from their days).
        union all
        select
            previous.contact_id,
            previous.rule_id,
            previous.occurrences,
            previous.mass * power(
                cast(0.5 as {{ double_type() }}),
                {{ dbt.datediff('previous.mass_date', "cast('" ~ cutoff ~ "' as date)", 'day') }}
                / rules.half_life_days
            ) as mass,
            previous.last_occurred_at,
            previous.value_count,
            previous.value_sum,
            previous.value_mass * power(
                cast(0.5 as {{ double_type() }}),
                {{ dbt.datediff('previous.mass_date', "cast('" ~ cutoff ~ "' as date)", 'day') }}
                / rules.half_life_days
            ) as value_mass,
            previous.value_max
        from {{ this }} as previous
        inner join rules
            on previous.rule_id = rules.rule_id
        where
            previous.contact_id not in (select late_contacts.contact_id from late_contacts)
            and exists (
                select 1 from days
                where
                    days.contact_id = previous.contact_id
                    and days.rule_id = previous.rule_id
            )
    {% endif %}
),

final as (
    select
        -- ids
        contact_id,
        rule_id,

        -- numerics
        sum(occurrences) as occurrences,
        sum(mass) as mass,

        -- timestamps
        max(last_occurred_at) as last_occurred_at,

        -- dates
        cast('{{ cutoff }}' as date) as mass_date,
        cast('{{ cutoff }}' as date) as covered_until,

        -- lineage
        '{{ rules_version }}' as rules_version,
        {{ run_timestamp() }} as _refreshed_at,

        -- value rules (last: columns added in a later release come last in a stored table)
        sum(value_count) as value_count,
        sum(value_sum) as value_sum,
        sum(value_mass) as value_mass,
        max(value_max) as value_max
    from combined
    group by contact_id, rule_id
)

select * from final
