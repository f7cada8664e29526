"""Another program holding the DuckDB file (a BI tool's read connection, a notebook) makes a
refresh wait for it, up to LEADSCORE_LOCK_TIMEOUT_SECONDS, then fail naming the holder's
program and PID and the file. The holder is a real second process with a real DuckDB
connection; it lets go when the test tells it to."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.ingest.loader import ingest_landing
from orchestration.lib.project_copy import copy_project
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehouseLockedError, connect
from tests.conftest import settings_for

HOLDER = """
import sys, duckdb
conn = duckdb.connect(sys.argv[1], read_only=True)  # what a BI tool does
print("holding", flush=True)
sys.stdin.readline()  # until the test lets go
conn.close()
"""


class Holder:
    """A process holding a read connection to the DuckDB file until ``release()``."""

    def __init__(self, path: Path):
        self.process = subprocess.Popen(
            [sys.executable, "-c", HOLDER, str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert self.process.stdout.readline().strip() == "holding"
        self.pid = self.process.pid

    def release(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write("\n")
            self.process.stdin.flush()
            self.process.wait(timeout=30)

    def release_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.release)
        timer.start()
        return timer


@pytest.fixture
def warehouse_settings(tmp_path: Path) -> Settings:
    """An existing DuckDB warehouse, with a landing file waiting to be loaded."""
    landing = tmp_path / "landing" / "crm_owners"
    landing.mkdir(parents=True)
    (landing / "owners.csv").write_text(",".join(RAW_CONTRACT["crm_owners"]) + "\nO1,Ann,,AE,NA\n")
    settings = settings_for(
        LEADSCORE_TARGET="duckdb",
        LEADSCORE_DATA_DIR=str(tmp_path),
        LEADSCORE_LOCK_TIMEOUT_SECONDS="30",
    )
    duckdb.connect(str(settings.duckdb_path)).close()
    return settings


@pytest.fixture
def holder(warehouse_settings: Settings) -> Iterator[Holder]:
    holding = Holder(warehouse_settings.duckdb_path)
    yield holding
    holding.release()


def test_connect_waits_for_the_lock_and_the_load_succeeds(
    warehouse_settings: Settings, holder: Holder
):
    timer = holder.release_after(1.0)
    started = time.monotonic()
    try:
        with connect(warehouse_settings) as conn:
            waited = time.monotonic() - started
            report = ingest_landing(
                conn, warehouse_settings.landing_dir, "raw", log=lambda message: None
            )
    finally:
        timer.cancel()
    assert waited >= 0.9
    assert waited < 25
    assert report.rows_loaded("crm_owners") == 1


def test_connect_gives_up_after_the_timeout_naming_the_holder(tmp_path: Path, holder: Holder):
    settings = settings_for(
        LEADSCORE_TARGET="duckdb",
        LEADSCORE_DATA_DIR=str(tmp_path),
        LEADSCORE_LOCK_TIMEOUT_SECONDS="1",
    )
    started = time.monotonic()
    with pytest.raises(WarehouseLockedError) as error, connect(settings):
        pass
    waited = time.monotonic() - started
    assert 1.0 <= waited < 10
    message = str(error.value)
    assert f"the DuckDB file {settings.duckdb_path} is locked by " in message
    assert f"(PID {holder.pid}); waited 1 s (LEADSCORE_LOCK_TIMEOUT_SECONDS)" in message
    assert error.value.pid == holder.pid
    # Read-only opens (the summary, the report) cannot open it while a writer holds it, but
    # a reader does not stop another reader: nothing to wait for here.
    with connect(settings, read_only=True) as conn:
        assert conn.fetchall("select 1") == [(1,)]


def test_a_dbt_run_waits_for_the_lock_too(warehouse_settings: Settings, tmp_path: Path):
    """dbt opens the file through the profile, which retries (dbt-duckdb's `retries`) for as
    long as LEADSCORE_LOCK_TIMEOUT_SECONDS says. dbt takes a few seconds to start; the holder
    lets go well after that, so dbt's first try meets the lock."""
    root = tmp_path / "project"
    copy_project(root)
    holding = Holder(warehouse_settings.duckdb_path)
    timer = holding.release_after(15.0)
    started = time.monotonic()
    try:
        completed = subprocess.run(
            [str(Path(sys.executable).parent / "dbt"), "debug", "--profiles-dir", "."],
            cwd=root / "dbt_project",
            env={
                **os.environ,
                **warehouse_settings.dbt_env(),
                "LEADSCORE_LOCK_TIMEOUT_SECONDS": "60",
                "DBT_USE_COLORS": "false",
            },
            capture_output=True,
            text=True,
            timeout=300,
        )
    finally:
        timer.cancel()
        holding.release()
    assert completed.returncode == 0, completed.stdout[-3000:]
    assert "Connection test: [OK connection ok]" in completed.stdout
    assert time.monotonic() - started >= 15
