-- What the Salesforce destination sends: one row per lead, keyed by the matching key, with
-- the custom field API names of the Lead (or Contact) object.
with

leads as (
    {{ sync_leads('salesforce', ref('int_sync__leads'), ref('sync_destinations')) }}
),

final as (
    select
        sync_key,
        fit_score as fit_score__c,
        behavior_score as behavior_score__c,
        lead_score as lead_score__c,
        fit_grade as lead_grade__c,
        lead_stage as lead_stage__c,
        segment as segment__c,
        sales_action as sales_action__c,
        campaign_track as campaign_track__c,
        owner_id as leadscore_owner__c,
        score_reasons as score_reasons__c,
        score_change as score_change__c,
        outreach_suppressed as outreach_suppressed__c,
        score_updated_on as score_updated_on__c
    from leads
)

select * from final
