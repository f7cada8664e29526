"""The project's one Dagster `Definitions`: `dagster dev` loads it (see pyproject's
[tool.dagster]) and `leadscore run` executes its refresh job."""

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.automation.jobs import (
    REFRESH_JOB_NAME,
    refresh_new_events,
    refresh_warehouse,
)
from orchestration.defs.automation.schedules import daily_scoring_refresh, hourly_events_refresh
from orchestration.defs.automation.sensors import landing_files_sensor, notify_on_run_failure
from orchestration.defs.backtest.assets import (
    backtest_job,
    rules_backtest,
    suggest_job,
    suggested_rules,
)
from orchestration.defs.dbt.assets import leadscore_dbt_models
from orchestration.defs.ingest.assets import ingest_landing_files
from orchestration.defs.predictive.assets import lead_conversion_model
from orchestration.defs.privacy.jobs import forget_people
from orchestration.defs.quality.checks import QUALITY_CHECKS
from orchestration.defs.report.assets import bi_parquet_export, lead_segment_report
from orchestration.defs.resources import WarehouseResource
from orchestration.defs.sync.assets import SYNC_ASSETS
from orchestration.lib.dbt_manifest import dbt_project
from orchestration.lib.settings import DBT_EXECUTABLE

__all__ = ["REFRESH_JOB_NAME", "defs"]

defs = dg.Definitions(
    assets=[
        ingest_landing_files,
        leadscore_dbt_models,
        bi_parquet_export,
        lead_segment_report,
        *SYNC_ASSETS,
        lead_conversion_model,
        rules_backtest,
        suggested_rules,
    ],
    asset_checks=QUALITY_CHECKS,
    jobs=[refresh_warehouse, refresh_new_events, backtest_job, suggest_job, forget_people],
    schedules=[daily_scoring_refresh, hourly_events_refresh],
    sensors=[landing_files_sensor, notify_on_run_failure],
    resources={
        "dbt": DbtCliResource(project_dir=dbt_project(), dbt_executable=str(DBT_EXECUTABLE)),
        "warehouse": WarehouseResource(),
    },
)
