-- One row per raw table: how much of its latest load staging had to quarantine, the most
-- common reason, and the limit (`max_quarantined_share` in data_quality_thresholds, or
-- `max_quarantined_share:<raw table>` for one table). The latest load is the rows loaded at
-- the table's latest `_loaded_at` (one ingest run); for a Fivetran source (var crm_source),
-- whose rows each carry their own sync time, it is the whole table. A load that is mostly
-- quarantined (dates in a format staging does not read, an id column not mapped) must stop
-- the refresh rather than score nothing: the blocking check `raw_rows_are_usable` reads this.
-- A connector keeps the events of people the CRM deleted or never synced as contacts: there,
-- events of unknown contacts wait in quarantine without counting against the limit (landing
-- files that name unknown contacts still count).
{%- set tables = [
    ('crm_companies', 'quarantine_crm__companies'),
    ('crm_contacts', 'quarantine_crm__contacts'),
    ('crm_deals', 'quarantine_crm__deals'),
    ('crm_owners', 'quarantine_crm__owners'),
    ('marketing_events', 'quarantine_marketing__events'),
] %}
{%- set whole_table = crm_source() != 'generic' %}
{%- set raw = {} %}
{%- for raw_table, _ in tables %}
    {%- do raw.update({raw_table: ref('adapter_' ~ crm_source() ~ '__' ~ raw_table) if whole_table
        else source('marketing' if raw_table == 'marketing_events' else 'crm', raw_table)}) %}
{%- endfor %}
with

thresholds as (
    select
        threshold,
        value as threshold_value
    from {{ ref('data_quality_thresholds') }}
),

latest_loads as (
    {%- for raw_table, _ in tables %}
        select
            '{{ raw_table }}' as raw_table,
            max(_loaded_at) as loaded_at
        from {{ raw[raw_table] }}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

loaded as (
    {%- for raw_table, _ in tables %}
        select
            '{{ raw_table }}' as raw_table,
            count(*) as loaded_rows
        from {{ raw[raw_table] }}
        {%- if not whole_table %}
            where _loaded_at = (
                    select latest_loads.loaded_at from latest_loads
                    where latest_loads.raw_table = '{{ raw_table }}'
                )
        {%- endif %}
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

quarantined as (
    {%- for raw_table, model in tables %}
        select
            '{{ raw_table }}' as raw_table,
            quarantine_reason,
            count(*) as reason_rows
        from {{ ref(model) }}
        {%- if not whole_table %}
            where _loaded_at = (
                    select latest_loads.loaded_at from latest_loads
                    where latest_loads.raw_table = '{{ raw_table }}'
                )
        {%- elif raw_table == 'marketing_events' %}
            where quarantine_reason <> 'unknown_contact'
        {%- endif %}
        group by quarantine_reason
        {% if not loop.last %}union all{% endif %}
    {%- endfor %}
),

ranked as (
    select
        raw_table,
        quarantine_reason,
        reason_rows,
        sum(reason_rows) over (partition by raw_table) as quarantined_rows,
        row_number() over (
            partition by raw_table order by reason_rows desc, quarantine_reason asc
        ) as reason_rank
    from quarantined
),

final as (
    select
        -- ids
        loaded.raw_table,

        -- strings
        ranked.quarantine_reason as top_reason,

        -- numerics
        loaded.loaded_rows,
        coalesce(ranked.quarantined_rows, 0) as quarantined_rows,
        coalesce(ranked.reason_rows, 0) as top_reason_rows,
        case
            when loaded.loaded_rows > 0
                then cast(coalesce(ranked.quarantined_rows, 0) as {{ double_type() }})
                    / loaded.loaded_rows
            else 0
        end as quarantined_share,
        coalesce(per_table.threshold_value, every_table.threshold_value, 0.5)
            as max_quarantined_share,

        -- booleans
        {{ 'true' if whole_table else 'false' }} as is_whole_table,

        -- timestamps
        latest_loads.loaded_at
    from loaded
    inner join latest_loads
        on loaded.raw_table = latest_loads.raw_table
    left join ranked
        on loaded.raw_table = ranked.raw_table and ranked.reason_rank = 1
    left join thresholds as per_table
        on per_table.threshold = 'max_quarantined_share:' || loaded.raw_table
    left join thresholds as every_table
        on every_table.threshold = 'max_quarantined_share'
)

select * from final
