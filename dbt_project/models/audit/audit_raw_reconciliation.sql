-- One row per raw table: nothing disappears between raw and staging. Every raw row is
-- staged, quarantined or merged, counted independently here and checked by a data test. With
-- a Fivetran source (var crm_source) the raw rows are its adapter models' rows.
with

raw_counts as (
    {% for raw_table in [
        'crm_companies',
        'crm_contacts',
        'crm_deals',
        'crm_owners',
        'marketing_events',
    ] %}
        {%- set raw_relation = source(
            'marketing' if raw_table == 'marketing_events' else 'crm', raw_table
        ) if crm_source() == 'generic' else ref('adapter_' ~ crm_source() ~ '__' ~ raw_table) %}
        select
            '{{ raw_table }}' as raw_table,
            count(*) as raw_rows
        from {{ raw_relation }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

staged_counts as (
    {% for raw_table, model in [
        ('crm_companies', 'stg_crm__companies'),
        ('crm_contacts', 'stg_crm__contacts'),
        ('crm_deals', 'stg_crm__deals'),
        ('crm_owners', 'stg_crm__owners'),
        ('marketing_events', 'stg_marketing__events'),
    ] %}
        select
            '{{ raw_table }}' as raw_table,
            count(*) as staged_rows
        from {{ ref(model) }}
        {% if not loop.last %}union all{% endif %}
    {% endfor %}
),

dispositions as (
    select
        raw_table,
        sum(case when disposition = 'quarantined' then row_count else 0 end) as quarantined_rows,
        sum(case when disposition = 'merged' then row_count else 0 end) as merged_rows
    from {{ ref('audit_data_quality') }}
    group by raw_table
),

final as (
    select
        raw_counts.raw_table,
        raw_counts.raw_rows,
        staged_counts.staged_rows,
        coalesce(dispositions.quarantined_rows, 0) as quarantined_rows,
        coalesce(dispositions.merged_rows, 0) as merged_rows
    from raw_counts
    inner join staged_counts
        on raw_counts.raw_table = staged_counts.raw_table
    left join dispositions
        on raw_counts.raw_table = dispositions.raw_table
)

select * from final
