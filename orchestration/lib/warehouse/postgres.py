"""PostgreSQL: a database reached with the LEADSCORE_PG_* settings (``Settings.postgres``).
Connections run in autocommit; ``transaction()`` is psycopg's, and a read-only connection
sets ``default_transaction_read_only``."""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from orchestration.lib.settings import Settings
from orchestration.lib.warehouse.base import WarehouseConnection, dict_rows, quote_ident


class PostgresConnection(WarehouseConnection):
    """A PostgreSQL connection (``raw`` a ``psycopg.Connection`` in autocommit)."""

    dialect = "postgres"
    placeholder = "%s"

    @classmethod
    @contextmanager
    def open(cls, settings: Settings, *, read_only: bool = False) -> Iterator[PostgresConnection]:
        import psycopg

        raw = psycopg.connect(settings.postgres.conninfo(), autocommit=True)
        try:
            if read_only:
                raw.execute("set default_transaction_read_only = on")
            yield cls(raw)
        finally:
            raw.close()

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        with self._raw.cursor() as cur:
            cur.execute(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        with self._raw.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        with self._raw.cursor() as cur:
            cur.execute(sql, params)
            names = [column.name for column in cur.description]
            return dict_rows(names, cur.fetchall())

    def fetch_arrow(self, sql: str) -> pa.Table:
        with self._raw.cursor() as cur:
            cur.execute(sql)
            names = [column.name for column in cur.description]
            rows = cur.fetchall()
        return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})

    @contextmanager
    def transaction(self) -> Iterator[None]:
        with self._raw.transaction():
            yield

    def append_arrow(self, schema: str, table: str, batch: pa.Table) -> None:
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        columns = ", ".join(quote_ident(name) for name in batch.column_names)
        # Arrow writes null as an unquoted empty field and '' as "", which is exactly how
        # PostgreSQL's CSV COPY tells NULL from an empty string.
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False))
        statement = f"copy {target} ({columns}) from stdin with (format csv)"
        with self._raw.cursor() as cur, cur.copy(statement) as copy:
            copy.write(buffer.getvalue())
