"""Onboarding a CRM export with a mapping file: values read as the mapping says, export folders
loaded part by part on real DuckDB and PostgreSQL, mapping errors that name file and key, and
`leadscore inspect` profiling a file and drafting a mapping that loads it.

Every expected value below is worked out by hand from the rows written in the test."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from orchestration.cli import _has_landing_files, main
from orchestration.defs.automation.sensors import landing_signatures
from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.ingest.loader import (
    IngestFailedError,
    discover,
    discover_exports,
    ingest_landing,
)
from orchestration.lib.settings import load_settings
from orchestration.lib.warehouse import WarehouseConnection
from orchestration.onboarding.inspect import profile_file
from orchestration.onboarding.mapping import MappingError, load_mapping, parse_mapping
from orchestration.onboarding.transform import transform_file


def quiet(message: str) -> None:
    """Log sink: the loader's messages are asserted on through its report."""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def rows_of(table: str, path: Path, mapping_text: str, tmp_path: Path) -> list[dict]:
    mapping = load_mapping(write(tmp_path / "mapping.yml", mapping_text))
    batches = transform_file(path, mapping, tables=[table])
    return [row for _, batch in batches for row in batch.to_pylist()]


# A one-row-per-lead export, as a CRM download looks.
LEADS_CSV = """
Prospect ID,Lead Source,Do Not Email,TotalVisits,Total Time Spent on Website,Last Activity,Specialization,Lead Created,Converted,Email Address,Country
P-1,Google,No,3,1532,Email Opened,Select,3/14/2024 2:05 PM,Yes,ann@example.com,India
P-2,Direct Traffic,Yes,0,0,Page Visited on Website,Finance Management,12/31/2023,No,,N/A
P-3, Olark Chat ,no,2.7,,SMS Sent,,13/45/2024,yes,bo@example.org,
"""  # noqa: E501

LEADS_MAPPING = """
version: 1
read:
  missing: ["", "Select", "N/A"]
  date_format: "M/D/YYYY"
  snapshot_date: "2024-06-30"
columns:
  Do Not Email: boolean
  Converted: boolean
  TotalVisits: number
  Total Time Spent on Website: number
  Lead Created: date
tables:
  crm_contacts:
    contact_id: Prospect ID
    email: Email Address
    created_at: Lead Created
    unsubscribed: Do Not Email
    lifecycle_stage: {value: lead}
    keep: [Specialization, Last Activity]
  crm_deals:
    when: {column: Converted, is: true}
    deal_id: {template: "{Prospect ID}-won"}
    contact_id: Prospect ID
    is_won: {value: "true"}
    is_closed: {value: "true"}
    created_at: Lead Created
    closed_at: {template: "{snapshot_date}"}
    keep: none
  marketing_events:
    - when: {column: TotalVisits, gt: 0}
      repeat: TotalVisits
      event_id: {template: "{Prospect ID}-visit-{n}"}
      contact_id: Prospect ID
      event_type: {value: page_view}
      occurred_at: Lead Created
      keep: none
    - when: {column: Total Time Spent on Website, present: true}
      event_id: {template: "{Prospect ID}-time"}
      contact_id: Prospect ID
      event_type: {value: site_session}
      occurred_at: Lead Created
      keep: [Total Time Spent on Website]
"""


def acme_landing(tmp_path: Path, mapping: str = LEADS_MAPPING) -> Path:
    landing = tmp_path / "landing"
    write(landing / "acme" / "Leads.csv", LEADS_CSV)
    write(landing / "acme" / "mapping.yml", mapping)
    return landing


# -- reading values (no warehouse) ---------------------------------------------------------------


