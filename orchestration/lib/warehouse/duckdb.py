"""DuckDB: one file (LEADSCORE_DUCKDB_PATH), the default target.

DuckDB allows a single writer per file: callers open a connection for the duration of one
unit of work and close it before dbt runs, and readers that run after dbt use
``read_only=True``. Opening a file another process holds waits up to
LEADSCORE_LOCK_TIMEOUT_SECONDS, then fails naming the holder (``WarehouseLockedError``)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pyarrow as pa

from orchestration.lib.settings import Settings
from orchestration.lib.warehouse.base import WarehouseConnection, dict_rows, quote_ident

# The DuckDB settings connect() sets, by the keys of Settings.duckdb_config().
_DUCKDB_SETTINGS = {"memory_limit": "memory_limit", "threads": "threads"}
# DuckDB's refusal when another process holds the file, e.g. (DuckDB 1.x and 2.x):
# IO Error: Could not set lock on file "/data/warehouse.duckdb": Conflicting lock is held in
# /usr/bin/python3.11 (PID 4242) by user ann. See also https://duckdb.org/docs/...
_LOCK_REFUSED = "Could not set lock on file"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# Retries back off from the first to the last delay (seconds).
_LOCK_RETRY_DELAYS = (0.1, 1.0)
_log = logging.getLogger("leadscore.warehouse")


class WarehouseLockedError(RuntimeError):
    """Another process held the DuckDB file for longer than the lock timeout."""

    def __init__(self, path: Path, waited: float, program: str | None, pid: int | None):
        holder = f"{program} (PID {pid})" if pid is not None else "another process"
        super().__init__(
            f"the DuckDB file {path} is locked by {holder}; waited {waited:.0f} s "
            "(LEADSCORE_LOCK_TIMEOUT_SECONDS) for it to be released. Close that program's "
            "connection to the file (a BI tool, a notebook, another leadscore run), or raise "
            "LEADSCORE_LOCK_TIMEOUT_SECONDS, and run again"
        )
        self.path = path
        self.program = program
        self.pid = pid


def lock_holder(message: str) -> tuple[str | None, int | None] | None:
    """(program, PID) of the process holding the lock named in DuckDB's error message
    (either may be None when the message does not say); None when the error is not a lock
    held by another process."""
    if _LOCK_REFUSED not in message:
        return None
    match = _LOCK_HOLDER.search(message)
    if not match:
        return None, None
    return match["program"], int(match["pid"])


def _open_duckdb(settings: Settings, *, read_only: bool) -> Any:
    """``duckdb.connect`` that waits up to ``settings.lock_timeout_seconds`` while another
    process holds the file (a writer, or a reader such as a BI tool when we write), retrying
    with a short back-off; then raises ``WarehouseLockedError`` naming the holder."""
    import duckdb  # the package, not this module: imports are absolute

    path = settings.duckdb_path
    started = time.monotonic()
    deadline = started + settings.lock_timeout_seconds
    delay = _LOCK_RETRY_DELAYS[0]
    said = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            holder = lock_holder(str(error))
            if holder is None:
                raise
            now = time.monotonic()
            if now >= deadline:
                raise WarehouseLockedError(path, now - started, *holder) from None
            if not said:
                program, pid = holder
                who = f"{program} (PID {pid})" if pid is not None else "another process"
                _log.warning(
                    f"the DuckDB file {path} is locked by {who}: waiting up to "
                    f"{settings.lock_timeout_seconds} s (LEADSCORE_LOCK_TIMEOUT_SECONDS)"
                )
                said = True
            time.sleep(min(delay, max(deadline - now, 0.0)))
            delay = min(delay * 2, _LOCK_RETRY_DELAYS[1])


class DuckDBConnection(WarehouseConnection):
    """A DuckDB connection (``raw`` a ``duckdb.DuckDBPyConnection``)."""

    dialect = "duckdb"

    @classmethod
    @contextmanager
    def open(cls, settings: Settings, *, read_only: bool = False) -> Iterator[DuckDBConnection]:
        if read_only and not settings.duckdb_path.exists():
            raise FileNotFoundError(
                f"no warehouse at {settings.duckdb_path}; run `leadscore run` first"
            )
        config = settings.duckdb_config()  # checked: a bad value fails before the file opens
        settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        raw = _open_duckdb(settings, read_only=read_only)
        try:
            # SET, not connect(config=...): DuckDB refuses a second connection to an open file
            # with a different configuration. The values are bound as parameters, never
            # spliced into the statement (and were validated by the settings).
            for name, value in config.items():
                raw.execute(f"set {_DUCKDB_SETTINGS[name]} = ?", [value])
        except BaseException:
            raw.close()
            raise
        try:
            yield cls(raw)
        finally:
            raw.close()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self._raw.execute(sql, params or [])

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self._raw.execute(sql, params or []).fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        result = self._raw.execute(sql, params or [])
        names = [column[0] for column in result.description]
        return dict_rows(names, result.fetchall())

    def fetch_arrow(self, sql: str) -> pa.Table:
        # A relation converts straight to Arrow (a DB-API result would copy the rows once
        # more); DuckDB 2 renamed fetch_arrow_table to to_arrow_table.
        relation = self._raw.sql(sql)
        to_arrow = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
        return to_arrow()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._raw.execute("begin transaction")
        try:
            yield
        except BaseException:
            self._raw.execute("rollback")
            raise
        self._raw.execute("commit")

    def append_arrow(self, schema: str, table: str, batch: pa.Table) -> None:
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        columns = ", ".join(quote_ident(name) for name in batch.column_names)
        self._raw.register("_leadscore_append", batch)
        try:
            self._raw.execute(
                f"insert into {target} ({columns}) select {columns} from _leadscore_append"
            )
        finally:
            self._raw.unregister("_leadscore_append")
