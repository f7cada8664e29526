"""Data-quality gates: the Dagster checks pass on clean data, and a bad batch (every event
sent again under new ids) is caught by a blocking check, so nothing leaves the warehouse:
the report, the Parquet exports, the synced files and the sync ledger stay exactly as they
were."""

from __future__ import annotations

import dagster as dg
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pytest

from orchestration.definitions import REFRESH_JOB_NAME, defs
from orchestration.defs.report.assets import EXPORT_MODELS, REPORT_FILE
from orchestration.defs.sync.assets import sync_asset_key
from orchestration.demo.generator import generate_demo_data
from orchestration.sync.runner import DESTINATIONS
from tests.conftest import INFO_LOGS, TODAY

CHECKS = {
    "events_are_fresh",
    "event_volume_is_normal",
    "sql_share_is_stable",
    "segment_shares_within_bounds",
}


def refresh() -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=INFO_LOGS
    )


@pytest.fixture
def warehouse_dir(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    generate_demo_data(landing, contacts=1_000, events=20_000, seed=5, as_of=TODAY, progress=False)
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADSCORE_LANDING_DIR", str(landing))
    monkeypatch.setenv("LEADSCORE_TARGET", "duckdb")
    return tmp_path


def evaluations(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations() if e.check_name in CHECKS}


def test_quality_checks_pass_on_clean_data_with_their_measurements(warehouse_dir):
    result = refresh()
    assert result.success
    checks = evaluations(result)
    assert set(checks) == CHECKS
    assert all(check.passed for check in checks.values())
    volume = checks["event_volume_is_normal"].metadata
    assert volume["events"].value > 15_000
    assert volume["growth"].value == -1.0  # first load: nothing to compare with
    assert checks["events_are_fresh"].metadata["hours_since_last_load"].value < 1


def test_a_batch_that_doubles_every_event_is_blocked_and_nothing_leaves(warehouse_dir):
    first = refresh()
    assert first.success
    synced = first.asset_materializations_for_node("sync_files")
    assert synced and synced[0].metadata["sent"].value > 900  # the files destination ran
    outputs = [warehouse_dir / "reports" / REPORT_FILE] + [
        warehouse_dir / "exports" / f"{model}.parquet" for model in EXPORT_MODELS
    ]
    before = {path: path.read_bytes() for path in outputs}
    synced_files = sorted((warehouse_dir / "sync").rglob("*"))
    ledger_before = sync_ledger(warehouse_dir)
    assert len(ledger_before) > 900

    # The same events again under new ids: usable, so they pass staging, but twice the volume.
    events_dir = warehouse_dir / "landing" / "marketing_events"
    events = pa_csv.read_csv(
        events_dir / "part-00000.csv",
        convert_options=pa_csv.ConvertOptions(
            column_types={"event_id": pa.string()}, strings_can_be_null=True
        ),
    )
    copied = events.set_column(
        0, "event_id", pc.binary_join_element_wise("X", events["event_id"], "")
    )
    pa_csv.write_csv(copied, events_dir / "resent.csv")

    result = refresh()

    volume = evaluations(result)["event_volume_is_normal"]
    assert not volume.passed
    assert volume.metadata["growth"].value == pytest.approx(2.0, rel=0.01)
    materialized = {m.asset_key for m in result.get_asset_materialization_events()}
    assert dg.AssetKey(["report", "lead_segment_report"]) not in {
        event.asset_key for event in result.get_asset_materialization_events()
    }
    assert dg.AssetKey(["report", "bi_parquet_export"]) not in materialized
    assert not {sync_asset_key(name) for name in DESTINATIONS} & materialized
    assert {path: path.read_bytes() for path in outputs} == before
    assert sorted((warehouse_dir / "sync").rglob("*")) == synced_files
    assert sync_ledger(warehouse_dir) == ledger_before


def sync_ledger(warehouse_dir) -> list[tuple]:
    with duckdb.connect(str(warehouse_dir / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute("select * from sync.sync_ledger order by all").fetchall()
