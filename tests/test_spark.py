"""The whole dbt DAG on Apache Spark (dbt-spark, local session) against DuckDB, from the same
generated landing files: every model has the same rows, and the lead-level marts agree lead
by lead (identical stages, grades, segments and routes; scores equal to 1e-6). Both builds
score with the shipped rules plus a rule of every other kind the seeds can state
(tests/rule_kinds.py), on landing files with the extra columns those read.

Needs the `spark` extra (`pip install -e ".[dev,spark]"`) and Java 17; CI installs both.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from orchestration.demo.generator import generate_demo_data
from orchestration.ingest.loader import ingest_landing
from orchestration.lib.project_copy import copy_project
from orchestration.lib.settings import PROJECT_ROOT, Settings
from orchestration.lib.warehouse import connect
from tests.conftest import settings_for
from tests.rule_kinds import NEW_BEHAVIOUR_RULES, NEW_FIT_RULES, add_extra_columns, add_rules

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

AS_OF = date(2026, 6, 30)
# The marts round scores to 6 decimals, so float noise in the engines' sums (which add in
# different orders) can show as one unit in the sixth decimal: equal to 1e-6.
SCORE_TOLERANCE = 1e-6 + 1e-12

# Lead-level marts: the key, the columns that must be identical, and the scores.
LEAD_MARTS = {
    "dim_leads": (
        ["contact_id"],
        [
            "lead_stage",
            "fit_grade",
            "priority",
            "engagement_level",
            "persona",
            "size_band",
            "score_reasons",
            "stage_since",
        ],
        ["fit_score", "behavior_score", "lead_score", "score_change"],
    ),
    "dim_lead_segments": (
        ["contact_id"],
        [
            "segment",
            "sales_action",
            "campaign_track",
            "route",
            "queue",
            "owner_id",
            "company_tier",
            "engagement_level",
            "lifecycle_stage",
            "funnel_stage",
            "lead_stage",
            "fit_grade",
            "priority",
            "persona",
            "region",
            "hierarchical_segment",
            "custom_segments",
            "is_re_engaged",
        ],
        ["fit_score", "behavior_score", "lead_score"],
    ),
    "fct_lead_score_components": (
        ["contact_id", "rule_id"],
        ["score_part", "matched_value", "occurrences", "is_decayed", "last_occurred_at"],
        ["points", "undecayed_points", "weighted_points"],
    ),
    "fct_lead_score_history": (
        ["contact_id", "as_of_date"],
        ["lead_stage"],
        ["fit_score", "behavior_score", "lead_score"],
    ),
}


def dbt_build(settings: Settings, target: str, project: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        **settings.dbt_env(),
        "LEADSCORE_AS_OF_DATE": AS_OF.isoformat(),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    # Each build writes its own artifacts: two builds of different adapters never share one
    # target folder (and the project's own target/ stays as it was).
    target_path = settings.data_dir / "dbt_target"
    return subprocess.run(
        ["dbt", "build", "--target", target, "--profiles-dir", ".", "--target-path", target_path],
        cwd=project / "dbt_project",
        env=env,
        capture_output=True,
        text=True,
        timeout=2400,
    )


def models_of(settings: Settings) -> dict[str, tuple[str, str]]:
    """Every model the build made: name -> (schema, table), from that build's manifest."""
    manifest = json.loads((settings.data_dir / "dbt_target" / "manifest.json").read_text())
    return {
        node["name"]: (node["schema"], node["alias"])
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"]["enabled"]
    }


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Settings]:
    root = tmp_path_factory.mktemp("spark_vs_duckdb")
    landing = root / "landing"
    generate_demo_data(landing, contacts=600, events=12_000, seed=5, as_of=AS_OF, progress=False)
    add_extra_columns(landing)
    project = root / "project"
    copy_project(project)
    add_rules(project / "seeds")
    built: dict[str, Settings] = {}
    for target in ("duckdb", "spark"):
        settings = settings_for(
            LEADSCORE_TARGET=target,
            LEADSCORE_DATA_DIR=str(root / target),
            LEADSCORE_LANDING_DIR=str(landing),
        )
        # The project's own ingest loads the files into each warehouse.
        with connect(settings) as conn:
            report = ingest_landing(conn, landing, settings.raw_schema, log=lambda message: None)
        assert not report.failed
        completed = dbt_build(settings, target, project)
        assert completed.returncode == 0, completed.stdout[-6000:]
        assert "ERROR=0" in completed.stdout and "SKIP=0" in completed.stdout
        built[target] = settings
    return built