def test_dates_in_each_format_become_iso_utc_and_a_value_that_does_not_parse_is_kept(
    tmp_path: Path,
):
    # 2024-03-14 14:05:09 UTC in epoch seconds: 2024-01-01 is 1,704,067,200; then 31 days of
    # January, 29 of February (a leap year) and 13 of March, then 14 h 5 min 9 s.
    epoch = 1_704_067_200 + (31 + 29 + 13) * 86_400 + 14 * 3600 + 5 * 60 + 9
    path = write(
        tmp_path / "dates.csv",
        f"""
        id,us,eu,epoch,iso
        1,3/14/2024 2:05 PM,14.03.2024,{epoch},2024-03-14T19:35:09+05:30
        2,12/31/2023 23:59:30,1.2.2024 8:00,{epoch + 86_400},2024-03-14T14:05:09Z
        3,13/45/2024,31.02.2024,soon,2024-13-01
        4,,-,,
        """,
    )
    mapping = """
    version: 1
    columns:
      us: {type: date, format: "M/D/YYYY"}
      eu: {type: date, format: "D.M.YYYY"}
      epoch: {type: date, format: epoch_seconds}
      iso: date
    tables:
      crm_contacts:
        contact_id: id
        created_at: us
        updated_at: eu
        keep: [epoch, iso]
    """
    rows = rows_of("crm_contacts", path, mapping, tmp_path)
    picked = [(r["created_at"], r["updated_at"], r["epoch"], r["iso"]) for r in rows]
    assert picked == [
        ("2024-03-14 14:05:00", "2024-03-14 00:00:00", "2024-03-14 14:05:09",
         "2024-03-14 14:05:09"),
        ("2023-12-31 23:59:30", "2024-02-01 08:00:00", "2024-03-15 14:05:09",
         "2024-03-14 14:05:09"),
        # Month 13 / day 45, 31 February, a word and month 13 do not parse: kept as received.
        ("13/45/2024", "31.02.2024", "soon", "2024-13-01"),
        (None, None, None, None),  # "" and "-" are default missing words
    ]  # fmt: skip


def test_booleans_numbers_placeholders_and_a_semicolon_export_with_decimal_commas(
    tmp_path: Path,
):
    path = write(
        tmp_path / "export.csv",
        """
        Lead Id;Opted Out;Revenue;Industry;Stage
        L1;Ja;1.234,5;Select;n/a
        L2;nein;5,0;Retail;Qualified
        L3;maybe;12 Euro;  Energy ;Select
        """,
    )
    mapping = """
    version: 1
    read:
      true: ["ja"]
      false: ["nein"]
      decimal: ","
      thousands: "."
      missing: ["", "Select", "N/A"]
    columns:
      Opted Out: boolean
      Revenue: number
      Stage: {type: text, missing: ["n/a", "", "Qualified"]}
    tables:
      crm_contacts:
        contact_id: Lead Id
        unsubscribed: Opted Out
    """
    rows = rows_of("crm_contacts", path, mapping, tmp_path)
    assert [(r["contact_id"], r["unsubscribed"], r["revenue"], r["industry"], r["stage"])
            for r in rows] == [
        ("L1", "true", "1234.5", None, None),  # "Select" and "n/a" (case-insensitive) missing
        ("L2", "false", "5.0", "Retail", None),  # 5,0 -> 5.0, not 5; the column's own list
        # An unknown word and a non-number as received; Stage's own list replaces read.missing.
        ("L3", "maybe", "12 Euro", "Energy", "Select"),
    ]  # fmt: skip
    # Extras are named like the loader names columns; mapped columns are not kept twice.
    assert list(rows[0]) == [*RAW_CONTRACT["crm_contacts"], "revenue", "industry", "stage"]


def test_a_parquet_export_is_read_with_its_mapping(tmp_path: Path):
    path = tmp_path / "leads.parquet"
    pq.write_table(
        pa.table(
            {
                "Lead ID": ["A", "B"],
                "Visits": pa.array([2, None], pa.int64()),
                "Created": ["14.03.2024", "1.12.2023"],
            }
        ),
        path,
    )
    mapping = """
    version: 1
    read: {date_format: "D.M.YYYY"}
    columns: {Visits: number, Created: date}
    tables:
      marketing_events:
        repeat: Visits
        event_id: {template: "{Lead ID}/{n}"}
        contact_id: Lead ID
        event_type: {value: page_view}
        occurred_at: Created
        keep: none
    """
    rows = rows_of("marketing_events", path, mapping, tmp_path)
    assert [(r["event_id"], r["contact_id"], r["occurred_at"]) for r in rows] == [
        ("A/1", "A", "2024-03-14 00:00:00"),
        ("A/2", "A", "2024-03-14 00:00:00"),
    ]  # B has no visits: a missing count writes no row


