{{
    config(
        full_refresh=false,
        **incremental_config(
            unique_key=['contact_id', 'as_of_date'],
            on_schema_change='append_new_columns',
            spark_partition_by='as_of_date',
        )
    )
}}

-- One row per lead and as-of date: a daily snapshot of every lead's scores and stage.
-- Each run adds (or, when re-run for the same date, replaces) the rows of its as-of date, so
-- history accumulates across daily refreshes and backfills of past dates. `--full-refresh`
-- leaves it alone (full_refresh=false): past snapshots cannot be recomputed if the rules or
-- the data have changed since, so they are never dropped by a rebuild.
with

scores as (
    select * from {{ ref('int_lead_scores') }}
),

final as (
    select
        -- ids
        contact_id,

        -- strings
        lead_stage,
        fit_grade,
        priority,

        -- numerics
        fit_score,
        behavior_score,
        lead_score,
        stage_rank,

        -- dates
        as_of_date
    from scores
)

select * from final
