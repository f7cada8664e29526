"""The one way Python code talks to the warehouse (DuckDB or PostgreSQL).

DuckDB allows a single writer per file: callers open a connection for the duration of one
unit of work and close it before dbt runs, and readers that run after dbt use
``read_only=True``. Everything that differs between the two engines lives here.
"""

from __future__ import annotations

import io
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import pyarrow as pa
import pyarrow.csv as pa_csv

from orchestration.lib.settings import Settings


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class WarehouseConnection:
    """A thin, engine-neutral connection: SQL, transactions, column lookup and bulk append."""

    def __init__(self, dialect: str, raw: Any):
        self.dialect = dialect
        self._raw = raw

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        if self.dialect == "duckdb":
            self._raw.execute(sql, params or [])
        else:
            with self._raw.cursor() as cur:
                cur.execute(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        if self.dialect == "duckdb":
            return self._raw.execute(sql, params or []).fetchall()
        with self._raw.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        if self.dialect == "duckdb":
            result = self._raw.execute(sql, params or [])
            names = [column[0] for column in result.description]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        with self._raw.cursor() as cur:
            cur.execute(sql, params)
            names = [column.name for column in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def fetch_arrow(self, sql: str) -> pa.Table:
        """A query's result as an Arrow table (for Parquet exports and reports)."""
        if self.dialect == "duckdb":
            # A relation converts straight to Arrow (a DB-API result would copy the rows once
            # more); DuckDB 2 renamed fetch_arrow_table to to_arrow_table.
            relation = self._raw.sql(sql)
            to_arrow = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
            return to_arrow()
        with self._raw.cursor() as cur:
            cur.execute(sql)
            names = [column.name for column in cur.description]
            rows = cur.fetchall()
        return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: used so that a failing file load leaves no partial rows behind."""
        if self.dialect == "duckdb":
            self._raw.execute("begin transaction")
            try:
                yield
            except BaseException:
                self._raw.execute("rollback")
                raise
            self._raw.execute("commit")
        else:
            with self._raw.transaction():
                yield

    def table_columns(self, schema: str, table: str) -> list[str]:
        placeholder = self.placeholder
        rows = self.fetchall(
            "select column_name from information_schema.columns "
            f"where table_schema = {placeholder} and table_name = {placeholder} "
            "order by ordinal_position",
            [schema, table],
        )
        return [row[0] for row in rows]

    def append_arrow(self, schema: str, table: str, batch: pa.Table) -> None:
        """Append an Arrow table whose column names match columns of ``schema.table``."""
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        columns = ", ".join(quote_ident(name) for name in batch.column_names)
        if self.dialect == "duckdb":
            self._raw.register("_leadscore_append", batch)
            try:
                self._raw.execute(
                    f"insert into {target} ({columns}) select {columns} from _leadscore_append"
                )
            finally:
                self._raw.unregister("_leadscore_append")
            return
        # Arrow writes null as an unquoted empty field and '' as "", which is exactly how
        # PostgreSQL's CSV COPY tells NULL from an empty string.
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False))
        statement = f"copy {target} ({columns}) from stdin with (format csv)"
        with self._raw.cursor() as cur, cur.copy(statement) as copy:
            copy.write(buffer.getvalue())

    @property
    def placeholder(self) -> str:
        return "%s" if self.dialect == "postgres" else "?"


@contextmanager
def connect(settings: Settings, *, read_only: bool = False) -> Iterator[WarehouseConnection]:
    """Open the configured warehouse; the connection is closed when the block ends."""
    if settings.target == "duckdb":
        import duckdb

        if read_only and not settings.duckdb_path.exists():
            raise FileNotFoundError(
                f"no warehouse at {settings.duckdb_path}; run `leadscore run` first"
            )
        settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        raw = duckdb.connect(str(settings.duckdb_path), read_only=read_only)
        # SET, not connect(config=...): DuckDB refuses a second connection to an open file
        # with a different configuration.
        for name, value in settings.duckdb_config().items():
            raw.execute(f"set {name} = '{value}'")
        try:
            yield WarehouseConnection("duckdb", raw)
        finally:
            raw.close()
        return

    import psycopg

    raw = psycopg.connect(settings.postgres.conninfo(), autocommit=True)
    try:
        if read_only:
            raw.execute("set default_transaction_read_only = on")
        yield WarehouseConnection("postgres", raw)
    finally:
        raw.close()
