-- One row per lead and segment change between consecutive refreshes: old and new segment and
-- when. Rows of the latest refresh (is_latest_refresh) are what downstream workflows act on.
with

history as (
    select * from {{ ref('fct_lead_segment_history') }}
),

latest as (
    select max(as_of_date) as latest_as_of_date from history
),

sequenced as (
    select
        contact_id,
        segment,
        as_of_date,
        lag(segment) over (partition by contact_id order by as_of_date) as previous_segment,
        lag(as_of_date) over (partition by contact_id order by as_of_date) as previous_as_of_date
    from history
),

final as (
    select
        -- ids
        sequenced.contact_id,

        -- strings
        sequenced.previous_segment as old_segment,
        sequenced.segment as new_segment,

        -- booleans
        sequenced.as_of_date = latest.latest_as_of_date as is_latest_refresh,

        -- dates
        sequenced.previous_as_of_date,
        sequenced.as_of_date as changed_on
    from sequenced
    cross join latest
    where sequenced.previous_segment is not null and sequenced.segment <> sequenced.previous_segment
)

select * from final
