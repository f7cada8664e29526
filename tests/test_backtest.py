"""Backtests score a past date with two rule sets in a scratch warehouse and compare them.

The production warehouse is a DuckDB file loaded from 1,000 generated contacts and built as
of today. Two backtests of the date 90 days ago run against it: the shipped rules against
themselves (through the `leadscore backtest` command) must report no difference; the shipped
rules against a copy with the demo-request rule's points and cap doubled (through the Dagster
asset and its run config) must report one. Neither may change a byte of the production file."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
import pytest

from orchestration.cli import main
from orchestration.defs.backtest.assets import rules_backtest
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.project_copy import copy_project
from orchestration.lib.seeds import seed_path
from tests.conftest import TODAY, ProjectCopy

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

AS_OF = TODAY - timedelta(days=90)
RULE_SEEDS = (
    "scoring_behavior_rules",
    "scoring_fit_rules",
    "scoring_weights",
    "scoring_thresholds",
)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def production(loaded_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> ProjectCopy:
    """A production data dir: the warehouse built as of today by the real dbt project."""
    root = tmp_path_factory.mktemp("backtest_production")
    copy_project(root)
    shutil.copy(loaded_warehouse, root / "warehouse.duckdb")
    project = ProjectCopy(root, root / "warehouse.duckdb")
    project.build(as_of=TODAY)
    return project


@pytest.fixture
def environment(production: ProjectCopy, monkeypatch: pytest.MonkeyPatch) -> Path:
    data_dir = production.root
    monkeypatch.setenv("LEADSCORE_TARGET", "duckdb")
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(data_dir))
    monkeypatch.setenv("LEADSCORE_DUCKDB_PATH", str(production.duckdb_path))
    monkeypatch.setenv("LEADSCORE_AS_OF_DATE", TODAY.isoformat())
    return data_dir


def _rules_dir(target: Path, edit=None) -> Path:
    target.mkdir()
    for name in RULE_SEEDS:
        shutil.copy(seed_path(name), target / f"{name}.csv")
    if edit:
        path = target / "scoring_behavior_rules.csv"
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            fields, rows = reader.fieldnames, list(reader)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(edit(rows))
    return target


def _double_demo(rows: list[dict]) -> list[dict]:
    [demo] = [row for row in rows if row["event_type"] == "demo_request"]
    demo["points"] = str(2 * int(demo["points"]))
    demo["max_points"] = str(2 * int(demo["max_points"]))
    return rows


def _history_dates(production: ProjectCopy) -> set:
    rows = production.query("select distinct as_of_date from marts.fct_lead_score_history")
    return {as_of for (as_of,) in rows}


def test_the_shipped_rules_against_themselves_report_no_difference(
    production: ProjectCopy, environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture
):
    before = _sha256(production.duckdb_path)
    rules = _rules_dir(tmp_path / "same")

    assert main(["backtest", "--rules", str(rules), "--as-of", AS_OF.isoformat()]) == 0

    out = capsys.readouterr().out
    assert "No differences" in out
    [report_dir] = (environment / "backtests").iterdir()
    report = json.loads((report_dir / "report.json").read_text())
    assert report["has_differences"] is False
    assert (report["stage_changes"], report["score_changes"]) == (0, 0)
    assert report["baseline"] == {
        **report["candidate"],
        "rules_dir": report["baseline"]["rules_dir"],
    }
    assert sum(report["baseline"]["leads_per_stage"].values()) > 500
    assert report["baseline"]["metrics"]["evaluation_date"] == AS_OF.isoformat()
    assert pq.read_table(report_dir / "stage_changes.parquet").num_rows == 0
    assert _sha256(production.duckdb_path) == before
    assert _history_dates(production) == {TODAY}


def test_doubling_the_demo_weight_reports_a_difference_and_leaves_production_alone(
    production: ProjectCopy, environment: Path, tmp_path: Path
):
    before = _sha256(production.duckdb_path)
    rules = _rules_dir(tmp_path / "demo_doubled", _double_demo)
    end_of_as_of = datetime.combine(AS_OF + timedelta(days=1), datetime.min.time())
    # leads that requested a demo by the backtest date: the only ones the change can move
    demo_leads = {
        contact
        for contact, occurred_at in production.query(
            "select contact_id, occurred_at from staging.stg_marketing__events "
            "where event_type = 'demo_request'"
        )
        if occurred_at < end_of_as_of
    }
    assert demo_leads

    result = dg.materialize(
        [rules_backtest],
        instance=dg.DagsterInstance.ephemeral(),
        resources={"warehouse": WarehouseResource()},
        run_config={
            "ops": {
                "backtest__rules_backtest": {
                    "config": {"rules_dir": str(rules), "as_of_date": AS_OF.isoformat()}
                }
            }
        },
    )

    assert result.success
    [event] = result.asset_materializations_for_node("backtest__rules_backtest")
    metadata = {key: value.value for key, value in event.metadata.items()}
    assert metadata["has_differences"] is True
    assert 0 < metadata["score_changes"] <= len(demo_leads)
    report_dir = Path(metadata["report"]).parent
    changes = pq.read_table(report_dir / "stage_changes.parquet").to_pylist()
    assert metadata["stage_changes"] == len(changes) > 0
    order = ["Cold", "MQL", "SQL"]
    for change in changes:
        # more points for a demo can only lift a lead, and only a lead that asked for one
        assert change["contact_id"] in demo_leads
        assert change["candidate_score"] > change["baseline_score"]
        assert order.index(change["candidate_stage"]) > order.index(change["baseline_stage"])
    report = json.loads(Path(metadata["report"]).read_text())
    baseline, candidate = report["baseline"], report["candidate"]
    moved_up = {stage: 0 for stage in order}
    for change in changes:
        moved_up[change["baseline_stage"]] -= 1
        moved_up[change["candidate_stage"]] += 1
    assert candidate["leads_per_stage"] == {
        stage: baseline["leads_per_stage"][stage] + moved_up[stage] for stage in order
    }
    assert _sha256(production.duckdb_path) == before
    assert _history_dates(production) == {TODAY}


def test_a_rules_dir_with_an_unknown_file_fails_clearly(
    environment: Path, tmp_path: Path, capsys: pytest.CaptureFixture
):
    rules = _rules_dir(tmp_path / "typo")
    (rules / "scoring_behaviour_rules.csv").write_text("rule_id\n")
    assert main(["backtest", "--rules", str(rules), "--as-of", AS_OF.isoformat()]) == 1
    assert "scoring_behaviour_rules.csv" in capsys.readouterr().err
