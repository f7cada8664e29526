"""The project's one Dagster `Definitions`: `dagster dev` loads it (see pyproject's
[tool.dagster]) and `leadscore run` executes its refresh job."""

from __future__ import annotations

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.dbt.assets import leadscore_dbt_models
from orchestration.defs.dbt.project import dbt_project
from orchestration.defs.ingest.assets import ingest_landing_files
from orchestration.defs.report.assets import bi_parquet_export, lead_segment_report

REFRESH_JOB_NAME = "refresh_warehouse"

refresh_warehouse = dg.define_asset_job(
    REFRESH_JOB_NAME,
    selection=dg.AssetSelection.all(),
    description="Load new landing files, build and test every dbt model, then export the "
    "marts to Parquet and render the report.",
)

defs = dg.Definitions(
    assets=[ingest_landing_files, leadscore_dbt_models, bi_parquet_export, lead_segment_report],
    jobs=[refresh_warehouse],
    resources={"dbt": DbtCliResource(project_dir=dbt_project)},
)
