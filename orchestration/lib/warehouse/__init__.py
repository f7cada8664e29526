"""The one way Python code talks to the warehouse (DuckDB, PostgreSQL or Apache Spark).

``connect(settings)`` opens the engine that ``settings.target`` names; everything that differs
between the engines lives in that engine's module (``duckdb``, ``postgres``, ``spark``), as a
subclass of ``WarehouseConnection`` (``base``). Adding an engine is a module here and its line
in ``ENGINES``. What each engine needs and how they differ: docs/warehouses.md.
"""

from __future__ import annotations

from contextlib import AbstractContextManager

from orchestration.lib.settings import Settings
from orchestration.lib.warehouse.base import (
    RowChangesUnsupportedError,
    WarehouseConnection,
    quote_ident,
)
from orchestration.lib.warehouse.duckdb import DuckDBConnection, WarehouseLockedError, lock_holder
from orchestration.lib.warehouse.postgres import PostgresConnection
from orchestration.lib.warehouse.spark import (
    SPARK_INSTALL_HINT,
    SPARK_PYTHON_SESSION_CONFIG,
    SparkConnection,
)

# The engines by dbt target (LEADSCORE_TARGET).
ENGINES: dict[str, type[WarehouseConnection]] = {
    engine.dialect: engine for engine in (DuckDBConnection, PostgresConnection, SparkConnection)
}


def supports_row_changes(dialect: str) -> bool:
    """Whether the engine's tables can DELETE / UPDATE rows: not Spark's Parquet tables."""
    engine = ENGINES.get(dialect)
    return engine is None or engine.supports_row_changes


def connect(
    settings: Settings, *, read_only: bool = False
) -> AbstractContextManager[WarehouseConnection]:
    """Open the configured warehouse; the connection is closed when the block ends.

    DuckDB allows a single writer per file: callers open a connection for the duration of one
    unit of work and close it before dbt runs, and readers that run after dbt use
    ``read_only=True``. Spark: a local session with the Hive catalog (Derby), started for the
    block and stopped, JVM and all, when it ends (``read_only`` only checks that the
    warehouse exists: Spark has no read-only session). Blocks nested in one process share the
    session."""
    return ENGINES[settings.target].open(settings, read_only=read_only)


__all__ = [
    "ENGINES",
    "SPARK_INSTALL_HINT",
    "SPARK_PYTHON_SESSION_CONFIG",
    "DuckDBConnection",
    "PostgresConnection",
    "RowChangesUnsupportedError",
    "SparkConnection",
    "WarehouseConnection",
    "WarehouseLockedError",
    "connect",
    "lock_holder",
    "quote_ident",
    "supports_row_changes",
]
