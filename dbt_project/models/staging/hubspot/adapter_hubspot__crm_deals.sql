{{ config(enabled=var('crm_source', 'generic') == 'hubspot') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- HubSpot deals in the shape of the raw contract's crm_deals; soft-deleted deals are left
-- out. The contract has one contact and one company per deal: of the deal's associations the
-- lowest id is taken, with merged contacts resolved to the survivor. Closed and won come
-- from the deal's pipeline stage (`closed_won`, `is_closed`) or, without stages, from the
-- deal's own hs_is_closed(_won) properties. Empty when `hubspot_deal_enabled` is false.
{%- set stages_enabled = var('hubspot_deal_pipeline_stage_enabled', true) -%}
{%- set deal_companies_enabled = var('hubspot_deal_company_enabled', true) -%}
{%- set enabled = var('hubspot_deal_enabled', true) -%}
{%- if enabled %}
{%- set deal = source('hubspot', 'deal') -%}
{%- set deal_contact = source('hubspot', 'deal_contact') -%}
{%- set columns = fivetran_columns(deal) -%}
{%- set contact_columns = fivetran_columns(deal_contact) %}
{%- endif %}

with
{%- if enabled %}

deals as (
    select
        {{ fivetran_text(columns, ['deal_id', 'id']) }} as deal_id,
        {{ fivetran_text(columns, ['property_amount']) }} as amount,
        {{ fivetran_text(columns, ['deal_pipeline_stage_id', 'property_dealstage']) }}
            as stage_id,
        {{ fivetran_text(columns, ['property_hs_is_closed']) }} as property_is_closed,
        {{ fivetran_text(columns, ['property_hs_is_closed_won']) }} as property_is_won,
        {{ fivetran_text(columns, ['property_createdate']) }} as created_at,
        {{ fivetran_text(columns, ['property_closedate']) }} as close_date,
        {{ fivetran_synced_at(columns) }} as _loaded_at
    from {{ deal }}
    where {{ fivetran_is_live(columns) }}
),

deal_contacts as (
    select
        {{ fivetran_text(contact_columns, ['deal_id'], 'deal_contact') }} as deal_id,
        min(
            coalesce(
                contact_ids.canonical_contact_id,
                {{ fivetran_text(contact_columns, ['contact_id'], 'deal_contact') }}
            )
        ) as contact_id
    from {{ deal_contact }} as deal_contact
    left join {{ ref('adapter_hubspot__contact_ids') }} as contact_ids
        on
            {{ fivetran_text(contact_columns, ['contact_id'], 'deal_contact') }}
            = contact_ids.contact_id
    where {{ fivetran_is_live(contact_columns, 'deal_contact') }}
    group by 1
),

{%- if deal_companies_enabled %}
{%- set deal_company = source('hubspot', 'deal_company') -%}
{%- set company_columns = fivetran_columns(deal_company) %}

deal_companies as (
    select
        {{ fivetran_text(company_columns, ['deal_id']) }} as deal_id,
        min({{ fivetran_text(company_columns, ['company_id']) }}) as company_id
    from {{ deal_company }}
    where {{ fivetran_is_live(company_columns) }}
    group by 1
),
{%- endif %}

{%- if stages_enabled %}
{%- set stage = source('hubspot', 'deal_pipeline_stage') -%}
{%- set stage_columns = fivetran_columns(stage) %}

stages as (
    select
        {{ fivetran_text(stage_columns, ['stage_id']) }} as stage_id,
        {{ fivetran_text(stage_columns, ['label']) }} as label,
        {{ fivetran_text(stage_columns, ['is_closed']) }} as is_closed,
        {{ fivetran_text(stage_columns, ['closed_won']) }} as is_won
    from {{ stage }}
    where {{ fivetran_is_live(stage_columns) }}
),
{%- endif %}
{%- endif %}

final as (
    {%- if enabled %}
    select
        -- contract columns, as text
        deals.deal_id,
        deal_contacts.contact_id,
        {{ 'deal_companies.company_id' if deal_companies_enabled else 'cast(null as {{ text_type() }})' }}
            as company_id,
        deals.amount,
        {{ 'coalesce(stages.label, deals.stage_id)' if stages_enabled else 'deals.stage_id' }}
            as stage,
        {{ 'coalesce(stages.is_closed, deals.property_is_closed)' if stages_enabled
            else 'deals.property_is_closed' }} as is_closed,
        {{ 'coalesce(stages.is_won, deals.property_is_won)' if stages_enabled
            else 'deals.property_is_won' }} as is_won,
        deals.created_at,
        case
            when
                {{ parse_boolean(
                    'coalesce(stages.is_closed, deals.property_is_closed)' if stages_enabled
                    else 'deals.property_is_closed'
                ) }}
                then deals.close_date
        end as closed_at,

        -- lineage: the Fivetran table stands in for the landing file
        cast(1 as bigint) as _file_id,
        row_number() over (order by deals.deal_id) as _source_row,
        '{{ deal.schema }}.{{ deal.identifier }}' as _source_file,
        deals._loaded_at
    from deals
    left join deal_contacts
        on deals.deal_id = deal_contacts.deal_id
    {%- if deal_companies_enabled %}
    left join deal_companies
        on deals.deal_id = deal_companies.deal_id
    {%- endif %}
    {%- if stages_enabled %}
    left join stages
        on deals.stage_id = stages.stage_id
    {%- endif %}
    {%- else %}
    {{ empty_raw_rows('crm_deals') }}
    {%- endif %}
)

select * from final
