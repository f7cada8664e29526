-- What happened to every raw row that did not become a clean staged row, counted by table,
-- disposition and reason:
--   quarantined: unusable, kept in the quarantine schema with the reason;
--   merged: folded into another row (an older version, a duplicate person or event);
--   flagged: staged, but with a value dropped or marked (the flag columns in staging).
with

quarantined as (
    {% for raw_table, model in [
        ('crm_companies', 'quarantine_crm__companies'),
        ('crm_contacts', 'quarantine_crm__contacts'),
        ('crm_deals', 'quarantine_crm__deals'),
        ('crm_owners', 'quarantine_crm__owners'),
        ('marketing_events', 'quarantine_marketing__events'),
    ] %}
        select
            '{{ raw_table }}' as raw_table,
            'quarantined' as disposition,
            quarantine_reason as reason,
            count(*) as row_count
        from {{ ref(model) }}
        group by quarantine_reason
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

merged as (
    {% for raw_table, model in [
        ('crm_companies', 'base_crm__companies'),
        ('crm_contacts', 'base_crm__contacts'),
        ('crm_deals', 'base_crm__deals'),
        ('crm_owners', 'base_crm__owners'),
    ] %}
        select
            '{{ raw_table }}' as raw_table,
            'merged' as disposition,
            'superseded_version' as reason,
            count(*) as row_count
        from {{ ref(model) }}
        where quarantine_reason is null and not is_current_version
        union all
    {% endfor %}
    select
        'crm_contacts' as raw_table,
        'merged' as disposition,
        'duplicate_email' as reason,
        count(*) as row_count
    from {{ ref('stg_crm__contact_identity') }}
    where is_merged
    union all
    select
        'marketing_events' as raw_table,
        'merged' as disposition,
        'duplicate_event_id' as reason,
        count(*) as row_count
    from {{ ref('base_marketing__events') }}
    where is_duplicate
),

flagged as (
    {% for raw_table, model, reason, condition in [
        ('crm_contacts', 'stg_crm__contacts', 'invalid_email', 'email is not null and not is_valid_email'),
        ('crm_contacts', 'stg_crm__contacts', 'missing_email', 'email is null'),
        ('crm_contacts', 'stg_crm__contacts', 'freemail_domain', 'is_freemail'),
        ('crm_contacts', 'stg_crm__contacts', 'unknown_company', 'has_unknown_company'),
        ('crm_companies', 'stg_crm__companies', 'invalid_employee_count', 'is_employee_count_invalid'),
        ('crm_companies', 'stg_crm__companies', 'invalid_annual_revenue', 'is_annual_revenue_invalid'),
        ('crm_contacts', 'stg_crm__contacts', 'unknown_lifecycle_stage', 'is_lifecycle_stage_unknown'),
        ('crm_deals', 'stg_crm__deals', 'unknown_contact', 'has_unknown_contact'),
        ('crm_deals', 'stg_crm__deals', 'won_deal_not_closed', 'is_won_not_closed'),
        ('crm_deals', 'stg_crm__deals', 'invalid_amount', 'is_amount_invalid'),
    ] %}
        select
            '{{ raw_table }}' as raw_table,
            'flagged' as disposition,
            '{{ reason }}' as reason,
            count(*) as row_count
        from {{ ref(model) }}
        where {{ condition }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

final as (
    select * from quarantined
    union all
    select * from merged
    union all
    select * from flagged
)

select * from final
where row_count > 0
