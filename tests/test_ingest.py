"""Landing files -> raw tables, on real DuckDB and real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.defs.ingest.contract import RAW_CONTRACT
from orchestration.defs.ingest.loader import IngestFailedError, ingest_landing
from orchestration.lib.warehouse import WarehouseConnection

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
    write(landing, "crm_leads/leads.csv", "a\n1\n")
    write(landing, "crm_owners/readme.txt", "hello")
    messages: list[str] = []
    report = ingest_landing(warehouse, landing, "raw", log=messages.append)
    assert sorted(report.ignored_paths) == [
        "crm_leads/leads.csv",
        "crm_owners/readme.txt",
        "notes.csv",
    ]
    assert len(messages) == 3
    assert report.loads == []
