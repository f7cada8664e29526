"""Landing files -> raw tables, on real DuckDB and real PostgreSQL."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from orchestration.ingest.contract import RAW_CONTRACT, TIMESTAMP_COLUMNS
from orchestration.ingest.loader import (
    IngestFailedError,
    file_sha256,
    ingest_landing,
    landing_file_count,
)
from orchestration.lib.project_copy import copy_project
from orchestration.lib.settings import PROJECT_ROOT
from orchestration.lib.warehouse import WarehouseConnection, connect
from tests.conftest import settings_for

OWNERS_HEADER = ",".join(RAW_CONTRACT["crm_owners"])
EVENTS_HEADER = ",".join(RAW_CONTRACT["marketing_events"])


def write(landing: Path, relative: str, text: str) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def count(conn: WarehouseConnection, table: str) -> int:
    return conn.fetchall(f"select count(*) from raw.{table}")[0][0]


def quiet(message: str) -> None:
    """Log sink for tests (the loader's messages are asserted on through the report)."""


def test_loads_csv_as_text_with_lineage_and_keeps_extra_columns(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = tmp_path / "landing"
    write(
        landing,
        "crm_owners/2025/owners.csv",
        f"{OWNERS_HEADER},Favourite Colour\n"
        'O1,"Lee, Ann",ann@example.com,AE,NA,green\n'
        "O2,,,SDR,007,\n",
    )
    report = ingest_landing(warehouse, landing, "raw", log=quiet)

    assert report.rows_loaded("crm_owners") == 2
    rows = warehouse.fetch_dicts(
        "select owner_id, name, email, region, favourite_colour, _file_id, _source_file, "
        "_source_row, _loaded_at from raw.crm_owners order by _source_row"
    )
    assert [row["owner_id"] for row in rows] == ["O1", "O2"]
    assert rows[0]["name"] == "Lee, Ann"  # quoted comma survives
    assert rows[0]["favourite_colour"] == "green"  # extra column kept, name normalised
    assert rows[1]["name"] is None  # empty field is NULL
    assert rows[1]["region"] == "007"  # text stays text: no number inference
    assert {row["_source_file"] for row in rows} == {"crm_owners/2025/owners.csv"}
    assert [row["_source_row"] for row in rows] == [1, 2]
    assert rows[0]["_file_id"] == rows[1]["_file_id"]
    assert rows[0]["_loaded_at"] <= datetime.now(UTC).replace(tzinfo=None)
    # Every contract table exists, even those that received no file, so dbt can build.
    for table in RAW_CONTRACT:
        assert count(warehouse, table) >= 0


def test_a_file_is_never_loaded_twice_but_a_changed_file_is(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = tmp_path / "landing"
    path = write(landing, "crm_owners/owners.csv", f"{OWNERS_HEADER}\nO1,Ann,,AE,NA\n")
    first = ingest_landing(warehouse, landing, "raw", log=quiet)
    second = ingest_landing(warehouse, landing, "raw", log=quiet)

    assert [load.status for load in first.loads] == ["loaded"]
    assert [load.status for load in second.loads] == ["skipped"]
    assert count(warehouse, "crm_owners") == 1

    path.write_text(f"{OWNERS_HEADER}\nO1,Ann,,AE,EMEA\nO2,Bo,,SDR,NA\n")
    third = ingest_landing(warehouse, landing, "raw", log=quiet)
    assert [load.status for load in third.loads] == ["loaded"]
    assert count(warehouse, "crm_owners") == 3
    manifest = warehouse.fetchall(
        "select file_id, row_count from raw._ingest_manifest order by file_id"
    )
    assert manifest == [(1, 1), (2, 2)]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (
            f"{EVENTS_HEADER}\nE1,C1,,page_view,,,,2025-01-01\n"
            "E2,C2,secret.person@example.com,page_view,,,,2025-01-01,surplus\n",
            "line 3 has 9 fields, the header has 8",
        ),
        ("event_id,contact_id\nE1,C1\n", "missing required column(s) email, event_type"),
        ("", "file is empty: no header row"),
        (f"{EVENTS_HEADER},Event ID\n", "duplicate column(s) event_id"),
    ],
    ids=["ragged-row", "missing-columns", "empty", "duplicate-column"],
)
def test_malformed_file_names_file_and_problem_and_loads_nothing(
    warehouse: WarehouseConnection, tmp_path: Path, content: str, problem: str
):
    landing = tmp_path / "landing"
    write(landing, "marketing_events/bad.csv", content)
    write(landing, "crm_owners/good.csv", f"{OWNERS_HEADER}\nO1,Ann,,AE,NA\n")

    with pytest.raises(IngestFailedError) as failure:
        ingest_landing(warehouse, landing, "raw", log=quiet)

    message = str(failure.value)
    assert "marketing_events/bad.csv" in message
    assert problem in message
    assert "secret.person" not in message  # row contents (personal data) are never echoed
    assert count(warehouse, "marketing_events") == 0  # nothing partial
    files = warehouse.fetchall("select file_path from raw._ingest_manifest")
    assert files == [("crm_owners/good.csv",)]  # the good file still loaded, the bad one not
    assert count(warehouse, "crm_owners") == 1


def test_fixed_file_loads_on_the_next_run(warehouse: WarehouseConnection, tmp_path: Path):
    landing = tmp_path / "landing"
    path = write(landing, "marketing_events/e.csv", "event_id\nE1\n")
    report = ingest_landing(warehouse, landing, "raw", log=quiet, raise_on_failure=False)
    assert [load.status for load in report.loads] == ["failed"]

    path.write_text(f"{EVENTS_HEADER}\nE1,C1,,page_view,,,,2025-01-01\n")
    report = ingest_landing(warehouse, landing, "raw", log=quiet)
    assert [load.status for load in report.loads] == ["loaded"]
    assert count(warehouse, "marketing_events") == 1


def test_parquet_is_loaded_as_text_and_timestamps_become_utc(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = tmp_path / "landing"
    (landing / "marketing_events").mkdir(parents=True)
    occurred = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    table = pa.table(
        {
            "event_id": ["E1", "E2"],
            "contact_id": ["C1", None],
            "email": [None, "a@b.co"],
            "event_type": ["page_view", "demo_request"],
            "page_url": [None, None],
            "page_category": pa.array(["pricing", "pricing"]).dictionary_encode(),
            "campaign_id": pa.array([7, None], pa.int64()),
            "occurred_at": pa.array([occurred, occurred], pa.timestamp("us", tz="Europe/Berlin")),
        }
    )
    pq.write_table(table, landing / "marketing_events" / "part-0.parquet")

    ingest_landing(warehouse, landing, "raw", log=quiet)
    rows = warehouse.fetchall(
        "select event_id, page_category, campaign_id, occurred_at "
        "from raw.marketing_events order by event_id"
    )
    assert rows == [
        ("E1", "pricing", "7", "2025-03-01 12:30:00.000000Z"),
        ("E2", "pricing", None, "2025-03-01 12:30:00.000000Z"),
    ]


def test_corrupt_parquet_fails_with_the_file_name(warehouse: WarehouseConnection, tmp_path: Path):
    landing = tmp_path / "landing"
    write(landing, "crm_deals/deals.parquet", "PAR1 this is not parquet")
    with pytest.raises(IngestFailedError, match=r"crm_deals/deals.parquet: not a readable Parquet"):
        ingest_landing(warehouse, landing, "raw", log=quiet)
    assert count(warehouse, "crm_deals") == 0


def test_files_outside_raw_table_folders_are_reported_and_ignored(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = tmp_path / "landing"
    write(landing, "notes.csv", "a\n1\n")
    write(landing, "crm_owners/readme.txt", "hello")
    messages: list[str] = []
    report = ingest_landing(warehouse, landing, "raw", log=messages.append)
    assert sorted(report.ignored_paths) == ["crm_owners/readme.txt", "notes.csv"]
    assert len(messages) == 2
    assert report.loads == []


# -- messages a user can act on (the loader issue) ------------------------------------------

COMPANIES_HEADER = ",".join(RAW_CONTRACT["crm_companies"])


def test_a_50_mb_field_under_the_limit_loads(tmp_path: Path):
    """A valid CSV file with a 50 MB field (a long note, a base64 attachment) loads under the
    default limit (64 MiB); Arrow's reader would refuse it with 'straddling object ...'."""
    landing = tmp_path / "landing"
    big = "x" * (50 << 20)
    write(landing, "crm_owners/owners.csv", f"{OWNERS_HEADER},notes\nO1,Ann,,AE,NA,{big}\n")
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    assert settings.csv_max_field_bytes == 64 << 20
    with connect(settings) as conn:
        report = ingest_landing(
            conn, landing, "raw", log=quiet, max_field_bytes=settings.csv_max_field_bytes
        )
        assert report.rows_loaded("crm_owners") == 1
        assert conn.fetchall("select owner_id, length(notes) from raw.crm_owners") == [
            ("O1", 50 << 20)
        ]


def test_a_field_over_the_limit_fails_naming_the_line(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = tmp_path / "landing"
    big = "y" * (3 << 20)  # longer than the reader's first block of 2 x 1 MiB + 1 MiB
    write(
        landing,
        "crm_owners/owners.csv",
        f'{OWNERS_HEADER},notes\nO1,Ann,,AE,NA,short\nO2,"Bo\nBo",,AE,NA,{big}\nO3,Cy,,AE,NA,\n',
    )
    write(landing, "crm_deals/small.csv", ",".join(RAW_CONTRACT["crm_deals"]) + "\nD1,,,,,,,,\n")
    max_bytes = settings_for(LEADSCORE_CSV_MAX_FIELD_BYTES="1MiB").csv_max_field_bytes
    assert max_bytes == 1 << 20

    with pytest.raises(IngestFailedError) as failure:
        ingest_landing(warehouse, landing, "raw", log=quiet, max_field_bytes=max_bytes)
    message = str(failure.value)
    # O2's record starts on line 3 (its name spans two lines).
    assert (
        "crm_owners/owners.csv: line 3 has a field (column 6) of 3.0 MiB, over the limit of "
        "1.0 MiB (LEADSCORE_CSV_MAX_FIELD_BYTES)"
    ) in message
    assert count(warehouse, "crm_owners") == 0  # nothing partial
    assert count(warehouse, "crm_deals") == 1  # the other file loaded

    # Under the limit but over the first block: read again with a larger block, whole.
    middle = "z" * ((1 << 20) - 10)
    write(landing, "crm_owners/owners.csv", f"{OWNERS_HEADER},notes\nO1,Ann,,AE,NA,{middle}\n")
    report = ingest_landing(warehouse, landing, "raw", log=quiet, max_field_bytes=max_bytes)
    assert report.rows_loaded("crm_owners") == 1


def test_parquet_logical_types_load_as_text(warehouse: WarehouseConnection, tmp_path: Path):
    landing = tmp_path / "landing"
    (landing / "marketing_events").mkdir(parents=True)
    # Bytes that are not UTF-8: read as plain binary, this column was "Invalid UTF8 payload".
    visitor = uuid.UUID("ff00fe01-9abc-4def-8123-456789abcdef")
    table = pa.table(
        {
            "event_id": pa.array([visitor.bytes, None], pa.uuid()),
            "contact_id": ["C1", "C2"],
            "email": [None, None],
            "event_type": ["page_view", "page_view"],
            "page_url": pa.array([b"/pricing", None], pa.binary()),  # UTF-8 bytes: text
            "page_category": [None, None],
            "campaign_id": pa.array([Decimal("12.50"), Decimal("-3.00")], pa.decimal128(10, 2)),
            "occurred_at": pa.array([date(2026, 11, 20), None], pa.date32()),
            "seen_at": pa.array([time(10, 0, 5), None], pa.time32("s")),
        }
    )
    pq.write_table(table, landing / "marketing_events" / "events.parquet")
    assert (
        pq.ParquetFile(landing / "marketing_events" / "events.parquet")
        .schema.column(0)
        .logical_type.type
        == "UUID"
    )

    ingest_landing(warehouse, landing, "raw", log=quiet)
    rows = warehouse.fetchall(
        "select event_id, page_url, campaign_id, occurred_at, seen_at "
        "from raw.marketing_events order by _source_row"
    )
    assert rows == [
        ("ff00fe01-9abc-4def-8123-456789abcdef", "/pricing", "12.50", "2026-11-20", "10:00:05.000"),
        (None, None, "-3.00", None, None),
    ]


def test_a_parquet_column_that_cannot_be_text_is_named(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = tmp_path / "landing"
    (landing / "crm_owners").mkdir(parents=True)
    columns: dict[str, object] = {name: ["x"] for name in RAW_CONTRACT["crm_owners"]}
    columns["avatar"] = pa.array([b"\x89PNG\r\n\x1a\n\xff"], pa.binary())
    pq.write_table(pa.table(columns), landing / "crm_owners" / "owners.parquet")

    with pytest.raises(IngestFailedError) as failure:
        ingest_landing(warehouse, landing, "raw", log=quiet)
    assert (
        "crm_owners/owners.parquet: column avatar holds binary data that is not UTF-8 text "
        "(binary), so it cannot be loaded as text"
    ) in str(failure.value)
    assert count(warehouse, "crm_owners") == 0


@pytest.mark.parametrize("padding_lines", [0, 2_000], ids=["small-file", "past-the-first-block"])
def test_a_latin_1_file_fails_naming_the_line(
    warehouse: WarehouseConnection, tmp_path: Path, padding_lines: int
):
    landing = tmp_path / "landing"
    rows = [f"O{i},Ann,,AE,NA" for i in range(padding_lines + 5)]
    rows[padding_lines + 4] = "O99,Zoë Müller,,AE,NA"  # saved by Excel as Latin-1
    path = landing / "crm_owners" / "owners.csv"
    path.parent.mkdir(parents=True)
    path.write_bytes(("\n".join([OWNERS_HEADER, *rows]) + "\n").encode("latin-1"))
    write(landing, "crm_deals/small.csv", ",".join(RAW_CONTRACT["crm_deals"]) + "\nD1,,,,,,,,\n")

    with pytest.raises(IngestFailedError) as failure:
        ingest_landing(warehouse, landing, "raw", log=quiet)
    line = padding_lines + 6  # the header is line 1
    assert (
        f"crm_owners/owners.csv: line {line} is not valid UTF-8: save the file as UTF-8"
    ) in str(failure.value)
    assert "Zo" not in str(failure.value)
    assert count(warehouse, "crm_owners") == 0
    assert count(warehouse, "crm_deals") == 1


def test_a_misspelt_table_folder_fails_naming_the_known_tables(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = tmp_path / "landing"
    write(landing, "crm_contcts/contacts.csv", ",".join(RAW_CONTRACT["crm_contacts"]) + "\n")
    write(landing, "crm_owners/good.csv", f"{OWNERS_HEADER}\nO1,Ann,,AE,NA\n")
    (landing / ".cache").mkdir()  # hidden folders are nobody's business
    messages: list[str] = []

    with pytest.raises(IngestFailedError) as failure:
        ingest_landing(warehouse, landing, "raw", log=messages.append)
    message = str(failure.value)
    assert (
        "crm_contcts/ is not a raw table's folder (did you mean crm_contacts?) and has no "
        "mapping.yml to make it an export folder; the raw table folders are crm_companies, "
        "crm_contacts, marketing_events, crm_deals, crm_owners."
    ) in message
    assert ".cache" not in message
    assert count(warehouse, "crm_owners") == 1  # the good file still loaded
    assert any(m.startswith("FAILED crm_contcts/") for m in messages)
    # `leadscore run` counts its files: a landing folder holding only a typo does not pass
    # for an empty one (which would generate demo data).
    assert landing_file_count(landing) == 2


def test_the_same_content_under_two_names_loads_once_with_a_warning(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = tmp_path / "landing"
    content = f"{OWNERS_HEADER}\nO1,Ann,,AE,NA\nO2,Bo,,SDR,NA\n"
    write(landing, "crm_owners/2026-11-20/owners.csv", content)
    write(landing, "crm_owners/owners (1).csv", content)
    messages: list[str] = []

    report = ingest_landing(warehouse, landing, "raw", log=messages.append)
    assert [(load.path, load.status, load.duplicate_of) for load in report.loads] == [
        ("crm_owners/2026-11-20/owners.csv", "loaded", None),
        ("crm_owners/owners (1).csv", "skipped", "crm_owners/2026-11-20/owners.csv"),
    ]
    assert report.warnings == [
        "crm_owners/owners (1).csv: skipped, its content is the same as "
        "crm_owners/2026-11-20/owners.csv, which is already loaded (SHA-256 "
        f"{file_sha256(landing / 'crm_owners/owners (1).csv')[:12]}...); remove one of the two"
    ]
    assert f"WARNING {report.warnings[0]}" in messages
    assert count(warehouse, "crm_owners") == 2

    # A later run (or a later copy) is still not loaded, and still said.
    write(landing, "crm_owners/owners (2).csv", content)
    again = ingest_landing(warehouse, landing, "raw", log=quiet)
    assert [load.status for load in again.loads] == ["skipped"] * 3
    assert len(again.warnings) == 2
    assert count(warehouse, "crm_owners") == 2


def test_timestamps_with_an_offset_load_as_utc(warehouse: WarehouseConnection, tmp_path: Path):
    landing = tmp_path / "landing"
    write(
        landing,
        "crm_companies/companies.csv",
        f"{COMPANIES_HEADER},founded_at\n"
        "K1,Acme,,,,,,2026-11-20T10:00:00+05:30,2026-11-20 10:00:00-0800,2026-11-20T10:00+05:30\n"
        "K2,Beta,,,,,,2026-11-20T23:30:00.250Z,2026-11-20 10:00:00,\n"
        "K3,Gamma,,,,,,2026-11-20,2026-02-30T10:00:00+01:00,\n",
    )
    ingest_landing(warehouse, landing, "raw", log=quiet)
    rows = warehouse.fetchall(
        "select company_id, created_at, updated_at, founded_at "
        "from raw.crm_companies order by company_id"
    )
    assert rows == [
        # converted: the contract's timestamp columns; an extra column stays as received
        ("K1", "2026-11-20 04:30:00", "2026-11-20 18:00:00", "2026-11-20T10:00+05:30"),
        ("K2", "2026-11-20 23:30:00.250000", "2026-11-20 10:00:00", None),  # no offset: kept
        ("K3", "2026-11-20", "2026-02-30T10:00:00+01:00", None),  # not a real moment: kept
    ]


def test_an_offset_timestamp_is_staged_not_quarantined(tmp_path: Path):
    """The loaded text is what staging's ISO parser reads: a real dbt build of the companies
    staging models stages the row with its UTC time."""
    landing = tmp_path / "landing"
    write(
        landing,
        "crm_companies/companies.csv",
        f"{COMPANIES_HEADER}\nK1,Acme,acme.example,,,,,2026-11-20T10:00:00+05:30,\n",
    )
    copy_project(tmp_path)
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    with connect(settings) as conn:
        ingest_landing(conn, landing, "raw", log=quiet)

    completed = subprocess.run(
        [
            str(Path(sys.executable).parent / "dbt"),
            "build",
            "--select",
            "+stg_crm__companies",
            "+quarantine_crm__companies",
            "--indirect-selection",
            "cautious",
            "--profiles-dir",
            ".",
        ],
        cwd=tmp_path / "dbt_project",
        env={**os.environ, **settings.dbt_env(), "DBT_USE_COLORS": "false"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    with connect(settings, read_only=True) as conn:
        staged = conn.fetchall("select company_id, created_at from staging.stg_crm__companies")
        quarantined = conn.fetchall("select count(*) from quarantine.quarantine_crm__companies")
    assert staged == [("K1", datetime(2026, 11, 20, 4, 30))]
    assert quarantined == [(0,)]


def test_the_timestamp_columns_are_those_the_sources_document_as_timestamps():
    documented: dict[str, set[str]] = {table: set() for table in RAW_CONTRACT}
    for path in (PROJECT_ROOT / "dbt_project" / "models" / "staging").glob("*/_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            for table in source.get("tables", []):
                for column in table.get("columns", []):
                    description = column.get("description", "")
                    if table["name"] in documented and description.startswith("timestamp (ISO"):
                        documented[table["name"]].add(column["name"])
    assert documented == {table: set(columns) for table, columns in TIMESTAMP_COLUMNS.items()}
