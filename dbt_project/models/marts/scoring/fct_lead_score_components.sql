-- One row per lead and rule with the points it gives at the as-of date: the published copy of
-- int_scoring__lead_score_components, which the scores are summed from. A view, so the
-- components are stored once.
{{ config(materialized='view') }}

with

components as (
    select * from {{ ref('int_scoring__lead_score_components') }}
)

select * from components