@pytest.fixture(scope="module")
def tables(builds) -> dict[str, dict]:
    """What the tests compare, read once per warehouse (each Spark connection starts a JVM):
    the row count of every model and the rows of the lead-level marts."""
    read: dict[str, dict] = {}
    for target, settings in builds.items():
        models = models_of(settings)
        with connect(settings, read_only=True) as conn:
            counts = {
                name: conn.fetchall(f"select count(*) from {schema}.{table}")[0][0]
                for name, (schema, table) in models.items()
            }
            marts = {}
            for mart, (key, same, scores) in LEAD_MARTS.items():
                schema, table = models[mart]
                columns = ", ".join(key + same + scores)
                marts[mart] = conn.fetch_dicts(f"select {columns} from {schema}.{table}")
        read[target] = {"models": models, "counts": counts, "marts": marts}
    return read


def test_spark_builds_every_model_of_the_duckdb_build(tables):
    duckdb, spark = tables["duckdb"], tables["spark"]
    assert spark["models"].keys() == duckdb["models"].keys()
    # Spark keeps each layer in a database named after the target schema and the layer.
    assert spark["models"]["dim_leads"] == ("leadscore_marts", "dim_leads")
    assert duckdb["counts"]["dim_leads"] > 500
    assert spark["counts"] == duckdb["counts"]


@pytest.mark.parametrize("mart", list(LEAD_MARTS))
def test_lead_level_marts_agree_lead_by_lead(tables, mart):
    key, same, scores = LEAD_MARTS[mart]
    rows = {
        target: {tuple(str(row[column]) for column in key): row for row in read["marts"][mart]}
        for target, read in tables.items()
    }
    duckdb_rows, spark_rows = rows["duckdb"], rows["spark"]
    assert len(duckdb_rows) > 0
    assert spark_rows.keys() == duckdb_rows.keys()
    mismatches = []
    for lead, expected in duckdb_rows.items():
        actual = spark_rows[lead]
        for column in same:
            if actual[column] != expected[column]:
                mismatches.append((lead, column, expected[column], actual[column]))
        for column in scores:
            a, b = actual[column], expected[column]
            if (a is None) != (b is None) or (
                a is not None and not math.isclose(float(a), float(b), abs_tol=SCORE_TOLERANCE)
            ):
                mismatches.append((lead, column, b, a))
    assert mismatches == [], mismatches[:10]
    # The comparison is not vacuous: the marts spread leads over several stages and scores.
    if "lead_stage" in same:
        assert len({row["lead_stage"] for row in duckdb_rows.values()}) >= 3
    if "segment" in same:
        assert len({row["segment"] for row in duckdb_rows.values()}) >= 4
    if mart == "fct_lead_score_components":  # every kind of rule scored some leads
        rules = {rule for _, rule in duckdb_rows}
        added = {rule["rule_id"] for rule in NEW_FIT_RULES + NEW_BEHAVIOUR_RULES}
        assert added <= rules, sorted(added - rules)


def test_files_sync_on_spark_sends_every_lead_once_then_only_changes(builds, tmp_path):
    """Syncs read the payload mart from Spark; their ledger (which needs DELETE and UPDATE,
    which Parquet tables lack) lives in a DuckDB file beside the Spark warehouse."""
    settings = builds["spark"]
    env = {
        **os.environ,
        **settings.dbt_env(),
        "LEADSCORE_DATA_DIR": str(settings.data_dir),
        "LEADSCORE_LANDING_DIR": str(settings.landing_dir),
        "LEADSCORE_AS_OF_DATE": AS_OF.isoformat(),
        "LEADSCORE_SYNC_FILES_DIR": str(tmp_path / "sync"),
    }

    def sync() -> str:
        completed = subprocess.run(
            # the fixture scores a past date on purpose: say so, as a user backfilling would
            [
                sys.executable,
                "-m",
                "orchestration.cli",
                "sync",
                "--destination",
                "files",
                "--allow-past-as-of",
            ],
            cwd=PROJECT_ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert completed.returncode == 0, completed.stderr[-3000:]
        return completed.stdout

    schema, table = models_of(settings)["sync_files__leads"]
    with connect(settings, read_only=True) as conn:
        payload_rows = conn.fetchall(f"select count(*) from {schema}.{table}")[0][0]
    assert payload_rows > 500

    first = sync()
    assert f"files: sent {payload_rows:,} ({payload_rows:,} added, 0 changed)" in first
    assert list((tmp_path / "sync").rglob("*.parquet"))
    second = sync()
    assert f"files: sent 0 (0 added, 0 changed), {payload_rows:,} unchanged" in second
    assert (settings.spark.dir / "sync_state.duckdb").exists()
