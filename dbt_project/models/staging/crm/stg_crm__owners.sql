-- One row per CRM owner (user who can be assigned leads).
with

owners as (
    select * from {{ ref('base_crm__owners') }}
    where is_current_version
),

final as (
    select
        -- ids
        owner_id,

        -- strings
        owner_name,
        email,
        team,
        region
    from owners
)

select * from final
