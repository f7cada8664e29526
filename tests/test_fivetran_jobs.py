"""A connector's warehouse through the whole Dagster refresh job, checks included, and `dbt
source freshness` with thresholds on the connector's tables, in each Fivetran mode.

Before, the HubSpot mode passed `dbt build` but failed as a Dagster job (the blocking volume
check read the connector's per-row sync times as growth) and `dbt source freshness` exited 1
(the generic landing-file source stayed enabled, and no connector table had a threshold).

The fixtures are Fivetran's (tests/fixtures/fivetran_*); a live connector syncs every few
hours, so the test stamps every row as synced an hour ago, and then lets one table go stale.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.lib.project_copy import copy_project
from tests.fivetran_fixtures import FIVETRAN_TABLES, load_duckdb
from tests.test_sources import AS_OF, SCHEMAS

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

# The table of each source whose freshness has thresholds and goes stale in the test.
WATCHED = {"hubspot": "contact", "salesforce": "contact"}


def project_for(source: str, root: Path) -> Path:
    """A copy of the project whose dbt_project.yml reads the source, as a customer sets it."""
    copy_project(root, with_code=True)
    config = root / "dbt_project" / "dbt_project.yml"
    text = config.read_text()
    assert "  crm_source: generic\n" in text
    text = text.replace("  crm_source: generic\n", f"  crm_source: {source}\n")
    text = text.replace(f"  {source}_schema: {source}\n", f"  {source}_schema: {SCHEMAS[source]}\n")
    config.write_text(text)
    return root


def synced(path: Path, source: str, at: datetime, tables: list[str] | None = None) -> None:
    """Stamp every row of the tables as synced at `at` (the column added where a fixture
    lacks it, as every real connector table has it)."""
    stamp = at.replace(tzinfo=None).isoformat(sep=" ")
    with duckdb.connect(str(path)) as conn:
        for table in tables or list(FIVETRAN_TABLES[source]):
            name = f'"{SCHEMAS[source]}"."{table}"'
            columns = {row[0] for row in conn.execute(f"describe {name}").fetchall()}
            if "_fivetran_synced" not in columns:
                conn.execute(f"alter table {name} add column _fivetran_synced timestamp")
            conn.execute(f"update {name} set _fivetran_synced = cast('{stamp}' as timestamp)")


@pytest.mark.parametrize("source", ["hubspot", "salesforce"])
def test_the_refresh_job_and_freshness_pass_on_a_connectors_tables(source, tmp_path):
    root = project_for(source, tmp_path / "project")
    data = tmp_path / "data"
    data.mkdir()
    warehouse = data / "warehouse.duckdb"
    load_duckdb(warehouse, source, SCHEMAS[source])
    synced(warehouse, source, datetime.now(UTC) - timedelta(hours=1))
    env = {
        **os.environ,
        "LEADSCORE_TARGET": "duckdb",
        "LEADSCORE_DATA_DIR": str(data),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    env.pop("LEADSCORE_LANDING_DIR", None)

    run = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--as-of", AS_OF[source]],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    # Every blocking check passed (a failed one fails the run), nothing was generated.
    assert run.returncode == 0, run.stderr[-4000:]
    assert "refresh succeeded" in run.stdout
    assert "generating demo data" not in run.stdout
    assert f"Leads by stage, scored as of {AS_OF[source]}" in run.stdout
    assert not (data / "landing").exists()

    def freshness() -> subprocess.CompletedProcess:
        return subprocess.run(
            ["dbt", "source", "freshness", "--profiles-dir", "."],
            cwd=root / "dbt_project",
            env={**env, "LEADSCORE_DUCKDB_PATH": str(warehouse)},
            capture_output=True,
            text=True,
            timeout=600,
        )

    fresh = freshness()
    assert fresh.returncode == 0, fresh.stdout[-4000:]
    assert f"PASS freshness of {source}.{WATCHED[source]}" in fresh.stdout
    # The generic landing-file sources are not checked in a connector's warehouse.
    assert "freshness of marketing." not in fresh.stdout

    synced(warehouse, source, datetime.now(UTC) - timedelta(days=4), [WATCHED[source]])
    stale = freshness()
    assert stale.returncode != 0
    assert f"ERROR STALE freshness of {source}.{WATCHED[source]}" in stale.stdout
