{#
    The leads (`leads`, int_sync__leads) as one destination receives them: `sync_key` is
    the destination's matching key (sync_destinations.match_key) and, where the destination
    suppresses outreach for people who unsubscribed, the outreach fields are emptied so no
    sequence or campaign enrols them.
    `outreach_suppressed` tells the payload model which leads that applies to. If the
    `destinations` seed (sync_destinations) has no row for the destination, the payload is
    empty (nothing is sent).
#}
{% macro sync_leads(destination, leads, destinations) -%}
    select
        case leads.match_key
            when 'email' then leads.email
            -- The generic raw contract's contact_id is the CRM's own record id and the
            -- warehouse's canonical id at once; a Fivetran source may tell them apart.
            else leads.contact_id
        end as sync_key,
        leads.contact_id,
        leads.owner_id,
        leads.email,
        leads.fit_grade,
        leads.lead_stage,
        leads.segment,
        case when not leads.outreach_suppressed then leads.sales_action end as sales_action,
        case when not leads.outreach_suppressed then leads.campaign_track end as campaign_track,
        case when not leads.outreach_suppressed then leads.queue end as queue,
        leads.owner_name,
        leads.score_reasons,
        leads.fit_score,
        leads.behavior_score,
        leads.lead_score,
        leads.score_change,
        leads.is_unsubscribed,
        leads.outreach_suppressed,
        leads.score_updated_on
    from (
        select
            leads.*,
            destinations.match_key,
            coalesce(
                leads.is_unsubscribed and destinations.suppress_outreach_when_unsubscribed,
                false
            ) as outreach_suppressed
        from {{ leads }} as leads
        cross join (
            select
                match_key,
                suppress_outreach_when_unsubscribed
            from {{ destinations }}
            where destination = '{{ destination }}'
        ) as destinations
    ) as leads
{%- endmacro %}
