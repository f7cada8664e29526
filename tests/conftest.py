"""Shared fixtures: real DuckDB files in temporary folders and real PostgreSQL databases
created per test on the local service. PostgreSQL tests fail (never skip) when the service
cannot be reached."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from orchestration.demo.generator import GenerationResult, generate_demo_data
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
