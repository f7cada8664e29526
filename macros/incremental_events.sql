{#
    Helpers of the incremental day aggregates (int_scoring__signal_activity_by_day).

    behavior_rules_version(rules, event_types): a digest of everything a day aggregate
    depends on besides the events (which rule matches which event, what it sums, and each
    rule's half-life): the behaviour rules (`rules`, stg_scoring__behavior_rules) and the
    event types' engagement flags (`event_types`, the event_types seed). When an analyst edits them, every day is
    aggregated again.
#}
{% macro behavior_rules_version(rules, event_types) -%}
    {%- if not execute or model.resource_type == 'unit_test'
        or not _relations_exist([rules, event_types]) -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rule_rows = run_query(
        "select rule_id, rule_type, event_type, page_category, url_pattern, half_life_days, "
        ~ "filter_attribute, filter_operator, filter_value, value_attribute from "
        ~ rules ~ " order by rule_id"
    ) -%}
    {%- set event_type_rows = run_query(
        "select event_type, is_engagement from " ~ event_types ~ " order by event_type"
    ) -%}
    {%- set parts = [] -%}
    {%- for row in rule_rows.rows -%}
        {%- do parts.append(row.values() | map('string') | join('|')) -%}
    {%- endfor -%}
    {%- for row in event_type_rows.rows -%}
        {%- do parts.append(row.values() | map('string') | join('|')) -%}
    {%- endfor -%}
    {{ return(local_md5(parts | join('\n'))) }}
{%- endmacro %}

{# The version the stored day aggregates were built with ('' when there are none). #}
{% macro stored_rules_version() -%}
    {%- if not execute or not is_incremental() -%}
        {{ return('') }}
    {%- endif -%}
    {%- set stored = run_query("select rules_version from " ~ this ~ " limit 1") -%}
    {{ return(stored.rows[0][0] if stored.rows | length > 0 else '') }}
{%- endmacro %}

{#
    When `relation` was last written, as a timestamp literal: its latest `column` (the run
    timestamp its rows carry; 1900-01-01 when empty). A literal, not a subquery: the
    pre-hook and the model's query see the same value although the pre-hook deletes rows in
    between, and the engine can skip the blocks of older rows (DuckDB's zone maps).
#}
{% macro last_refreshed_at(relation, column='_refreshed_at') -%}
    {%- set result = run_query(
        "select cast(max(" ~ column ~ ") as " ~ text_type() ~ ") from " ~ relation
    ) if execute else none -%}
    {%- set value = result.rows[0][0] if result and result.rows | length > 0 else none -%}
    cast('{{ value or "1900-01-01 00:00:00" }}' as timestamp)
{%- endmacro %}

{#
    Leads and days with an event row (re)classified since the day aggregates last ran: a new
    or late event, a duplicate resolved, a contact found. A lead's day aggregates depend only
    on that lead's events of that day, so a run aggregates again exactly these lead-days (a
    late event rebuilds its lead's day, not everyone's). An event row's contact only ever
    goes from unknown to known (`events`, base_marketing__events), so no other lead-day
    changes.
#}
{% macro changed_lead_days(events) -%}
    select distinct
        contact_id,
        cast(occurred_at as date) as activity_date
    from {{ events }}
    where {{ _changed_lead_events() }}
{%- endmacro %}

{# The first of those days as YYYY-MM-DD, none when nothing changed: a literal bound lets
   the engine skip the older days' blocks of the day aggregates, and compare one timestamp
   before hashing a lead for the events. #}
{% macro first_changed_day(events) -%}
    {%- if not execute -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query(
        "select cast(min(cast(occurred_at as date)) as " ~ text_type() ~ ") from "
        ~ events ~ " where " ~ _changed_lead_events()
    ) -%}
    {{ return(result.rows[0][0] if result.rows | length > 0 else none) }}
{%- endmacro %}

{% macro _changed_lead_events() -%}
    contact_id is not null
    and occurred_at is not null
    and _classified_at > {{ last_refreshed_at(this) }}
{%- endmacro %}

{#
    Pre-hook of the day aggregates: removes the lead-days about to be aggregated again, so a
    lead-day whose last usable event became a duplicate leaves no stale row, and everything
    when the rules changed (the relations are those of changed_lead_days() and
    behavior_rules_version()).
#}
{% macro delete_changed_lead_days(events, rules, event_types) -%}
    {%- if is_incremental() -%}
        {%- if stored_rules_version() != behavior_rules_version(rules, event_types) -%}
            delete from {{ this }}
        {%- else -%}
            {%- set first_day = first_changed_day(events) -%}
            {%- if first_day is not none -%}
                delete from {{ this }} as aggregated
                using ({{ changed_lead_days(events) }}) as changed
                where
                    aggregated.contact_id = changed.contact_id
                    and aggregated.activity_date = changed.activity_date
                    and aggregated.activity_date >= cast('{{ first_day }}' as date)
            {%- endif -%}
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{# base_marketing__events, incremental: an earlier row had no contact, and its contact_id or
   email resolves now (the model's `identity` and `email_identity`). #}
{% macro event_contact_now_known() -%}
    (
        contact_id is null
        and (
            source_contact_id in (select identity.source_contact_id from identity)
            or email in (select email_identity.email from email_identity)
        )
    )
{%- endmacro %}

{#
    The behaviour state (int_scoring__rule_state) holds, per lead and event rule without a
    look-back, the totals of the days before a cutoff; scoring adds the recent days, the
    last `scoring_recent_days()` days up to the as-of date, from the day aggregates. Every
    window and look-back of the rules fits in the recent days, so only event totals need
    the state. `rules` is stg_scoring__behavior_rules.
#}
{% macro scoring_recent_days(rules) -%}
    {%- if not execute or model.resource_type == 'unit_test'
        or not _relations_exist([rules]) -%}
        {{ return(1) }}
    {%- endif -%}
    {%- set result = run_query(
        "select max(case when coalesce(window_days, 0) > coalesce(lookback_days, 0) "
        ~ "then window_days else lookback_days end) from "
        ~ rules
    ) -%}
    {%- set days = result.rows[0][0] if result.rows | length > 0 else none -%}
    {{ return([1, (days or 1) | int] | max) }}
{%- endmacro %}

{# First day the recent part covers, as YYYY-MM-DD: the state holds the days before it. #}
{% macro scoring_state_cutoff(rules) -%}
    {%- set as_of = modules.datetime.date.fromisoformat(as_of_date_literal()) -%}
    {%- set cutoff = as_of - modules.datetime.timedelta(days=scoring_recent_days(rules) - 1) -%}
    {{ return(cutoff.isoformat()) }}
{%- endmacro %}

{# What the stored state covers: (covered_until as YYYY-MM-DD or none, rules_version). #}
{% macro stored_state(relation) -%}
    {%- if not execute or not is_incremental() -%}
        {{ return([none, '']) }}
    {%- endif -%}
    {%- set result = run_query(
        "select cast(max(covered_until) as " ~ text_type() ~ "), max(rules_version) from " ~ relation
    ) -%}
    {%- set row = result.rows[0] -%}
    {{ return([row[0], row[1] or '']) }}
{%- endmacro %}

{# Leads with an event row (of `events`, base_marketing__events) of a day before the stored
   cutoff (re)classified since the state last ran: a late event, a duplicate resolved, a
   contact found. Their state is rebuilt. #}
{% macro late_state_contacts(stored_cutoff, events) -%}
    select distinct contact_id
    from {{ events }}
    where
        contact_id is not null
        and occurred_at < cast('{{ stored_cutoff }}' as timestamp)
        and _classified_at > {{ last_refreshed_at(this) }}
{%- endmacro %}

{# Pre-hook of the state: everything goes when the rules changed; the late leads' rows go
   before they are rebuilt (a rule a lead no longer matches leaves no row). #}
{% macro delete_stale_rule_state(events, rules, event_types) -%}
    {%- if is_incremental() -%}
        {%- set stored = stored_state(this) -%}
        {%- if stored[1] != behavior_rules_version(rules, event_types) -%}
            delete from {{ this }}
        {%- elif stored[0] is not none and scoring_state_cutoff(rules) >= stored[0] -%}
            delete from {{ this }}
            where contact_id in ({{ late_state_contacts(stored[0], events) }})
        {%- endif -%}
    {%- endif -%}
{%- endmacro %}

{# int_scoring__behavior_components: the cutoff of the behaviour state (`rule_state`,
   int_scoring__rule_state) when it fits this as-of date (built with the current rules,
   cutoff not after the as-of date's), else none and scoring reads every day. #}
{% macro usable_rule_state(rule_state, rules, event_types) -%}
    {%- if not execute or model.resource_type == 'unit_test'
        or not _relations_exist([rule_state]) -%}
        {{ return(none) }}
    {%- endif -%}
    {%- set result = run_query(
        "select cast(max(covered_until) as " ~ text_type() ~ "), min(rules_version), max(rules_version) from "
        ~ rule_state
    ) -%}
    {%- set row = result.rows[0] -%}
    {%- set version = behavior_rules_version(rules, event_types) -%}
    {%- if row[0] is none or row[1] != version or row[2] != version -%}
        {{ return(none) }}
    {%- endif -%}
    {{ return(row[0] if row[0] <= scoring_state_cutoff(rules) else none) }}
{%- endmacro %}

{# Days before the as-of date of the state's rows: beyond every window and look-back. #}
{% macro max_days_before() -%}
    1000000
{%- endmacro %}

{# True when every relation exists in the warehouse (not so while sqlfluff compiles the
   project against an empty database). #}
{% macro _relations_exist(relations) -%}
    {%- for relation in relations -%}
        {%- if load_relation(relation) is none -%}
            {{ return(false) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(true) }}
{%- endmacro %}
