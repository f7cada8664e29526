"""Every dbt model and seed as a Dagster asset, built with `dbt build` so tests run in order
and arrive as asset checks (tests with severity error block what depends on them)."""

import json
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets, get_asset_key_for_model

from orchestration.defs.dbt.translator import LeadscoreTranslator
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.asset_keys import WAREHOUSE_POOL
from orchestration.lib.dbt_failures import failure_details
from orchestration.lib.dbt_manifest import dbt_project
from orchestration.lib.seed_patterns import SeedPatternError, check_seed_patterns


@contextmanager
def _environment(values: Mapping[str, str]) -> Iterator[None]:
    """Set environment variables for the dbt subprocess and restore them afterwards."""
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class ScoringConfig(dg.Config):
    """Run configuration of the dbt assets. Leave `as_of_date` empty to score as of today
    (or LEADSCORE_AS_OF_DATE); set it to backfill history or score a past date for a
    backtest, from the launchpad or with `dagster job execute -c`. `full_refresh: true`
    passes `--full-refresh` to dbt."""

    as_of_date: str | None = None
    # Rebuild the incremental models (events, day aggregates) from all history instead of
    # refreshing what changed; needed after a contact merge changes how events resolve.
    full_refresh: bool = False

    def dbt_args(self) -> list[str]:
        args = ["--full-refresh"] if self.full_refresh else []
        if not self.as_of_date:
            return args
        try:
            date.fromisoformat(self.as_of_date)
        except ValueError:
            raise ValueError(
                f"as_of_date must be a date as YYYY-MM-DD, got {self.as_of_date!r}"
            ) from None
        return [*args, "--vars", json.dumps({"as_of_date": self.as_of_date})]


@dbt_assets(
    manifest=dbt_project().manifest_path,
    project=dbt_project(),
    dagster_dbt_translator=LeadscoreTranslator(),
    pool=WAREHOUSE_POOL,
)
def leadscore_dbt_models(
    context: dg.AssetExecutionContext,
    dbt: DbtCliResource,
    warehouse: WarehouseResource,
    config: ScoringConfig,
):
    # dbt inherits this environment: it must resolve to the same warehouse (target, absolute
    # DuckDB path, raw schema) as the Python assets.
    settings = warehouse.settings
    try:  # before dbt touches a table: a bad pattern would fail the build halfway
        check_seed_patterns(settings)
    except SeedPatternError as error:
        raise dg.Failure(description=str(error)) from None
    with _environment(settings.dbt_env()):
        invocation = dbt.cli(["build", *config.dbt_args()], context=context, raise_on_error=False)
        yield from invocation.stream()
    if not invocation.is_successful():
        # dbt says which tests failed, not which rows: read the first ones back.
        def fetch(sql: str) -> tuple[list[str], list[tuple]]:
            with warehouse.connect(read_only=True) as conn:
                table = conn.fetch_arrow(sql)
            return table.column_names, [tuple(row.values()) for row in table.to_pylist()]

        details = failure_details(invocation.get_artifact("run_results.json"), fetch)
        raise dg.Failure(
            description="dbt build failed:\n" + "\n".join(f"  {line}" for line in details),
            metadata={"failed_nodes": len([line for line in details if not line.startswith(" ")])},
        )


def dbt_key(model: str) -> dg.AssetKey:
    """Asset key of a dbt model, as the translator made it (never spelled by hand)."""
    return get_asset_key_for_model([leadscore_dbt_models], model)
