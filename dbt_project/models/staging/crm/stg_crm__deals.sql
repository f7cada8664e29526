-- One row per deal: its newest usable version, linked to the canonical contact. A deal whose
-- contact or company is unknown is kept (it is still an outcome), with that link empty.
with

deals as (
    select * from {{ ref('base_crm__deals') }}
    where is_current_version
),

identity as (
    select * from {{ ref('stg_crm__contact_identity') }}
),

companies as (
    select company_id from {{ ref('stg_crm__companies') }}
),

final as (
    select
        -- ids
        deals.deal_id,
        identity.canonical_contact_id as contact_id,
        deals.source_contact_id,
        companies.company_id,

        -- strings
        deals.deal_stage,

        -- numerics
        deals.amount,

        -- booleans
        deals.is_closed,
        deals.is_won,
        deals.is_won_not_closed,
        deals.is_amount_invalid,
        deals.source_contact_id is not null
        and identity.canonical_contact_id is null as has_unknown_contact,

        -- timestamps
        deals.created_at,
        deals.closed_at
    from deals
    left join identity
        on deals.source_contact_id = identity.source_contact_id
    left join companies
        on deals.company_id = companies.company_id
)

select * from final
