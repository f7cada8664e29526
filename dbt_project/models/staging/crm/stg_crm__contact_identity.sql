-- One row per source contact_id: the canonical contact it resolves to. Contacts whose
-- normalised emails are equal are one person; the earliest created of them is canonical, so
-- the canonical id does not change when a later duplicate arrives.
with

current_contacts as (
    select
        contact_id,
        email,
        created_at
    from {{ ref('base_crm__contacts') }}
    where is_current_version
),

canonical as (
    select
        contact_id,
        email,
        case
            when email is null then contact_id
            else first_value(contact_id) over (
                    partition by email
                    order by created_at, contact_id
                    rows between unbounded preceding and unbounded following
                )
        end as canonical_contact_id
    from current_contacts
),

final as (
    select
        -- ids
        contact_id as source_contact_id,
        canonical_contact_id,

        -- strings
        email,
        case when contact_id <> canonical_contact_id then 'duplicate_email' end as merge_reason,

        -- booleans
        contact_id <> canonical_contact_id as is_merged
    from canonical
)

select * from final
