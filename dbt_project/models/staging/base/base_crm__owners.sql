-- Every raw owner row, typed, with its quarantine reason and current-version flag (the most
-- recently loaded version of an owner wins).
{%- set raw_owners = source('crm', 'crm_owners') if crm_source() == 'generic'
    else ref('adapter_' ~ crm_source() ~ '__crm_owners') %}
with

source as (
    select * from {{ raw_owners }}
),

typed as (
    select
        -- lineage
        {{ raw_lineage_columns() }},

        -- ids
        {{ clean_text('owner_id') }} as owner_id,

        -- strings
        {{ clean_text('name') }} as owner_name,
        {{ normalize_email('email') }} as email,
        upper({{ clean_text('team') }}) as team,
        upper({{ clean_text('region') }}) as region
    from source
),

final as (
    select
        *,
        case when owner_id is null then 'missing_owner_id' end as quarantine_reason,
        owner_id is not null
        and row_number() over (
            partition by owner_id
            order by _loaded_at desc, _file_id desc, _source_row desc
        ) = 1 as is_current_version
    from typed
)

select * from final
