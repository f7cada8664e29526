{{ config(enabled=var('crm_source', 'generic') == 'salesforce') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- Active Salesforce users in the shape of the raw contract's crm_owners (inactive users cannot
-- take new leads). The team is the user's department (routing matches it to
-- routing_queues.owner_team, e.g. AE or SDR); the region comes from the user's country through
-- the country_regions seed. Empty when `salesforce_user_enabled` is false.
{%- set enabled = var('salesforce_user_enabled', true) -%}
{%- if enabled %}
{%- set user = source('salesforce', 'user') -%}
{%- set columns = fivetran_columns(user) %}
{%- endif %}

with
{%- if enabled %}

users as (
    select
        {{ fivetran_text(columns, ['id']) }} as owner_id,
        {{ fivetran_text(columns, ['name']) }} as name,
        {{ fivetran_text(columns, ['email']) }} as email,
        {{ fivetran_text(columns, ['department']) }} as team,
        upper(trim({{ fivetran_text(columns, ['country_code', 'country']) }})) as country,
        {{ fivetran_synced_at(columns) }} as _loaded_at
    from {{ user }}
    where
        {{ fivetran_is_live(columns) }}
        and coalesce({{ parse_boolean(fivetran_text(columns, ['is_active'])) }}, true)
),

country_regions as (
    select
        upper(trim(country)) as country,
        region
    from {{ ref('country_regions') }}
),
{%- endif %}

final as (
    {%- if enabled %}
    select
        -- contract columns, as text
        users.owner_id,
        users.name,
        users.email,
        users.team,
        country_regions.region,

        -- lineage: the Fivetran table stands in for the landing file
        cast(1 as bigint) as _file_id,
        row_number() over (order by users.owner_id) as _source_row,
        '{{ user.schema }}.{{ user.identifier }}' as _source_file,
        users._loaded_at
    from users
    left join country_regions
        on users.country = country_regions.country
    {%- else %}
    {{ empty_raw_rows('crm_owners') }}
    {%- endif %}
)

select * from final
