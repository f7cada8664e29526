-- Renamed to dim_lead_segments; this view keeps the old name for one release.
select * from {{ ref('dim_lead_segments') }}
