"""Fivetran-shaped raw tables for the source tests: the fixture CSVs of Fivetran's own dbt
packages (tests/fixtures/fivetran_*, Apache-2.0, see their README.txt) plus a few hand-written
rows (tests/fixtures/hand_written, see its README.txt), loaded as typed tables the way the
connector lands them: DuckDB infers each column's type from the CSV, and PostgreSQL gets the
same tables with the same types."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import psycopg

from orchestration.lib.settings import Settings

FIXTURES = Path(__file__).parent / "fixtures"

# Connector table -> fixture file, per source. Only the tables the adapters read.
FIVETRAN_TABLES: dict[str, dict[str, str]] = {
    "hubspot": {
        table: f"{table}_data.csv"
        for table in (
            "contact",
            "company",
            "deal",
            "deal_contact",
            "deal_company",
            "deal_pipeline_stage",
            "email_event",
            "email_event_status_change",
            "contact_form_submission",
            "engagement_contact",
            "engagement_meeting",
            "engagement_call",
            "owner",
        )
    },
    "salesforce": {
        table: f"sf_{table}_data.csv"
        for table in ("contact", "lead", "account", "opportunity", "task", "event", "user")
    },
}

# DuckDB's inferred types and their PostgreSQL equivalents; anything else travels as text.
POSTGRES_TYPES = {
    "BIGINT": "bigint",
    "INTEGER": "integer",
    "DOUBLE": "double precision",
    "BOOLEAN": "boolean",
    "DATE": "date",
    "TIMESTAMP": "timestamp",
    "UUID": "uuid",
    "VARCHAR": "text",
}


def fixture_files(source: str, table: str) -> list[Path]:
    """The Fivetran fixture of a table, then its hand-written rows if there are any."""
    files = [FIXTURES / f"fivetran_{source}" / FIVETRAN_TABLES[source][table]]
    hand_written = FIXTURES / "hand_written" / source / f"{table}_data.csv"
    return [*files, hand_written] if hand_written.exists() else files


def fixture_rows(source: str, table: str) -> list[dict[str, str]]:
    """Every fixture row of a table as text, read independently of the warehouse."""
    rows: list[dict[str, str]] = []
    for path in fixture_files(source, table):
        with path.open(newline="") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def load_duckdb(path: Path, source: str, schema: str, tables: list[str] | None = None) -> None:
    """Create `schema.<table>` in the DuckDB file for each table (all by default)."""
    with duckdb.connect(str(path)) as conn:
        conn.execute(f'create schema if not exists "{schema}"')
        for table in tables or list(FIVETRAN_TABLES[source]):
            fivetran, *hand_written = fixture_files(source, table)
            conn.execute(
                f'create table "{schema}"."{table}" as select * from read_csv(?, header = true)',
                [str(fivetran)],
            )
            types = dict(
                conn.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [schema, table],
                ).fetchall()
            )
            for path_ in hand_written:
                with path_.open(newline="") as handle:
                    header = next(csv.reader(handle))
                casts = ", ".join(f'cast("{c}" as {types[c]}) as "{c}"' for c in header)
                conn.execute(
                    f'insert into "{schema}"."{table}" by name select {casts} '
                    "from read_csv(?, header = true, all_varchar = true)",
                    [str(path_)],
                )


def copy_to_postgres(duckdb_path: Path, settings: Settings, schema: str) -> None:
    """Copy every table of `schema` from the DuckDB file into PostgreSQL, types included."""
    with (
        duckdb.connect(str(duckdb_path), read_only=True) as source,
        psycopg.connect(settings.postgres.conninfo(), autocommit=True) as target,
    ):
        target.execute("set time zone 'UTC'")  # the fixtures' naive timestamps are UTC
        target.execute(f'create schema if not exists "{schema}"')
        tables = [
            name
            for (name,) in source.execute(
                "select table_name from information_schema.tables where table_schema = ?",
                [schema],
            ).fetchall()
        ]
        for table in tables:
            columns = source.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = ? and table_name = ? order by ordinal_position",
                [schema, table],
            ).fetchall()
            pg_types = {name: POSTGRES_TYPES.get(kind, "text") for name, kind in columns}
            # Fivetran's PostgreSQL destination stamps its sync time with a time zone, so the
            # adapters' reading of time-zone-aware timestamps is exercised too.
            if pg_types.get("_fivetran_synced") == "timestamp":
                pg_types["_fivetran_synced"] = "timestamp with time zone"
            target.execute(
                f'create table "{schema}"."{table}" ('
                + ", ".join(f'"{name}" {kind}' for name, kind in pg_types.items())
                + ")"
            )
            selected = ", ".join(
                f'"{name}"' if kind != "text" else f'cast("{name}" as varchar)'
                for name, kind in pg_types.items()
            )
            rows = source.execute(f'select {selected} from "{schema}"."{table}"').fetchall()
            names = ", ".join(f'"{name}"' for name in pg_types)
            with (
                target.cursor() as cursor,
                cursor.copy(f'copy "{schema}"."{table}" ({names}) from stdin') as copy,
            ):
                for row in rows:
                    copy.write_row(row)
