"""Shared fixtures: real DuckDB files in temporary folders and real PostgreSQL databases
created per test on the local service. PostgreSQL tests fail (never skip) when the service
cannot be reached."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import duckdb
import psycopg
import pytest
from filelock import FileLock

from orchestration.definitions import REFRESH_JOB_NAME, defs
from orchestration.demo.generator import GenerationResult, generate_demo_data
from orchestration.ingest.loader import ingest_landing
from orchestration.lib.project_copy import copy_project
from orchestration.lib.seeds import seed_path
from orchestration.lib.settings import Settings, load_settings
from orchestration.lib.warehouse import WarehouseConnection, connect

# The acceptance scale of the foundation issue.
ACCEPTANCE_CONTACTS = 20_000
ACCEPTANCE_EVENTS = 1_000_000


def settings_for(**overrides: str) -> Settings:
    """Settings from the real environment with LEADSCORE_* overrides (e.g. a temp data dir)."""
    return load_settings({**os.environ, **overrides})


@pytest.fixture(scope="session")
def postgres_admin() -> Iterator[psycopg.Connection]:
    pg = load_settings().postgres
    admin = f"host={pg.host} port={pg.port} user={pg.user} dbname={pg.dbname}"
    try:
        conn = psycopg.connect(admin, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(
            f"PostgreSQL is required and not reachable at {pg.host}:{pg.port} ({exc}). Start it: "
            "pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
        )
    yield conn
    conn.close()


@pytest.fixture
def postgres_database(postgres_admin: psycopg.Connection) -> Iterator[str]:
    """A fresh, empty database, dropped afterwards."""
    name = f"leadscore_test_{uuid.uuid4().hex[:12]}"
    postgres_admin.execute(f'create database "{name}"')
    yield name
    postgres_admin.execute(f'drop database if exists "{name}" with (force)')


@pytest.fixture(params=["duckdb", "postgres"])
def warehouse(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[WarehouseConnection]:
    """An open connection to an empty warehouse of each kind."""
    if request.param == "duckdb":
        settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    else:
        database = request.getfixturevalue("postgres_database")
        settings = settings_for(LEADSCORE_TARGET="postgres", LEADSCORE_PG_DBNAME=database)
    with connect(settings) as conn:
        yield conn


@pytest.fixture(scope="session")
def acceptance_landing(tmp_path_factory: pytest.TempPathFactory) -> GenerationResult:
    """20k contacts / 1M events of generated landing files, shared read-only by the
    end-to-end tests (DuckDB and PostgreSQL load the very same files)."""
    out_dir = tmp_path_factory.mktemp("acceptance") / "landing"
    return generate_demo_data(
        out_dir,
        contacts=ACCEPTANCE_CONTACTS,
        events=ACCEPTANCE_EVENTS,
        seed=7,
        as_of=datetime.now(UTC).date(),
        progress=False,
    )


# The longest files start first, so that with `pytest -n` (pyproject.toml) no worker is left
# with one of them at the end while the others wait.
SLOWEST_FIRST = (
    # the acceptance tier
    "test_spark.py",
    "test_pipeline.py",
    "test_report.py",
    "test_sync_recipes.py",
    "test_predictive.py",
    "test_export_onboarding.py",
    # the default tier
    "test_scoring.py",
    "test_segments.py",
    "test_sources.py",
    "test_quality.py",
)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        name = item.path.name
        return SLOWEST_FIRST.index(name) if name in SLOWEST_FIRST else len(SLOWEST_FIRST)

    items.sort(key=rank)  # stable: the order within each file is kept


INFO_LOGS = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
# Both engines score the same as-of date, even if the suite runs across midnight.
AS_OF = datetime.now(UTC).date().isoformat()


def run_refresh() -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), raise_on_error=False, run_config=INFO_LOGS
    )


def _shared_refresh_dir(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Under pytest-xdist, a folder every worker of this test run sees (the parent of the
    workers' own temporary folders); None when the tests run in one process."""
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return None
    shared = tmp_path_factory.getbasetemp().parent / "duckdb_refresh_shared"
    shared.mkdir(exist_ok=True)
    return shared


