"""Demo data goes only into a new, empty warehouse (or on `leadscore generate`): a mistyped
landing folder is an error naming the variable and the path, and an emptied one means
"nothing new". Before, both made demo data and loaded it beside the real rows."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.cli import LandingError, landing_plan
from orchestration.demo.generator import generate_demo_data
from orchestration.ingest.loader import ingest_landing
from orchestration.lib.settings import PROJECT_ROOT
from orchestration.lib.warehouse import connect
from tests.conftest import TODAY, settings_for


def leadscore_run(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "LEADSCORE_TARGET": "duckdb", **env},
        capture_output=True,
        text=True,
        timeout=900,
    )


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, int]:
    """A data folder whose warehouse holds loaded contacts; the landing files were then
    archived, so the landing folder is empty."""
    data = tmp_path / "data"
    landing = data / "landing"
    generate_demo_data(landing, contacts=1_000, events=10_000, seed=3, as_of=TODAY, progress=False)
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(data))
    with connect(settings) as conn:
        ingest_landing(conn, landing, "raw", log=lambda message: None)
        [(contacts,)] = conn.fetchall("select count(*) from raw.crm_contacts")
    shutil.rmtree(landing)
    landing.mkdir()
    return data, contacts


def raw_contacts(data: Path) -> int:
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute("select count(*) from raw.crm_contacts").fetchone()[0]


def test_a_mistyped_landing_folder_is_an_error_and_no_demo_data_is_made(loaded):
    data, contacts = loaded
    mistyped = data / "landng"
    completed = leadscore_run(
        {"LEADSCORE_DATA_DIR": str(data), "LEADSCORE_LANDING_DIR": str(mistyped)}
    )
    assert completed.returncode == 2, completed.stdout[-2000:]
    assert (
        f"LEADSCORE_LANDING_DIR points at {mistyped}, which does not exist: create the folder, "
        "or fix or unset the variable" in completed.stderr
    )
    assert not mistyped.exists()
    assert raw_contacts(data) == contacts


def test_a_missing_default_landing_folder_is_an_error_on_a_warehouse_with_data(loaded):
    data, _ = loaded
    (data / "landing").rmdir()
    env = {key: value for key, value in os.environ.items() if key != "LEADSCORE_LANDING_DIR"}
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(data))
    with pytest.raises(LandingError, match=r"the landing folder .*landing \(LEADSCORE_LANDING_DIR"):
        landing_plan(settings, env)
    assert not (data / "landing").exists()


def test_an_emptied_landing_folder_means_nothing_new(loaded):
    data, contacts = loaded
    completed = leadscore_run({"LEADSCORE_DATA_DIR": str(data)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert f"no landing files in {data / 'landing'}: nothing new to load" in completed.stdout
    assert "generating demo data" not in completed.stdout
    assert raw_contacts(data) == contacts
    assert not any((data / "landing").iterdir())


def test_a_new_empty_warehouse_gets_demo_data(tmp_path):
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    env = {key: value for key, value in os.environ.items() if key != "LEADSCORE_LANDING_DIR"}
    assert landing_plan(settings, env) == "generate"
    # A folder named explicitly must exist, even for a new warehouse: no demo data then.
    with pytest.raises(LandingError):
        landing_plan(settings, {**env, "LEADSCORE_LANDING_DIR": str(tmp_path / "missing")})
