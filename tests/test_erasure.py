"""`leadscore forget`: a person who asks to be forgotten leaves no trace in any table, any file
(the DuckDB file's bytes included) or later loads. Destinations are asked to delete them in
tests/test_sync.py."""

from __future__ import annotations

import csv
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.generator import generate_demo_data
from orchestration.lib.settings import PROJECT_ROOT
from tests.conftest import TODAY


def leadscore(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEADSCORE_TARGET": "duckdb", "LEADSCORE_DATA_DIR": str(data)}
    env.pop("LEADSCORE_LANDING_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def traces(warehouse: Path, values: set[str], name: tuple[str, str]) -> list[str]:
    """Every table of the warehouse with a text cell equal to one of `values` (trimmed,
    case-insensitive), or a row with the person's first and last name."""
    found = []
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        columns = conn.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', "
            "'pg_catalog')"
        ).fetchall()
        tables: dict[tuple[str, str], list[str]] = {}
        for schema, table, column in columns:
            tables.setdefault((schema, table), []).append(column)
        listed = ", ".join(f"'{value}'" for value in sorted(values))
        for (schema, table), names in tables.items():
            where = " or ".join(f'lower(trim("{c}")) in ({listed})' for c in names)
            if {"first_name", "last_name"} <= set(names):
                where += f" or (first_name = '{name[0]}' and last_name = '{name[1]}')"
            count = conn.execute(f'select count(*) from "{schema}"."{table}" where {where}')
            if count.fetchone()[0]:
                found.append(f"{schema}.{table}")
    return found


def files_holding(folder: Path, needle: bytes) -> list[str]:
    return sorted(
        str(path)
        for path in folder.rglob("*")
        if path.is_file() and needle in path.read_bytes().lower()
    )


@pytest.fixture(scope="module")
def scored(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("erasure")
    generate_demo_data(
        data / "landing", contacts=1_000, events=12_000, seed=9, as_of=TODAY, progress=False
    )
    completed = leadscore(data, "run")
    assert completed.returncode == 0, completed.stderr[-3000:]
    return data


def test_a_forgotten_person_leaves_no_trace_and_is_not_loaded_again(scored):
    data = scored
    warehouse = data / "warehouse.duckdb"
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        # A person with activity, a unique full name, and a second record (the same email in
        # other case) when there is one: all of it must go.
        contact_id, email, first, last = conn.execute(
            "select c.contact_id, lower(trim(c.email)), c.first_name, c.last_name "
            "from raw.crm_contacts c "
            "join staging.stg_marketing__events e on e.contact_id = c.contact_id "
            "where c.email like '%@%.%' and c.first_name || ' ' || c.last_name in ("
            "  select first_name || ' ' || last_name from raw.crm_contacts group by 1 "
            "  having count(distinct lower(trim(email))) = 1) "
            "group by 1, 2, 3, 4 order by count(*) desc limit 1"
        ).fetchone()
        others = conn.execute(
            "select contact_id from raw.crm_contacts where lower(trim(email)) = ?", [email]
        ).fetchall()
    keys = {email, contact_id.lower(), *(other.lower() for (other,) in others)}
    # Before: the person is everywhere, the DuckDB file's bytes included.
    assert len(traces(warehouse, keys, (first, last))) > 10
    assert str(warehouse) in files_holding(data, email.encode())

    completed = leadscore(data, "forget", "--email", f"  {email.upper()} ")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Forgot" in completed.stdout and email not in completed.stdout

    assert traces(warehouse, keys, (first, last)) == []
    assert files_holding(data, email.encode()) == []
    assert files_holding(data, f"{first},{last}".encode().lower()) == []
    digest = hashlib.sha256(f"email:{email}".encode()).hexdigest()
    with duckdb.connect(str(warehouse), read_only=True) as conn:
        logged = {v for (v,) in conn.execute("select key_hash from raw._erasure_log").fetchall()}
    assert digest in logged

    # The next refresh works on what is left, and a new delivery with the person again does
    # not bring them back: the rows are dropped at load, counted, not named.
    with next((data / "landing" / "crm_contacts").glob("*.csv")).open(newline="") as handle:
        columns = next(csv.reader(handle))
    header = ",".join(columns)
    row = {name: "" for name in columns}
    row.update(
        contact_id=contact_id, email=email.title(), first_name=first, last_name=last,
        created_at="2025-01-02 03:04:05",
    )  # fmt: skip
    (data / "landing" / "crm_contacts" / "again.csv").write_text(
        header + "\n" + ",".join(row[name] for name in columns) + "\n"
    )
    completed = leadscore(data, "run")
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "1 row(s) of people who were forgotten were not loaded" in completed.stderr
    assert traces(warehouse, keys, (first, last)) == []
