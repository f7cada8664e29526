"""Configuration is checked before any work: every LEADSCORE_* variable goes through
`load_settings()`, and a bad value stops `leadscore run`, a Dagster run and a dbt run (the
profile) with a message that names the variable, the value and what is allowed. Real
processes, real DuckDB files."""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import REFRESH_JOB_NAME, defs
from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.lib.asset_keys import raw_table_key
from orchestration.lib.settings import PROJECT_ROOT, SettingsError, load_settings
from orchestration.lib.warehouse import connect
from tests.conftest import INFO_LOGS, settings_for

# Should a run get past the settings, it would generate little demo data.
SMALL_DEMO = ("--contacts", "1000", "--events", "10000")
# A value that, pasted into `set memory_limit = '...'`, ran a second statement.
INJECTION = "1GB'; create table main.pwned as select 42 as x; select '"


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "LEADSCORE_PG_PORT",
            "54x2",
            "LEADSCORE_PG_PORT='54x2' is not valid: a whole number from 1 to 65535",
        ),
        (
            "LEADSCORE_PG_PORT",
            "70000",
            "LEADSCORE_PG_PORT='70000' is not valid: a whole number from 1 to 65535",
        ),
        (
            "LEADSCORE_DUCKDB_MEMORY_LIMIT",
            "lots",
            "LEADSCORE_DUCKDB_MEMORY_LIMIT='lots' is not valid: a size of at least 16MB such as "
            "4GB, 500MB or 2.5GiB, or a share of RAM above 0% and at most 100% such as 80%",
        ),
        (
            "LEADSCORE_DUCKDB_MEMORY_LIMIT",
            "120%",
            "LEADSCORE_DUCKDB_MEMORY_LIMIT='120%' is not valid: a size of at least 16MB",
        ),
        (
            "LEADSCORE_AS_OF_DATE",
            "2026-02-30",
            "LEADSCORE_AS_OF_DATE='2026-02-30' is not valid: a date as YYYY-MM-DD that exists",
        ),
        (
            "LEADSCORE_AS_OF_DATE",
            "20/11/2026",
            "LEADSCORE_AS_OF_DATE='20/11/2026' is not valid: a date as YYYY-MM-DD",
        ),
        (
            "LEADSCORE_SYNC_FILES_FORMAT",
            "xlsx",
            "LEADSCORE_SYNC_FILES_FORMAT='xlsx' is not valid: parquet or csv",
        ),
        ("LEADSCORE_TARGET", "oracle", "LEADSCORE_TARGET='oracle' is not valid: one of duckdb"),
        (
            "LEADSCORE_DUCKDB_THREADS",
            "0",
            "LEADSCORE_DUCKDB_THREADS='0' is not valid: a whole number of 1 or more",
        ),
        (
            "LEADSCORE_LOCK_TIMEOUT_SECONDS",
            "1m",
            "LEADSCORE_LOCK_TIMEOUT_SECONDS='1m' is not valid: a whole number of seconds",
        ),
        (
            "LEADSCORE_CSV_MAX_FIELD_BYTES",
            "2GB",
            "LEADSCORE_CSV_MAX_FIELD_BYTES='2GB' is not valid: a size from 1KiB to 512MiB",
        ),
        ("LEADSCORE_SPARK_CORES", "two", "LEADSCORE_SPARK_CORES='two' is not valid: * or a"),
        (
            "LEADSCORE_SPARK_DRIVER_MEMORY",
            "4 gigs",
            "LEADSCORE_SPARK_DRIVER_MEMORY='4 gigs' is not valid: a JVM memory size",
        ),
        ("LEADSCORE_RAW_SCHEMA", "raw data", "LEADSCORE_RAW_SCHEMA='raw data' is not valid"),
        ("LEADSCORE_AUTOMATION", "yes please", "LEADSCORE_AUTOMATION='yes please' is not valid"),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_what_is_allowed(
    name: str, value: str, message: str
):
    with pytest.raises(SettingsError) as error:
        load_settings({name: value})
    assert str(error.value).startswith(message), str(error.value)
    assert error.value.variables == [name]