# -- mapping errors (no warehouse) ---------------------------------------------------------------

MINIMAL = "version: 1\ntables:\n  crm_contacts:\n    contact_id: Lead ID\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (MINIMAL + "tabels: {}\n", "m.yml: tabels: unknown key"),
        (
            "version: 1\ntables:\n  crm_leads: {contact_id: x}\n",
            "m.yml: tables.crm_leads: not a raw table",
        ),
        (
            "version: 1\ntables:\n  crm_contacts:\n    contactid: Lead ID\n",
            "m.yml: tables.crm_contacts.contactid: not a column of crm_contacts "
            "(its columns: contact_id, email, first_name",
        ),
        (MINIMAL + "columns:\n  Score: integer\n", "m.yml: columns.Score: unknown type 'integer'"),
        (
            MINIMAL + "read:\n  date_format: MM-DD\n",
            "m.yml: read.date_format: unknown date format 'MM-DD'",
        ),
        (
            "version: 1\ntables:\n  marketing_events:\n    - repeat: Visits\n      event_id: x\n",
            "m.yml: tables.marketing_events[0].repeat: column 'Visits' is not typed number",
        ),
        (
            "version: 1\ntables:\n  crm_deals:\n    when: {column: Won, is: true, equals: x}\n",
            "m.yml: tables.crm_deals.when: needs exactly one operator",
        ),
        (
            "version: 1\ntables:\n  crm_deals:\n    when: {column: Won}\n",
            "m.yml: tables.crm_deals.when: needs exactly one operator",
        ),
        (
            "version: 1\ntables:\n  crm_contacts:\n    contact_id: {colum: Lead ID}\n",
            "m.yml: tables.crm_contacts.contact_id.colum: unknown key",
        ),
        (
            "version: 1\ntables:\n  marketing_events:\n    event_id: {template: '{Id}-{n}'}\n",
            "m.yml: tables.marketing_events.event_id: {n} is the repeat index",
        ),
        (MINIMAL + "read:\n  true: [yes]\n", "m.yml: read.true[0]: YAML reads yes, no"),
        (MINIMAL + "version: 2\n", "m.yml: key 'version' appears twice"),
        ("version: 2\ntables: {crm_contacts: {contact_id: x}}\n", "m.yml: version: must be 1"),
    ],
    ids=[
        "unknown-top-key",
        "unknown-table",
        "unknown-contract-column",
        "unknown-type",
        "unknown-date-format",
        "repeat-not-number",
        "when-two-operators",
        "when-no-operator",
        "unknown-source-key",
        "n-without-repeat",
        "unquoted-yes",
        "duplicate-key",
        "version",
    ],
)  # fmt: skip
def test_a_mapping_error_names_the_file_and_the_key(tmp_path: Path, text: str, expected: str):
    path = write(tmp_path / "m.yml", text)
    with pytest.raises(MappingError) as error:
        load_mapping(path, label="m.yml")
    assert str(error.value).startswith(expected), str(error.value)


# -- loading export folders (DuckDB and PostgreSQL) ----------------------------------------------


def fetch(conn: WarehouseConnection, table: str, columns: str) -> list[dict]:
    return conn.fetch_dicts(f"select {columns} from raw.{table} order by _file_id, _source_row")


