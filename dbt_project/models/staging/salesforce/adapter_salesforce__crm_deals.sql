{{ config(enabled=var('crm_source', 'generic') == 'salesforce') }}
-- Optional tables are whole CTEs inside Jinja blocks; they stay at CTE indentation.
-- sqlfluff:indentation:template_blocks_indent:False

-- Salesforce opportunities in the shape of the raw contract's crm_deals (stage_name, is_won,
-- is_closed; close_date is the closing time of a closed opportunity). The contact is the
-- opportunity's ContactId where the org has that field, resolved through lead conversion.
-- Empty when `salesforce_opportunity_enabled` is false.
{%- set enabled = var('salesforce_opportunity_enabled', true) -%}
{%- if enabled %}
{%- set opportunity = source('salesforce', 'opportunity') -%}
{%- set columns = fivetran_columns(opportunity) %}
{%- endif %}

with
{%- if enabled %}

opportunities as (
    select
        {{ fivetran_text(columns, ['id']) }} as deal_id,
        {{ fivetran_text(columns, ['contact_id']) }} as contact_id,
        {{ fivetran_text(columns, ['account_id']) }} as company_id,
        {{ fivetran_text(columns, ['amount']) }} as amount,
        {{ fivetran_text(columns, ['stage_name']) }} as stage,
        {{ fivetran_text(columns, ['is_closed']) }} as is_closed,
        {{ fivetran_text(columns, ['is_won']) }} as is_won,
        {{ fivetran_text(columns, ['created_date']) }} as created_at,
        {{ fivetran_text(columns, ['close_date']) }} as close_date,
        {{ fivetran_synced_at(columns) }} as _loaded_at
    from {{ opportunity }}
    where {{ fivetran_is_live(columns) }}
),
{%- endif %}

final as (
    {%- if enabled %}
    select
        -- contract columns, as text
        opportunities.deal_id,
        coalesce(person_ids.canonical_person_id, opportunities.contact_id) as contact_id,
        opportunities.company_id,
        opportunities.amount,
        opportunities.stage,
        opportunities.is_closed,
        opportunities.is_won,
        opportunities.created_at,
        case
            when {{ parse_boolean('opportunities.is_closed') }} then opportunities.close_date
        end as closed_at,

        -- lineage: the Fivetran table stands in for the landing file
        cast(1 as bigint) as _file_id,
        row_number() over (order by opportunities.deal_id) as _source_row,
        '{{ opportunity.schema }}.{{ opportunity.identifier }}' as _source_file,
        opportunities._loaded_at
    from opportunities
    left join {{ ref('adapter_salesforce__person_ids') }} as person_ids
        on opportunities.contact_id = person_ids.person_id
    {%- else %}
    {{ empty_raw_rows('crm_deals') }}
    {%- endif %}
)

select * from final
