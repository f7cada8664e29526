-- One row per source contact_id: the canonical contact it resolves to. Contacts whose
-- normalised emails are equal are one person. The canonical one is the record loaded first
-- (then the lowest id, for records of one load): a duplicate that arrives later never takes
-- the person over, whatever its creation date or id, so the
-- canonical id, the person's events and history stay where they were and the duplicate
-- merges in on the next incremental run. Raw rows are never rewritten, so a record's first
-- load does not change. (A Fivetran source stamps rows with their latest sync, not their
-- first: there the earliest created record is canonical, then the lowest id.)
{#- The first key of the canonical order: the first load (generic landing files) or the
    creation date (Fivetran, whose sync stamp moves with every sync). -#}
{%- set canonical_order = 'first_loaded_at' if crm_source() == 'generic' else 'created_at' %}

with

base as (
    select * from {{ ref('base_crm__contacts') }}
),

first_loads as (
    select
        contact_id,
        {% if crm_source() == 'generic' -%}
            min(_loaded_at) as first_loaded_at
        {%- else -%}
            cast(null as timestamp) as first_loaded_at
        {%- endif %}
    from base
    where quarantine_reason is null
    group by contact_id
),

current_contacts as (
    select
        base.contact_id,
        base.email,
        base.created_at,
        first_loads.first_loaded_at
    from base
    inner join first_loads
        on base.contact_id = first_loads.contact_id
    where base.is_current_version
),

canonical as (
    select
        contact_id,
        email,
        case
            when email is null then contact_id
            else first_value(contact_id) over (
                    partition by email
                    order by {{ canonical_order }}, contact_id
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
