"""A `leadscore run` killed with SIGKILL during its dbt build leaves no process behind, and the
next run works. Before, the orphaned `dbt build` ran on for minutes holding the DuckDB lock, and
an immediate re-run failed on it.

Real kills of real runs: the processes are found the way `ps` would, through /proc."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from orchestration.lib.settings import PROJECT_ROOT

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = [
    pytest.mark.acceptance,
    pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="needs /proc"),
]


def environment(data: Path) -> dict[str, str]:
    env = {**os.environ, "LEADSCORE_TARGET": "duckdb", "LEADSCORE_DATA_DIR": str(data)}
    for name in ("LEADSCORE_LANDING_DIR", "LEADSCORE_DUCKDB_PATH", "LEADSCORE_RUN_TOKEN"):
        env.pop(name, None)
    return env


def start_run(data: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "run", "--contacts", "1000",
         "--events", "10000", "--seed", "5"],
        cwd=PROJECT_ROOT,
        env=environment(data),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip


def processes_of(data: Path) -> dict[int, str]:
    """Every live process started for this data folder, by pid: its command line."""
    needle = f"LEADSCORE_DATA_DIR={data}".encode()
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if needle not in (entry / "environ").read_bytes().split(b"\0"):
                continue
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if state != "Z":
            found[int(entry.name)] = command
    return found


def wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def dbt_build(data: Path) -> list[int]:
    return [pid for pid, command in processes_of(data).items() if "dbt build" in command]


def watchdog_of(data: Path, run: subprocess.Popen) -> int:
    [pid] = [
        pid
        for pid, command in processes_of(data).items()
        if "orchestration.lib.runs" in command and f" {run.pid} " in command
    ]
    return pid


def test_a_killed_run_leaves_nothing_behind_and_the_next_run_recovers(tmp_path):
    data = tmp_path / "killed"

    # 1. SIGKILL of the run during dbt build: its dbt build is ended within seconds.
    run = start_run(data)
    try:
        wait_for(lambda: dbt_build(data), 600, "the first run's dbt build")
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        wait_for(lambda: not processes_of(data), 30, "no process of the killed run left")
    finally:
        run.kill()
    assert not list((data / ".runs").glob("*.json"))

    # 2. The watchdog killed first, then the run: the dbt build is orphaned for now ...
    run = start_run(data)
    try:
        orphans = wait_for(lambda: dbt_build(data), 600, "the second run's dbt build")
        os.kill(watchdog_of(data, run), signal.SIGKILL)
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        time.sleep(2)
        assert set(orphans) <= set(processes_of(data)), "the dbt build should still be running"
    finally:
        run.kill()

    # ... and the next run ends it, says so, and succeeds.
    completed = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=PROJECT_ROOT,
        env=environment(data),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert re.search(
        r"leadscore run: a `leadscore run` started at .* was killed and left \d+ process\(es\) "
        r"running; ended them: (.*, )?dbt build \(pid \d+\)",
        completed.stderr,
    ), completed.stderr[-3000:]
    assert "refresh succeeded" in completed.stdout
    assert not processes_of(data)
    assert not list((data / ".runs").glob("*.json"))
