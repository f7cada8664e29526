"""The jobs the schedules and sensors start."""

import dagster as dg

from orchestration.defs.backtest.assets import BACKTEST_GROUP
from orchestration.lib.asset_keys import raw_table_key

REFRESH_JOB_NAME = "refresh_warehouse"

refresh_warehouse = dg.define_asset_job(
    REFRESH_JOB_NAME,
    # Backtests score the past with other rules in a scratch warehouse: run on demand only.
    selection=dg.AssetSelection.all() - dg.AssetSelection.groups(BACKTEST_GROUP),
    description="Load new landing files, build and test every dbt model, then export the "
    "marts to Parquet and render the report. Run config `ops.leadscore_dbt_models.config."
    "as_of_date` scores a past date (backfills, backtests).",
)

# New events reach scores, segments and the report; seeds and the other raw tables wait for
# the daily refresh.
refresh_new_events = dg.define_asset_job(
    "refresh_new_events",
    selection=dg.AssetSelection.keys(raw_table_key("marketing_events")).downstream(),
    description="Load new event files and rebuild everything that depends on events.",
)
