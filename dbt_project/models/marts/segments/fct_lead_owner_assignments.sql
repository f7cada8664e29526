{{
    config(
        full_refresh=false,
        **incremental_config(unique_key='contact_id', on_schema_change='append_new_columns')
    )
}}

-- One row per lead that is or was routed to a person (a queue with an owner team): the queue
-- and the owner. Stable from run to run: a lead keeps the owner it had at the previous
-- refresh while its segment is unchanged and the owner is still in the queue's team. Other
-- leads are dealt round-robin over the team's owners in the lead's region (the whole team when
-- the region has nobody), least-loaded owners first, in an order fixed by a hash of the
-- contact id, so the same data always gives the same owners. A lead that no longer needs a
-- person keeps its row with is_active = false. `--full-refresh` leaves the table alone:
-- rebuilding it would reshuffle every owner.
with

segments as (
    select * from {{ ref('int_segments__lead_matrix_segments') }}
),

dimensions as (
    select
        contact_id,
        region
    from {{ ref('int_segments__lead_dimensions') }}
),

queues as (
    select
        trim(route) as route,
        trim(queue) as queue,
        upper(trim(owner_team)) as owner_team
    from {{ ref('routing_queues') }}
),

owners as (
    select * from {{ ref('stg_crm__owners') }}
),

needs_owner as (
    select
        segments.contact_id,
        segments.segment,
        segments.route,
        queues.queue,
        queues.owner_team,
        dimensions.region
    from segments
    inner join queues
        on segments.route = queues.route
    inner join dimensions
        on segments.contact_id = dimensions.contact_id
    where queues.owner_team is not null
),

previous as (
    {% if is_incremental() %}
        select
            contact_id,
            segment,
            route,
            queue,
            owner_team,
            region,
            owner_id,
            assigned_on
        from {{ this }}
        where is_active
    {% else %}
        select
            cast(null as {{ text_type() }}) as contact_id,
            cast(null as {{ text_type() }}) as segment,
            cast(null as {{ text_type() }}) as route,
            cast(null as {{ text_type() }}) as queue,
            cast(null as {{ text_type() }}) as owner_team,
            cast(null as {{ text_type() }}) as region,
            cast(null as {{ text_type() }}) as owner_id,
            cast(null as date) as assigned_on
        where 1 = 0
    {% endif %}
),

kept as (
    select
        needs_owner.*,
        previous.owner_id,
        previous.assigned_on
    from needs_owner
    inner join previous
        on
            needs_owner.contact_id = previous.contact_id
            and needs_owner.segment = previous.segment
    inner join owners
        on previous.owner_id = owners.owner_id and needs_owner.owner_team = owners.team
),

to_assign as (
    select needs_owner.*
    from needs_owner
    left join kept
        on needs_owner.contact_id = kept.contact_id
    where kept.contact_id is null
),

kept_load as (
    select
        owner_id,
        count(*) as kept_leads
    from kept
    group by owner_id
),

-- Two pools per team: its owners in each region, and all its owners ('*') as the fallback.
pool_members as (
    select
        owners.owner_id,
        owners.owner_name,
        owners.team,
        owners.region as pool,
        coalesce(kept_load.kept_leads, 0) as kept_leads
    from owners
    left join kept_load
        on owners.owner_id = kept_load.owner_id
    union all
    select
        owners.owner_id,
        owners.owner_name,
        owners.team,
        '*' as pool,
        coalesce(kept_load.kept_leads, 0) as kept_leads
    from owners
    left join kept_load
        on owners.owner_id = kept_load.owner_id
),

pool_slots as (
    select
        owner_id,
        owner_name,
        team,
        pool,
        row_number() over (partition by team, pool order by kept_leads, owner_id) - 1 as slot,
        count(*) over (partition by team, pool) as pool_size
    from pool_members
),

pooled as (
    select
        to_assign.*,
        case
            when exists (
                    select 1 from owners
                    where owners.team = to_assign.owner_team and owners.region = to_assign.region
                ) then to_assign.region
            else '*'
        end as pool
    from to_assign
),

sequenced as (
    select
        pooled.*,
        row_number() over (
            partition by pooled.owner_team, pooled.pool
            order by {{ dbt.hash('pooled.contact_id') }}, pooled.contact_id
        ) - 1 as sequence_number
    from pooled
),

pool_sizes as (
    select distinct
        team,
        pool,
        pool_size
    from pool_slots
),

assigned as (
    select
        sequenced.contact_id,
        sequenced.segment,
        sequenced.route,
        sequenced.queue,
        sequenced.owner_team,
        sequenced.region,
        pool_slots.owner_id,
        {{ as_of_date() }} as assigned_on
    from sequenced
    left join pool_sizes
        on sequenced.owner_team = pool_sizes.team and sequenced.pool = pool_sizes.pool
    left join pool_slots
        on
            sequenced.owner_team = pool_slots.team
            and sequenced.pool = pool_slots.pool
            and sequenced.sequence_number % pool_sizes.pool_size = pool_slots.slot
),

released as (
    select previous.*
    from previous
    left join needs_owner
        on previous.contact_id = needs_owner.contact_id
    where needs_owner.contact_id is null
),

combined as (
    select
        contact_id,
        segment,
        route,
        queue,
        owner_team,
        region,
        owner_id,
        assigned_on,
        false as is_new_assignment,
        true as is_active
    from kept
    union all
    select
        contact_id,
        segment,
        route,
        queue,
        owner_team,
        region,
        owner_id,
        assigned_on,
        true as is_new_assignment,
        true as is_active
    from assigned
    union all
    select
        contact_id,
        segment,
        route,
        queue,
        owner_team,
        region,
        owner_id,
        assigned_on,
        false as is_new_assignment,
        false as is_active
    from released
),

final as (
    select
        combined.contact_id,
        combined.segment,
        combined.route,
        combined.queue,
        combined.owner_team,
        combined.region,
        combined.owner_id,
        owners.owner_name,
        combined.assigned_on,
        combined.is_new_assignment,
        combined.is_active
    from combined
    left join owners
        on combined.owner_id = owners.owner_id
)

select * from final
