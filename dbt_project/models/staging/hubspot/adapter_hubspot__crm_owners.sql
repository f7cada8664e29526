{{ config(enabled=var('crm_source', 'generic') == 'hubspot') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- HubSpot owners in the shape of the raw contract's crm_owners. HubSpot has no sales team or
-- region on an owner, so both are empty and routing cannot assign these owners by team (see
-- docs/segments.md). Empty when `hubspot_owner_enabled` is false.
{%- set enabled = var('hubspot_owner_enabled', true) -%}
{%- if enabled %}
{%- set owner = source('hubspot', 'owner') -%}
{%- set columns = fivetran_columns(owner) %}
{%- endif %}

with

{% if enabled -%}
owners as (
    select
        {{ fivetran_text(columns, ['owner_id', 'id']) }} as owner_id,
        nullif(trim(
            coalesce({{ fivetran_text(columns, ['first_name']) }}, '')
            || ' '
            || coalesce({{ fivetran_text(columns, ['last_name']) }}, '')
        ), '') as name,
        {{ fivetran_text(columns, ['email']) }} as email,
        {{ fivetran_synced_at(columns) }} as _loaded_at
    from {{ owner }}
    where {{ fivetran_is_live(columns) }}
),
{%- endif %}

final as (
    {%- if enabled %}
    select
        -- contract columns, as text
        owner_id,
        name,
        email,
        cast(null as {{ text_type() }}) as team,
        cast(null as {{ text_type() }}) as region,

        -- lineage: the Fivetran table stands in for the landing file
        cast(1 as bigint) as _file_id,
        row_number() over (order by owner_id) as _source_row,
        '{{ owner.schema }}.{{ owner.identifier }}' as _source_file,
        _loaded_at
    from owners
    {%- else %}
    {{ empty_raw_rows('crm_owners') }}
    {%- endif %}
)

select * from final
