"""The connection every engine shares: the engine-neutral API, and the parts that DuckDB and
PostgreSQL spell the same way (information_schema, ``delete from``, constraints). Each
engine's module subclasses ``WarehouseConnection`` with what it does differently."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa

if TYPE_CHECKING:
    from orchestration.lib.settings import Settings


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class RowChangesUnsupportedError(RuntimeError):
    """DELETE / UPDATE / MERGE on a warehouse whose tables cannot change rows in place."""


def arrow_rows(table: pa.Table) -> list[tuple]:
    """Rows as tuples, by position (names in a result may repeat)."""
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


def dict_rows(names: Sequence[str], rows: Sequence[tuple]) -> list[dict[str, Any]]:
    return [dict(zip(names, row, strict=True)) for row in rows]


class WarehouseConnection:
    """A thin, engine-neutral connection: SQL, transactions, column lookup and bulk append.

    One subclass per engine (``DuckDBConnection``, ``PostgresConnection``,
    ``SparkConnection``), named by its ``dialect``, the dbt target that selects it; ``open``
    connects to the warehouse the settings describe."""

    # The dbt target (LEADSCORE_TARGET) this engine serves.
    dialect: ClassVar[str]
    # Whether tables can DELETE / UPDATE rows (not Spark's Parquet tables).
    supports_row_changes: ClassVar[bool] = True
    # How a statement marks a bound parameter.
    placeholder: ClassVar[str] = "?"

    def __init__(self, raw: Any):
        self._raw = raw

    @classmethod
    def open(
        cls, settings: Settings, *, read_only: bool = False
    ) -> AbstractContextManager[WarehouseConnection]:
        """Connect to the settings' warehouse; the connection is closed when the block ends."""
        raise NotImplementedError

    # -- dialect ----------------------------------------------------------------------------

    @property
    def text_type(self) -> str:
        return self.sql_type("varchar")

    def sql_type(self, name: str) -> str:
        """The engine's spelling of a portable column type (varchar, double precision, ...)."""
        return name

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        constraints: Sequence[str] = (),
    ) -> None:
        """``create table if not exists``. Column types are portable names, optionally with
        ``not null`` / ``unique`` / ``primary key``; ``constraints`` are table constraints
        (left out by an engine whose tables take none)."""
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        definitions = [f"{quote_ident(name)} {kind}" for name, kind in columns]
        definitions += list(constraints)
        self.execute(f"create table if not exists {target} ({', '.join(definitions)})")

    def add_columns(self, schema: str, table: str, columns: Sequence[tuple[str, str]]) -> None:
        """Add nullable columns (rolled back with a failing ``transaction()``)."""
        if not columns:
            return
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        for name, kind in columns:
            self.execute(f"alter table {target} add column {quote_ident(name)} {kind}")

    def empty_table(self, schema: str, table: str) -> None:
        """Remove every row: ``delete from`` (transactional)."""
        self.execute(f"delete from {quote_ident(schema)}.{quote_ident(table)}")

    # -- SQL --------------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        raise NotImplementedError

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        raise NotImplementedError

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        raise NotImplementedError

    def fetch_arrow(self, sql: str) -> pa.Table:
        """A query's result as an Arrow table (for Parquet exports and reports)."""
        raise NotImplementedError

    def transaction(self) -> AbstractContextManager[None]:
        """All or nothing: used so that a failing file load leaves no partial rows behind."""
        raise NotImplementedError

    def table_columns(self, schema: str, table: str) -> list[str]:
        """The table's columns in order; [] when it does not exist."""
        return list(self.column_types(schema, table))

    def column_types(self, schema: str, table: str) -> dict[str, str]:
        """The table's columns in order with their declared types, lower case; {} when it
        does not exist."""
        placeholder = self.placeholder
        rows = self.fetchall(
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = {placeholder} and table_name = {placeholder} "
            "order by ordinal_position",
            [schema, table],
        )
        return {column: str(kind).lower() for column, kind in rows}

    def append_arrow(self, schema: str, table: str, batch: pa.Table) -> None:
        """Append an Arrow table whose column names match columns of ``schema.table``; the
        table's other columns are null."""
        raise NotImplementedError