def test_an_export_folder_loads_each_raw_table_of_its_mapping(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = acme_landing(tmp_path)
    report = ingest_landing(warehouse, landing, "raw", log=quiet)

    assert [(load.table, load.path, load.status, load.rows) for load in report.loads] == [
        ("crm_contacts", "acme/Leads.csv#crm_contacts", "loaded", 3),
        ("crm_deals", "acme/Leads.csv#crm_deals", "loaded", 2),  # P-1 Yes, P-3 yes
        ("marketing_events", "acme/Leads.csv#marketing_events", "loaded", 7),  # 3 + 2 + 2
    ]
    assert report.ignored_paths == []  # Leads.csv and mapping.yml belong to the export

    contacts = fetch(
        warehouse,
        "crm_contacts",
        "contact_id, email, lead_source, country, unsubscribed, created_at, lifecycle_stage, "
        "specialization, last_activity, _source_file, _source_row",
    )
    assert contacts == [
        {
            "contact_id": "P-1",
            "email": "ann@example.com",  # renamed from Email Address
            "lead_source": "Google",  # Lead Source matches lead_source by its name
            "country": "India",
            "unsubscribed": "false",  # Do Not Email: No
            "created_at": "2024-03-14 14:05:00",  # 3/14/2024 2:05 PM
            "lifecycle_stage": "lead",  # a constant
            "specialization": None,  # "Select" is a missing word
            "last_activity": "Email Opened",  # kept
            "_source_file": "acme/Leads.csv#crm_contacts",
            "_source_row": 1,
        },
        {
            "contact_id": "P-2",
            "email": None,  # empty
            "lead_source": "Direct Traffic",
            "country": None,  # N/A
            "unsubscribed": "true",
            "created_at": "2023-12-31 00:00:00",
            "lifecycle_stage": "lead",
            "specialization": "Finance Management",
            "last_activity": "Page Visited on Website",
            "_source_file": "acme/Leads.csv#crm_contacts",
            "_source_row": 2,
        },
        {
            "contact_id": "P-3",
            "email": "bo@example.org",
            "lead_source": "Olark Chat",  # trimmed
            "country": None,
            "unsubscribed": "false",  # "no", case-insensitive
            "created_at": "13/45/2024",  # does not parse: kept for staging to quarantine
            "lifecycle_stage": "lead",
            "specialization": None,
            "last_activity": "SMS Sent",
            "_source_file": "acme/Leads.csv#crm_contacts",
            "_source_row": 3,
        },
    ]
    columns = set(warehouse.table_columns("raw", "crm_contacts"))
    assert {"specialization", "last_activity"} <= columns
    assert "totalvisits" not in columns  # keep: lists what is kept

    deals = fetch(
        warehouse,
        "crm_deals",
        "deal_id, contact_id, is_won, is_closed, created_at, closed_at, amount, _source_row",
    )
    assert deals == [
        {
            "deal_id": "P-1-won",
            "contact_id": "P-1",
            "is_won": "true",
            "is_closed": "true",
            "created_at": "2024-03-14 14:05:00",
            "closed_at": "2024-06-30",  # {snapshot_date}
            "amount": None,  # never mapped: NULL
            "_source_row": 1,
        },
        {
            "deal_id": "P-3-won",
            "contact_id": "P-3",
            "is_won": "true",
            "is_closed": "true",
            "created_at": "13/45/2024",
            "closed_at": "2024-06-30",
            "amount": None,
            "_source_row": 2,
        },
    ]
    assert "converted" not in warehouse.table_columns("raw", "crm_deals")  # keep: none

    events = fetch(
        warehouse,
        "marketing_events",
        "event_id, contact_id, event_type, occurred_at, total_time_spent_on_website, "
        "_source_file, _source_row",
    )
    assert [
        (e["event_id"], e["contact_id"], e["event_type"], e["total_time_spent_on_website"])
        for e in events
    ] == [
        # Section 1: one page view per visit (P-1 3, P-2 0 writes none, P-3 2.7 rounds down).
        ("P-1-visit-1", "P-1", "page_view", None),
        ("P-1-visit-2", "P-1", "page_view", None),
        ("P-1-visit-3", "P-1", "page_view", None),
        ("P-3-visit-1", "P-3", "page_view", None),
        ("P-3-visit-2", "P-3", "page_view", None),
        # Section 2: a row where the time is present (P-3's is empty), the time kept.
        ("P-1-time", "P-1", "site_session", "1532"),
        ("P-2-time", "P-2", "site_session", "0"),
    ]
    assert [e["_source_row"] for e in events] == [1, 2, 3, 4, 5, 6, 7]
    assert {e["_source_file"] for e in events} == {"acme/Leads.csv#marketing_events"}
    assert events[0]["occurred_at"] == "2024-03-14 14:05:00"


def test_a_loaded_export_loads_nothing_again_until_its_mapping_changes(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = acme_landing(tmp_path)
    ingest_landing(warehouse, landing, "raw", log=quiet)
    again = ingest_landing(warehouse, landing, "raw", log=quiet)
    assert [load.status for load in again.loads] == ["skipped", "skipped", "skipped"]
    assert warehouse.fetchall("select count(*) from raw.crm_contacts") == [(3,)]

    edited = LEADS_MAPPING.replace("{value: lead}", "{value: subscriber}")
    (landing / "acme" / "mapping.yml").write_text(textwrap.dedent(edited).lstrip("\n"))
    third = ingest_landing(warehouse, landing, "raw", log=quiet)
    assert [(load.status, load.rows) for load in third.loads] == [
        ("loaded", 3),
        ("loaded", 2),
        ("loaded", 7),
    ]
    # A new version of every part: file ids 4-6 after 1-3, the same paths.
    manifest = warehouse.fetchall(
        "select file_id, file_path from raw._ingest_manifest order by file_id"
    )
    assert [file_id for file_id, _ in manifest] == [1, 2, 3, 4, 5, 6]
    assert [path for _, path in manifest[3:]] == [path for _, path in manifest[:3]]
    stages = warehouse.fetchall(
        "select _file_id, lifecycle_stage, count(*) from raw.crm_contacts "
        "group by _file_id, lifecycle_stage order by _file_id"
    )
    assert stages == [(1, "lead", 3), (4, "subscriber", 3)]


def test_only_the_selected_raw_tables_of_an_export_load(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = acme_landing(tmp_path)
    report = ingest_landing(warehouse, landing, "raw", tables=["crm_deals"], log=quiet)
    assert [(load.path, load.status) for load in report.loads] == [
        ("acme/Leads.csv#crm_deals", "loaded")
    ]
    assert warehouse.fetchall("select count(*) from raw.crm_contacts") == [(0,)]
    rest = ingest_landing(warehouse, landing, "raw", log=quiet)
    assert [(load.table, load.status) for load in rest.loads] == [
        ("crm_contacts", "loaded"),
        ("crm_deals", "skipped"),
        ("marketing_events", "loaded"),
    ]


def test_a_mapping_error_fails_the_export_and_names_the_mapping_file_and_key(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = acme_landing(tmp_path, LEADS_MAPPING.replace("contact_id: Prospect ID\n    email", "contactid: Prospect ID\n    email"))  # noqa: E501  # fmt: skip
    write(landing / "crm_owners" / "owners.csv", "owner_id,name,email,team,region\nO1,Ann,,AE,NA\n")

    with pytest.raises(IngestFailedError) as failure:
        ingest_landing(warehouse, landing, "raw", log=quiet)

    mapping_path = landing / "acme" / "mapping.yml"
    assert (
        f"{mapping_path}: tables.crm_contacts.contactid: not a column of crm_contacts "
        "(its columns: contact_id, email, first_name, last_name, job_title, company_id, "
        "country, lead_source, lifecycle_stage, unsubscribed, created_at, updated_at)"
    ) in str(failure.value)
    # The other landing files still load; nothing of the export does.
    assert warehouse.fetchall("select count(*) from raw.crm_owners") == [(1,)]
    for table in ("crm_contacts", "crm_deals", "marketing_events"):
        assert warehouse.fetchall(f"select count(*) from raw.{table}") == [(0,)]


def test_a_column_the_file_does_not_have_names_the_file_and_the_column(
    warehouse: WarehouseConnection, tmp_path: Path
):
    mapping = LEADS_MAPPING.replace(
        "    contact_id: Prospect ID\n    email", "    contact_id: Lead Id\n    email"
    )
    landing = acme_landing(tmp_path, mapping)
    report = ingest_landing(warehouse, landing, "raw", log=quiet, raise_on_failure=False)

    statuses = {load.table: load.status for load in report.loads}
    assert statuses == {
        "crm_contacts": "failed",
        "crm_deals": "loaded",
        "marketing_events": "loaded",
    }
    error = next(load.error for load in report.loads if load.status == "failed")
    mapping_path = landing / "acme" / "mapping.yml"
    assert error.startswith(
        f"{mapping_path}: tables.crm_contacts.contact_id names column 'Lead Id', which "
        "acme/Leads.csv does not have (its columns: Prospect ID, Lead Source, Do Not Email,"
    )
    assert "ann@example.com" not in error and "P-1" not in error  # no value of the file
    assert warehouse.fetchall("select count(*) from raw.crm_contacts") == [(0,)]
    assert warehouse.fetchall("select count(*) from raw.crm_deals") == [(2,)]


def test_a_ragged_export_file_fails_alone_without_echoing_its_rows(
    warehouse: WarehouseConnection, tmp_path: Path
):
    landing = acme_landing(tmp_path)
    write(
        landing / "acme" / "2024" / "Leads-bad.csv",
        LEADS_CSV.replace("P-2,Direct Traffic", "P-2,secret.person@example.com,Direct Traffic"),
    )
    report = ingest_landing(warehouse, landing, "raw", log=quiet, raise_on_failure=False)
    failed = [load for load in report.loads if load.status == "failed"]
    assert len(failed) == 1  # reported once, not once per raw table
    assert failed[0].error == "acme/2024/Leads-bad.csv: line 3 has 12 fields, the header has 11"
    assert [load.path for load in report.loads if load.status == "loaded"] == [
        "acme/Leads.csv#crm_contacts",
        "acme/Leads.csv#crm_deals",
        "acme/Leads.csv#marketing_events",
    ]
    assert warehouse.fetchall("select count(*) from raw.crm_contacts") == [(3,)]


# -- finding export folders ----------------------------------------------------------------------


def test_export_folders_are_found_and_their_files_are_not_ignored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    landing = acme_landing(tmp_path)
    write(landing / "acme" / "2024" / "more.parquet", "not read here")
    write(landing / "acme" / ".hidden.csv", "a\n1\n")
    write(landing / "acme" / "notes.txt", "hello")
    write(landing / "crm_owners" / "mapping.yml", "version: 1\n")  # a raw table folder
    write(landing / "other" / "leads.csv", "a\n1\n")  # no mapping: not an export

    exports = discover_exports(landing)
    assert list(exports) == ["acme"]
    assert exports["acme"].mapping == landing / "acme" / "mapping.yml"
    assert exports["acme"].files == [
        landing / "acme" / "2024" / "more.parquet",
        landing / "acme" / "Leads.csv",
    ]
    files, ignored = discover(landing)
    assert not any(files.values())
    assert sorted(ignored) == ["acme/notes.txt", "crm_owners/mapping.yml", "other/leads.csv"]

    monkeypatch.setenv("LEADSCORE_LANDING_DIR", str(landing))
    signatures = landing_signatures(load_settings().landing_dir)
    real = landing.resolve()  # settings resolve the landing folder
    assert {signature.split("|")[0] for signature in signatures} == {
        str(real / "acme" / "mapping.yml"),
        str(real / "acme" / "Leads.csv"),
        str(real / "acme" / "2024" / "more.parquet"),
    }
    assert _has_landing_files(landing)  # `leadscore run` loads them instead of demo data
    assert not _has_landing_files(tmp_path / "empty")


# -- inspect -------------------------------------------------------------------------------------

EXPORT_CSV = """
Lead Number,Signup Date,Last Seen,Order Date,Opt Out,Score,Stage,Converted,E-mail,Visits,created_ts
1001,3/14/2024,14/03/2024,1/2/2024,Yes,1.5,Select,1,a@example.com,3,1710425109
1002,12/1/2024,1/12/2024,3/4/2024,No,20,Qualified,0,b@example.com,0,1710511509
1003,1/31/2024,31/01/2024,,no,-3,Please select,0,,1,1710597909
1004,2/29/2024,29/02/2024,5/6/2024,yes,,N/A,1,c@example.com,2,1710684309
"""


def test_inspect_profiles_types_date_orders_and_placeholders(tmp_path: Path):
    profile = profile_file(write(tmp_path / "export.csv", EXPORT_CSV))
    found = {c.name: (c.type, c.date_format, c.ambiguous_order) for c in profile.columns}
    assert found == {
        "Lead Number": ("number", None, False),
        "Signup Date": ("date", "M/D/YYYY", False),  # 14 and 31 and 29 in the second part
        "Last Seen": ("date", "D/M/YYYY", False),  # 14, 31 and 29 in the first part
        "Order Date": ("date", "M/D/YYYY", True),  # no part above 12: a guess
        "Opt Out": ("boolean", None, False),
        "Score": ("number", None, False),
        "Stage": ("text", None, False),
        "Converted": ("boolean", None, False),  # 0 / 1
        "E-mail": ("text", None, False),
        "Visits": ("number", None, False),
        # Named like a date, whole numbers between 2000 and 2100 as epoch seconds.
        "created_ts": ("date", "epoch_seconds", False),
    }
    stage = profile.column("Stage")
    assert sorted(stage.placeholders) == ["N/A", "Please select", "Select"]
    assert stage.missing_share == 0.75  # 3 of 4 rows
    assert stage.top_values == [("Qualified", 1)]
    assert profile.column("Order Date").missing_share == 0.25
    assert profile.column("Lead Number").unique
    assert profile.rows == 4 and not profile.sampled


def test_inspect_drafts_a_mapping_that_validates_and_loads_the_file(
    warehouse: WarehouseConnection, tmp_path: Path, capsys: pytest.CaptureFixture
):
    landing = tmp_path / "landing"
    export = write(landing / "acme" / "export.csv", EXPORT_CSV)
    assert main(["inspect", str(export)]) == 0
    printed = capsys.readouterr().out
    assert "Please select" in printed and "M/D/YYYY (ambiguous)" in printed
    draft_path = landing / "acme" / "mapping.yml"
    draft = draft_path.read_text()

    # A second run does not overwrite the draft (exit 2) unless told to.
    assert main(["inspect", str(export)]) == 2
    assert "--force" in capsys.readouterr().err
    assert draft_path.read_text() == draft
    assert main(["inspect", str(export), "--force", "--out", str(tmp_path / "x.yml")]) == 0

    mapping = load_mapping(draft_path)
    assert {"select", "please select", "n/a"} <= mapping.read.missing
    assert mapping.read.date_format == "M/D/YYYY"  # two M/D columns against one D/M
    assert mapping.columns["Last Seen"].date_format == "D/M/YYYY"
    assert mapping.columns["created_ts"].date_format == "epoch_seconds"
    lines = draft.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("  Order Date:"))
    # The guess is flagged, on the line or in the comment lines just above it.
    assert "ambiguous" in lines[at] or "ambiguous" in " ".join(lines[at - 2 : at])
    contacts = mapping.tables["crm_contacts"][0].sources
    assert {name: source.column for name, source in contacts.items()} == {
        "contact_id": "Lead Number",  # unique, named like a number
        "email": "E-mail",  # values with '@'
        "created_at": "Signup Date",
        "updated_at": "Last Seen",
        "unsubscribed": "Opt Out",
    }
    deals = mapping.tables["crm_deals"][0]
    assert (deals.when.column, deals.when.operator, deals.when.operand) == ("Converted", "is", True)
    assert "# marketing_events:" in draft  # Visits suggests an example, commented out
    uncommented = draft.replace("  # marketing_events:", "  marketing_events:").replace(
        "  #   ", "    "
    )
    events = parse_mapping(yaml.safe_load(uncommented), "uncommented").tables["marketing_events"]
    assert events[0].repeat == "Visits"

    report = ingest_landing(warehouse, landing, "raw", log=quiet)
    assert [(load.table, load.rows) for load in report.loads] == [
        ("crm_contacts", 4),
        ("crm_deals", 2),  # Converted 1 for 1001 and 1004
    ]
    rows = warehouse.fetchall(
        "select contact_id, email, created_at, updated_at, unsubscribed, stage, created_ts "
        "from raw.crm_contacts order by _source_row"
    )
    assert rows == [
        ("1001", "a@example.com", "2024-03-14 00:00:00", "2024-03-14 00:00:00", "true", None,
         "2024-03-14 14:05:09"),
        ("1002", "b@example.com", "2024-12-01 00:00:00", "2024-12-01 00:00:00", "false",
         "Qualified", "2024-03-15 14:05:09"),
        ("1003", None, "2024-01-31 00:00:00", "2024-01-31 00:00:00", "false", None,
         "2024-03-16 14:05:09"),
        ("1004", "c@example.com", "2024-02-29 00:00:00", "2024-02-29 00:00:00", "true", None,
         "2024-03-17 14:05:09"),
    ]  # fmt: skip
    deal_ids = warehouse.fetchall("select deal_id from raw.crm_deals order by _source_row")
    assert deal_ids == [("1001-won",), ("1004-won",)]
