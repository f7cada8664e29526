-- Renamed to dim_accounts; this view keeps the old name for one release.
select * from {{ ref('dim_accounts') }}
