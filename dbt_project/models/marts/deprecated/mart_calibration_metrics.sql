-- Renamed to fct_calibration_metrics; this view keeps the old name for one release.
select * from {{ ref('fct_calibration_metrics') }}