def test_a_url_that_may_hold_a_secret_is_named_but_never_echoed():
    secret_url = "hooks.example.com/T000/B000/s3cr3t"
    with pytest.raises(SettingsError) as error:
        load_settings({"LEADSCORE_ALERT_WEBHOOK_URL": secret_url})
    assert str(error.value) == (
        "LEADSCORE_ALERT_WEBHOOK_URL is not valid (its value is not shown: it may hold a "
        "secret): an absolute http:// or https:// URL"
    )


def test_every_bad_variable_is_named_at_once():
    with pytest.raises(SettingsError) as error:
        load_settings({"LEADSCORE_PG_PORT": "54x2", "LEADSCORE_SYNC_FILES_FORMAT": "CSV"})
    assert str(error.value).splitlines() == [
        "LEADSCORE_PG_PORT='54x2' is not valid: a whole number from 1 to 65535",
        "LEADSCORE_SYNC_FILES_FORMAT='CSV' is not valid: parquet or csv",
    ]


def test_good_values_are_typed():
    settings = load_settings(
        {
            "LEADSCORE_PG_PORT": " 6543 ",
            "LEADSCORE_DUCKDB_MEMORY_LIMIT": "2.5 gib",
            "LEADSCORE_AS_OF_DATE": "2026-11-20",
            "LEADSCORE_SYNC_FILES_FORMAT": "csv",
            "LEADSCORE_LOCK_TIMEOUT_SECONDS": "5",
            "LEADSCORE_CSV_MAX_FIELD_BYTES": "100MB",
            "LEADSCORE_AUTOMATION": "ON",
        }
    )
    assert settings.postgres.port == 6543
    assert settings.duckdb_memory_limit == "2.5GiB"  # the form DuckDB reads
    assert settings.as_of_date == date(2026, 11, 20)
    assert settings.sync.files_format == "csv"
    assert settings.lock_timeout_seconds == 5
    assert settings.csv_max_field_bytes == 100_000_000
    assert settings.automation is True
    assert load_settings({"LEADSCORE_DUCKDB_MEMORY_LIMIT": "80%"}).duckdb_memory_limit == "80%"
    # Empty counts as unset.
    defaults = load_settings({"LEADSCORE_PG_PORT": "", "LEADSCORE_DATA_DIR": " "})
    assert defaults.postgres.port == 5432
    assert defaults.data_dir == PROJECT_ROOT / "data"


def test_a_memory_limit_with_a_quote_is_refused_and_runs_nothing(tmp_path: Path):
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    with connect(settings) as conn:
        conn.execute("create table main.kept as select 1 as x")

    with pytest.raises(SettingsError) as error:
        settings_for(
            LEADSCORE_TARGET="duckdb",
            LEADSCORE_DATA_DIR=str(tmp_path),
            LEADSCORE_DUCKDB_MEMORY_LIMIT=INJECTION,
        )
    assert str(error.value).startswith(
        f"LEADSCORE_DUCKDB_MEMORY_LIMIT={INJECTION!r} is not valid: a size of at least 16MB"
    )
    # Settings built by hand do not get past connect() either.
    forged = dataclasses.replace(settings, duckdb_memory_limit=INJECTION)
    with pytest.raises(SettingsError, match="LEADSCORE_DUCKDB_MEMORY_LIMIT="), connect(forged):
        pass

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        tables = conn.execute("select table_name from information_schema.tables").fetchall()
    assert tables == [("kept",)]


def _copy_dbt_project(root: Path) -> Path:
    ignore = shutil.ignore_patterns("target", "logs", "dbt_packages")
    for folder in ("dbt_project", "seeds", "macros"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder, ignore=ignore)
    return root / "dbt_project"


