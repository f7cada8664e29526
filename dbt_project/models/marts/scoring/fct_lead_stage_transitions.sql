-- One row per lead and stage change in the score history: when a lead entered its first
-- stage, became MQL or SQL (direction 'up') or fell back ('down').
with

history as (
    select * from {{ ref('fct_lead_score_history') }}
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
