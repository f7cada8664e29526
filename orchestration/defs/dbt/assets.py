"""Every dbt model and seed as a Dagster asset, built with `dbt build` so tests run in order
and arrive as asset checks (tests with severity error block what depends on them)."""

import os

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.dbt.project import LeadscoreTranslator, dbt_project
from orchestration.lib.asset_keys import WAREHOUSE_POOL
from orchestration.lib.settings import load_settings


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=LeadscoreTranslator(),
    pool=WAREHOUSE_POOL,
)
def leadscore_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    # The dbt subprocess inherits this environment: it must resolve to the same warehouse
    # (absolute DuckDB path, raw schema) as the Python assets.
    os.environ.update(load_settings().dbt_env())
    yield from dbt.cli(["build"], context=context).stream()