def test_the_dbt_profile_refuses_a_memory_limit_with_a_quote(tmp_path: Path):
    """dbt reads LEADSCORE_DUCKDB_MEMORY_LIMIT itself (its profile): a dbt run started by hand
    refuses the value by name too, and runs nothing."""
    project = _copy_dbt_project(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    duckdb.connect(str(warehouse)).close()
    completed = subprocess.run(
        [str(Path(sys.executable).parent / "dbt"), "debug", "--profiles-dir", "."],
        cwd=project,
        env={
            **os.environ,
            "LEADSCORE_TARGET": "duckdb",
            "LEADSCORE_DUCKDB_PATH": str(warehouse),
            "LEADSCORE_DUCKDB_MEMORY_LIMIT": INJECTION,
            "DBT_USE_COLORS": "false",
        },
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode != 0
    assert (
        f"LEADSCORE_DUCKDB_MEMORY_LIMIT='{INJECTION}' is not valid: a size of at least 16MB"
    ) in completed.stdout, completed.stdout[-3000:]
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        assert conn.execute("select count(*) from information_schema.tables").fetchall() == [(0,)]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "LEADSCORE_PG_PORT",
            "54x2",
            "LEADSCORE_PG_PORT='54x2' is not valid: a whole number from 1 to 65535",
        ),
        (
            "LEADSCORE_AS_OF_DATE",
            "2026-13-01",
            "LEADSCORE_AS_OF_DATE='2026-13-01' is not valid: a date as YYYY-MM-DD that exists, "
            "such as 2026-11-20",
        ),
        (
            "LEADSCORE_SYNC_FILES_FORMAT",
            "xlsx",
            "LEADSCORE_SYNC_FILES_FORMAT='xlsx' is not valid: parquet or csv",
        ),
    ],
    ids=["port", "as-of-date", "sync-format"],
)
def test_leadscore_run_stops_before_any_work(tmp_path: Path, name: str, value: str, message: str):
    """No demo data generated, no warehouse opened, no traceback: one line naming the
    variable (the sync format used to be refused only after the whole build)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    env = {
        key: item
        for key, item in os.environ.items()
        if not key.startswith("LEADSCORE_") and key != "DAGSTER_HOME"
    }
    completed = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", *SMALL_DEMO],
        cwd=PROJECT_ROOT,
        env={**env, "LEADSCORE_DATA_DIR": str(data_dir), name: value},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 2, completed.stderr[-3000:]
    assert completed.stderr.strip() == f"leadscore: {message}"
    assert completed.stdout == ""
    assert list(data_dir.iterdir()) == []  # no landing files, no warehouse


def test_a_dagster_run_fails_at_its_first_step_naming_the_variable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    landing = tmp_path / "landing" / "crm_owners"
    landing.mkdir(parents=True)
    (landing / "owners.csv").write_text(",".join(RAW_CONTRACT["crm_owners"]) + "\nO1,Ann,,AE,NA\n")
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADSCORE_TARGET", "duckdb")
    monkeypatch.delenv("LEADSCORE_LANDING_DIR", raising=False)
    monkeypatch.delenv("LEADSCORE_DUCKDB_PATH", raising=False)
    monkeypatch.setenv("LEADSCORE_SYNC_FILES_FORMAT", "xlsx")

    result = defs.resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=[raw_table_key("crm_owners")],
        raise_on_error=False,
        run_config=INFO_LOGS,
    )
    assert not result.success
    failures = [event for event in result.all_events if event.is_step_failure]
    assert [event.step_key for event in failures] == ["ingest_landing_files"]
    error = failures[0].step_failure_data.error
    while error.cause is not None:
        error = error.cause
    assert "LEADSCORE_SYNC_FILES_FORMAT='xlsx' is not valid: parquet or csv" in error.message
    assert not (tmp_path / "warehouse.duckdb").exists()  # nothing was loaded
