{{ config(enabled=var('crm_source', 'generic') == 'hubspot') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- One row per live HubSpot contact id: the contact it resolves to and its email. HubSpot has
-- already merged duplicates: the surviving contact lists the ids merged into it in
-- property_hs_calculated_merged_vids ("vid:timestamp;vid:timestamp"). Events, form
-- submissions and deals that still carry a merged id, or its email, reach the survivor.
{%- set contact = source('hubspot', 'contact') -%}
{%- set columns = fivetran_columns(contact) %}

with

contacts as (
    select
        {{ fivetran_text(columns, ['id']) }} as contact_id,
        {{ normalize_email(fivetran_text(columns, ['property_email'])) }} as email,
        {{ fivetran_text(columns, ['property_hs_calculated_merged_vids']) }} as merged_vids
    from {{ contact }}
    where {{ fivetran_is_live(columns) }}
),

merged_entries as (
    select
        contact_id as canonical_contact_id,
        {{ split_to_rows('merged_vids', ';') }} as merged_entry
    from contacts
    where merged_vids is not null
),

merge_map as (
    select
        trim(regexp_replace(merged_entry, ':.*$', '')) as merged_contact_id,
        min(canonical_contact_id) as canonical_contact_id
    from merged_entries
    group by 1
),

-- Merged ids usually no longer appear as contacts of their own; they still resolve.
known_ids as (
    select
        contact_id,
        email
    from contacts
    union all
    select
        merge_map.merged_contact_id as contact_id,
        cast(null as {{ text_type() }}) as email
    from merge_map
    left join contacts
        on merge_map.merged_contact_id = contacts.contact_id
    where contacts.contact_id is null
),

final as (
    select
        -- ids
        known_ids.contact_id,
        coalesce(merge_map.canonical_contact_id, known_ids.contact_id) as canonical_contact_id,

        -- strings
        known_ids.email,

        -- booleans
        merge_map.canonical_contact_id is not null as is_merged
    from known_ids
    left join merge_map
        on
            known_ids.contact_id = merge_map.merged_contact_id
            and known_ids.contact_id <> merge_map.canonical_contact_id
)

select * from final
