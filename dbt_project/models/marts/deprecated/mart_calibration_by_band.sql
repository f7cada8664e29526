-- Renamed to fct_calibration_by_band; this view keeps the old name for one release.
select * from {{ ref('fct_calibration_by_band') }}
