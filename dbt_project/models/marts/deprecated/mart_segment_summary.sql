-- Renamed to fct_segment_summary; this view keeps the old name for one release.
select * from {{ ref('fct_segment_summary') }}