@pytest.fixture(scope="session")
def duckdb_refresh(
    acceptance_landing: GenerationResult, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Settings, list[dg.ExecuteInProcessResult]]:
    """Two real Dagster runs of the refresh job on the same landing folder into one DuckDB
    file. The environment points at it only while the runs execute. Under xdist a copy of
    the file is published for `refreshed_warehouse` on the other workers."""
    env = {
        "LEADSCORE_TARGET": "duckdb",
        "LEADSCORE_DATA_DIR": str(tmp_path_factory.mktemp("duckdb_refresh")),
        "LEADSCORE_LANDING_DIR": str(acceptance_landing.out_dir),
        "LEADSCORE_AS_OF_DATE": AS_OF,
    }
    shared = _shared_refresh_dir(tmp_path_factory)
    with FileLock(shared / "lock") if shared else nullcontext():
        with pytest.MonkeyPatch.context() as patch:
            for name, value in env.items():
                patch.setenv(name, value)
            results = [run_refresh(), run_refresh()]
        settings = settings_for(**env)
        if shared and not (shared / "done").exists():
            shutil.copy(settings.duckdb_path, shared / "warehouse.duckdb")
            (shared / "done").touch()
    return settings, results


@pytest.fixture(scope="session")
def refreshed_warehouse(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """The warehouse of `duckdb_refresh`, for tests that need only the file, not the runs'
    results. When another xdist worker has already built it (or is building it: the lock
    waits), this worker copies that file instead of running the two refreshes again."""
    shared = _shared_refresh_dir(tmp_path_factory)
    if shared:
        with FileLock(shared / "lock"):
            if (shared / "done").exists():
                data_dir = tmp_path_factory.mktemp("refreshed_warehouse")
                shutil.copy(shared / "warehouse.duckdb", data_dir / "warehouse.duckdb")
                return settings_for(
                    LEADSCORE_TARGET="duckdb",
                    LEADSCORE_DATA_DIR=str(data_dir),
                    LEADSCORE_AS_OF_DATE=AS_OF,
                )
    return request.getfixturevalue("duckdb_refresh")[0]


TODAY = datetime.now(UTC).date()


@dataclass
class ProjectCopy:
    root: Path
    duckdb_path: Path

    @property
    def seeds(self) -> Path:
        return self.root / "seeds"

    def dbt(self, *args: str, as_of: date = TODAY) -> subprocess.CompletedProcess:
        env = {
            **os.environ,
            "LEADSCORE_TARGET": "duckdb",
            "LEADSCORE_DUCKDB_PATH": str(self.duckdb_path),
            "LEADSCORE_AS_OF_DATE": as_of.isoformat(),
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        }
        return subprocess.run(
            ["dbt", *args, "--profiles-dir", "."],
            cwd=self.root / "dbt_project",
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    def build(self, as_of: date = TODAY) -> None:
        completed = self.dbt("build", as_of=as_of)
        assert completed.returncode == 0, completed.stdout[-4000:]

    def query(self, sql: str) -> list[tuple]:
        with duckdb.connect(str(self.duckdb_path), read_only=True) as conn:
            return conn.execute(sql).fetchall()

    def scores(self) -> dict[str, tuple[float, float, float]]:
        rows = self.query(
            "select contact_id, fit_score, behavior_score, lead_score from marts.dim_leads"
        )
        return {contact: (fit, behavior, lead) for contact, fit, behavior, lead in rows}

    def edit_seed(self, name: str, edit) -> None:
        """Apply `edit` to every row (a dict) of the seed's CSV; it may append rows."""
        path = seed_path(name, self.seeds)
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            fields = reader.fieldnames
            rows = list(reader)
        rows = edit(rows)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)


@pytest.fixture(scope="session")
def loaded_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file with 1,000 generated contacts and 30,000 events in raw."""
    root = tmp_path_factory.mktemp("scoring_raw")
    landing = root / "landing"
    generate_demo_data(landing, contacts=1_000, events=30_000, seed=11, as_of=TODAY, progress=False)
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(root))
    with connect(settings) as conn:
        ingest_landing(conn, landing, "raw", log=lambda message: None)
    return settings.duckdb_path


@pytest.fixture
def project(loaded_warehouse: Path, tmp_path: Path) -> ProjectCopy:
    copy_project(tmp_path)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(loaded_warehouse, warehouse)
    return ProjectCopy(tmp_path, warehouse)
