"""A `leadscore` command that is killed leaves no process behind.

`leadscore run` starts `dbt build` (and, on Spark, a JVM) as child processes. A `kill -9` of the
command cannot be caught, and a child does not die with its parent on its own: before this
module, an orphaned `dbt build` went on for minutes, holding the DuckDB file's lock, so the next
run failed. Two guards, both keyed by a run token that every child inherits through the
environment variable ``LEADSCORE_RUN_TOKEN``:

1. **A watchdog** (a small process started by the run, ``python -m orchestration.lib.runs``)
   notices within a second that the run is gone and ends every process carrying the run's
   token: SIGTERM, then SIGKILL after a grace period. The warehouse stays consistent: DuckDB and
   PostgreSQL roll back the unfinished transaction, and every dbt model is rebuilt or merged
   again on the next run.
2. **The next run** reads the run files in ``<data dir>/.runs/`` (one per live run: its pid and
   start time) and, for a run that is gone, ends what is left of it the same way before it starts
   (this covers a watchdog that was killed too), and says so.

Processes are found through ``/proc`` (Linux); elsewhere both guards do nothing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

RUN_TOKEN_VARIABLE = "LEADSCORE_RUN_TOKEN"
RUNS_FOLDER = ".runs"
GRACE_SECONDS = 10.0
POLL_SECONDS = 0.5
_PROC = Path("/proc")


@dataclass(frozen=True)
class EndedProcess:
    pid: int
    command: str


def _start_time(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (field 22 of /proc/<pid>/stat), which
    tells a live process from a later one that reused its pid; None when it is gone."""
    try:
        stat = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    if fields[0] == "Z":  # a zombie has finished; only its parent has not collected it yet
        return None
    return fields[19]


def _command(pid: int) -> str:
    try:
        raw = (_PROC / str(pid) / "cmdline").read_bytes()
    except OSError:
        return "?"
    parts = [part.decode(errors="replace") for part in raw.split(b"\0") if part]
    if len(parts) > 1 and Path(parts[0]).name.startswith("python"):
        parts = parts[2:] if parts[1] == "-m" else parts[1:]
    # Program and subcommand only: the rest may carry paths or values not meant for a log.
    words = [Path(parts[0]).name] if parts else ["?"]
    if len(parts) > 1 and not parts[1].startswith("-") and "/" not in parts[1]:
        words.append(parts[1])
    return " ".join(words)


def processes_of(token: str) -> list[int]:
    """The live processes started with this run token in their environment."""
    needle = f"{RUN_TOKEN_VARIABLE}={token}".encode()
    found = []
    if not _PROC.is_dir():
        return found
    for entry in _PROC.iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:  # gone, or another user's
            continue
        if needle in environ.split(b"\0") and _start_time(int(entry.name)) is not None:
            found.append(int(entry.name))
    return found


def end_processes_of(token: str, grace: float = GRACE_SECONDS) -> list[EndedProcess]:
    """Ends every process of the run: SIGTERM, then SIGKILL for those alive after ``grace``."""
    pids = processes_of(token)
    ended = [EndedProcess(pid, _command(pid)) for pid in pids]
    for pid in pids:
        with suppress(OSError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_start_time(pid) for pid in pids):
        time.sleep(0.2)
    for pid in pids:
        if _start_time(pid) is not None:
            with suppress(OSError):
                os.kill(pid, signal.SIGKILL)
    while any(_start_time(pid) for pid in pids):  # SIGKILL cannot be refused
        time.sleep(0.1)
    return ended


def reap_orphans(data_dir: Path) -> list[str]:
    """Ends what runs killed earlier left behind; one message per run it cleaned up."""
    folder = data_dir / RUNS_FOLDER
    messages = []
    for run_file in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            run = json.loads(run_file.read_text())
            token, pid, started = run["token"], int(run["pid"]), run["start_time"]
        except (OSError, ValueError, KeyError, TypeError):
            run_file.unlink(missing_ok=True)  # half written by a run killed at its start
            continue
        if _start_time(pid) == started:
            continue  # that run is still going: the warehouse lock decides who waits
        ended = end_processes_of(token)
        run_file.unlink(missing_ok=True)
        if ended:
            listed = ", ".join(f"{process.command} (pid {process.pid})" for process in ended)
            messages.append(
                f"a `leadscore {run.get('command', 'run')}` started at {run.get('started_at')} "
                f"was killed and left {len(ended)} process(es) running; ended them: {listed}"
            )
    return messages


@contextmanager
def supervised(data_dir: Path, command: str) -> Iterator[str]:
    """Runs the body as a supervised run: orphans of killed runs are ended first, the body's
    child processes carry the run token, and a watchdog ends them if this process dies."""
    for message in reap_orphans(data_dir):
        print(f"leadscore {command}: {message}", file=sys.stderr)
    if not _PROC.is_dir():
        yield ""
        return
    token = uuid.uuid4().hex
    folder = data_dir / RUNS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    run_file = folder / f"{token}.json"
    record = {
        "token": token,
        "pid": os.getpid(),
        "start_time": _start_time(os.getpid()),
        "command": command,
        "started_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }
    partial = run_file.with_suffix(".tmp")
    partial.write_text(json.dumps(record))
    partial.replace(run_file)
    previous = os.environ.get(RUN_TOKEN_VARIABLE)
    os.environ[RUN_TOKEN_VARIABLE] = token
    watchdog_env = {k: v for k, v in os.environ.items() if k != RUN_TOKEN_VARIABLE}
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "orchestration.lib.runs", str(os.getpid()), token, str(run_file)],
        env=watchdog_env,
        stdin=subprocess.DEVNULL,
        start_new_session=True,  # a Ctrl-C to the terminal's group must not end it first
    )
    try:
        yield token
    finally:
        if previous is None:
            os.environ.pop(RUN_TOKEN_VARIABLE, None)
        else:
            os.environ[RUN_TOKEN_VARIABLE] = previous
        watchdog.terminate()
        watchdog.wait()
        run_file.unlink(missing_ok=True)


def _watch(parent: int, token: str, run_file: Path) -> None:
    """The watchdog: waits for the run to end; if it died rather than finished (its run file is
    still there), ends its processes and removes the run file."""
    finished = False

    def stop(*_: object) -> None:  # the run finished and ends its watchdog
        nonlocal finished
        finished = True

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while not finished and os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    if finished:
        return
    end_processes_of(token)
    run_file.unlink(missing_ok=True)


if __name__ == "__main__":
    _watch(int(sys.argv[1]), sys.argv[2], Path(sys.argv[3]))
