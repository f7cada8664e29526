{{ config(materialized='view') }}

-- One row per event attribute a behaviour rule can filter on or aggregate (filter_attribute,
-- value_attribute of scoring_behavior_rules): the raw contract's event columns as staging
-- types them and every extra column of the event landing files (kept by
-- base_marketing__events as `extra__<column>`). Built from the warehouse's columns when it
-- runs; the behaviour rules' validation refuses a rule naming anything else.
{%- set catalog = event_attribute_catalog(ref('base_marketing__events')) %}
with

catalog as (
    {%- for name, column in catalog %}
        select
            '{{ name }}' as attribute,
            '{{ column }}' as event_column
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

final as (
    select
        cast(attribute as {{ text_type() }}) as attribute,
        cast(event_column as {{ text_type() }}) as event_column
    from catalog
)

select * from final
