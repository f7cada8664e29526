-- Renamed to fct_threshold_suggestions; this view keeps the old name for one release.
select * from {{ ref('fct_threshold_suggestions') }}
