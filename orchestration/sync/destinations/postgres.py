"""PostgreSQL: upserts into a table of an operational PostgreSQL database (not the
warehouse). Configured by LEADSCORE_SYNC_PG_CONNINFO (a libpq connection string); the seed's
``object_type`` names the table (``schema.table``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pyarrow as pa

from orchestration.lib.warehouse import quote_ident
from orchestration.sync.destinations.base import (
    DestinationConfig,
    DestinationSpec,
    payload_columns,
    upsert_only,
)
from orchestration.sync.engine import (
    BatchRejectedError,
    Destination,
    DestinationError,
    Rejection,
    RetryableError,
    SyncRecord,
)

if TYPE_CHECKING:
    from orchestration.lib.settings import Settings

_PG_TYPES = {
    pa.types.is_boolean: "boolean",
    pa.types.is_integer: "bigint",
    pa.types.is_floating: "double precision",
    pa.types.is_decimal: "numeric",
    pa.types.is_date: "date",
    pa.types.is_timestamp: "timestamp",
}


def _pg_type(data_type: pa.DataType) -> str:
    for check, name in _PG_TYPES.items():
        if check(data_type):
            return name
    return "text"


class PostgresDestination(Destination):
    """Upsert into a table of an operational PostgreSQL database (INSERT ... ON CONFLICT on the
    key column), one transaction per batch. The table is created on first use from the payload's
    columns plus ``synced_at``. A batch the database refuses (a constraint, a bad value) is
    rejected as a whole, so the engine splits it down to the rows at fault."""

    name = "postgres"
    max_batch_size = 5_000
    supports_delete = True

    def __init__(self, config: DestinationConfig, conninfo: str):
        import psycopg

        upsert_only(config)
        self.config = config
        self._psycopg = psycopg
        schema, _, table = config.object_type.rpartition(".")
        self.table = f"{quote_ident(schema)}.{quote_ident(table)}" if schema else quote_ident(table)
        self.schema = schema
        try:
            self._conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.OperationalError as error:
            raise DestinationError(
                f"postgres: cannot connect with LEADSCORE_SYNC_PG_CONNINFO ({type(error).__name__})"
            ) from error
        self._columns: list[str] = []

    def prepare(self, schema: pa.Schema) -> None:
        key = self.config.id_property
        self._columns = payload_columns(schema)
        definitions = [f"{quote_ident(key)} text primary key"] + [
            f"{quote_ident(n)} {_pg_type(schema.field(n).type)}" for n in self._columns
        ]
        definitions.append("synced_at timestamptz not null default now()")
        with self._conn.cursor() as cur:
            if self.schema:
                cur.execute(f"create schema if not exists {quote_ident(self.schema)}")
            cur.execute(f"create table if not exists {self.table} ({', '.join(definitions)})")

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        errors = self._psycopg.errors
        key = quote_ident(self.config.id_property)
        columns = [key] + [quote_ident(c) for c in self._columns]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
        statement = (
            f"insert into {self.table} ({', '.join(columns)}) values "
            f"({', '.join(['%s'] * len(columns))}) on conflict ({key}) do update set "
            f"{updates}, synced_at = now()"
        )
        rows = [[r.key, *(r.values.get(c) for c in self._columns)] for r in batch]
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.executemany(statement, rows)
        except (errors.IntegrityError, errors.DataError) as error:
            raise BatchRejectedError(
                f"{type(error).__name__}: {error}", code=type(error).__name__
            ) from error
        except self._psycopg.OperationalError as error:
            raise RetryableError(f"database error ({type(error).__name__})") from error
        return []

    def delete(self, keys: Sequence[str]) -> None:
        key = quote_ident(self.config.id_property)
        try:
            with self._conn.cursor() as cur:
                cur.execute(f"delete from {self.table} where {key} = any(%s)", [list(keys)])
        except self._psycopg.OperationalError as error:
            raise RetryableError(f"database error ({type(error).__name__})") from error

    supports_erase = True

    def erase(self, keys: Sequence[str]) -> int:
        """DELETE of the keys' rows (none when the table was never created)."""
        key = quote_ident(self.config.id_property)
        try:
            with self._conn.cursor() as cur:
                cur.execute(f"delete from {self.table} where {key} = any(%s)", [list(keys)])
                return max(cur.rowcount, 0)
        except self._psycopg.errors.UndefinedTable:
            return 0
        except self._psycopg.OperationalError as error:
            raise RetryableError(f"database error ({type(error).__name__})") from error

    def close(self) -> None:
        self._conn.close()


def build(
    config: DestinationConfig, settings: Settings, env: Mapping[str, str]
) -> PostgresDestination:
    return PostgresDestination(config, env["LEADSCORE_SYNC_PG_CONNINFO"])


DESTINATION = DestinationSpec(
    "postgres",
    "sync_postgres__leads",
    "postgres",
    "Upsert into a table of an operational PostgreSQL database. Needs LEADSCORE_SYNC_PG_CONNINFO.",
    build,
    required_env=("LEADSCORE_SYNC_PG_CONNINFO",),
)
