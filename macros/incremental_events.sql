{#
    Helpers of the incremental day aggregates (int_scoring__rule_activity_by_day).

    behavior_rules_version(): a digest of everything a day aggregate depends on besides the
    events (which rule matches which event, and each rule's half-life): the behaviour rules
    and the event types' engagement flags. When an analyst edits them, every day is
    aggregated again.
#}
{% macro behavior_rules_version() -%}
    {%- if not execute or model.resource_type == 'unit_test' -%}
        {{ return('') }}
    {%- endif -%}
    {%- set rules = run_query(
        "select rule_id, rule_type, event_type, page_category, url_pattern, half_life_days from "
        ~ ref('stg_scoring__behavior_rules') ~ " order by rule_id"
    ) -%}
    {%- set event_types = run_query(
        "select event_type, is_engagement from " ~ ref('event_types') ~ " order by event_type"
    ) -%}
    {%- set parts = [] -%}
    {%- for row in rules.rows -%}
        {%- do parts.append(row.values() | map('string') | join('|')) -%}
    {%- endfor -%}
    {%- for row in event_types.rows -%}
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

{# Days with an event row (re)classified since the day aggregates last ran. #}
{% macro changed_event_days() -%}
    select distinct cast(occurred_at as date) as activity_date
    from {{ ref('base_marketing__events') }}
    where
        occurred_at is not null
        and _classified_at > (
            select coalesce(max(_refreshed_at), cast('1900-01-01' as timestamp))
            from {{ this }}
        )
{%- endmacro %}

{#
    Pre-hook of the day aggregates: removes the days about to be aggregated again, so a day
    whose last usable event became a duplicate leaves no stale row (delete+insert alone only
    replaces the days the new rows name), and everything when the rules changed.
#}
{% macro delete_changed_event_days() -%}
    {%- if is_incremental() -%}
        {%- if stored_rules_version() != behavior_rules_version() -%}
            delete from {{ this }}
        {%- else -%}
            delete from {{ this }}
            where activity_date in ({{ changed_event_days() }})
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
