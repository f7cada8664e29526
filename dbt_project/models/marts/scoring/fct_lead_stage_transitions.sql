{{
    config(
        pre_hook="{{ delete_transitions_to_redo(ref('fct_lead_score_history')) }}",
        **incremental_config(unique_key=['contact_id', 'transitioned_on'])
    )
}}

-- One row per lead and stage change in the score history: when a lead entered its first
-- stage, became MQL or SQL (direction 'up') or fell back ('down').
--
-- Incremental: a run writes one snapshot (its as-of date), which can change only the
-- transitions on that date and on the next snapshot date. It reads the snapshots of the
-- dates before, on and after the as-of date (history_neighbours) and rebuilds those two
-- dates, so a daily run does not rescan a history that grows by a snapshot a day. A lead is
-- compared with its row in the previous snapshot; `--full-refresh` compares every row with
-- the lead's previous row and gives the same table as long as leads are not removed.
{%- set neighbours = history_neighbours(ref('fct_lead_score_history'))
    if is_incremental() else ['', ''] %}
with

history as (
    select * from {{ ref('fct_lead_score_history') }}
    {% if is_incremental() %}
        where as_of_date in (
            {{ as_of_date() }}
            {%- for neighbour in neighbours if neighbour %}, cast('{{ neighbour }}' as date){% endfor %}
        )
    {% endif %}
),

sequenced as (
    select
        contact_id,
        as_of_date,
        lead_stage,
        stage_rank,
        lead_score,
        lag(lead_stage) over (partition by contact_id order by as_of_date) as previous_stage,
        lag(stage_rank) over (partition by contact_id order by as_of_date) as previous_stage_rank,
        lag(lead_score) over (partition by contact_id order by as_of_date) as previous_lead_score
    from history
),

final as (
    select
        -- ids
        contact_id,

        -- strings
        previous_stage as from_stage,
        lead_stage as to_stage,
        case
            when previous_stage is null then 'entered'
            when stage_rank > previous_stage_rank then 'up'
            else 'down'
        end as direction,

        -- numerics
        previous_lead_score,
        lead_score,

        -- dates
        as_of_date as transitioned_on
    from sequenced
    where previous_stage is null or lead_stage <> previous_stage
)

select * from final
{% if is_incremental() %}
    where transitioned_on in ({{ transition_dates_to_redo(neighbours) }})
{% endif %}
