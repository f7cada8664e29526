"""Bad input and damaged tables: every raw row is staged or quarantined with a reason, and a
blocking test that fails names the table, the key and the reason of its offending rows.

(Inconsistent deals, impossible dates and unknown lifecycle stages are worked out row by row
in the dbt unit tests of base_crm__deals and stg_crm__contacts; this file runs the real
refresh.)"""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.generator import generate_demo_data
from orchestration.lib.settings import PROJECT_ROOT
from tests.conftest import TODAY

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance


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


def header_of(folder: Path) -> list[str]:
    """The column names of the generated files of a raw table folder (quoted in the files)."""
    with next(folder.glob("part-*.csv")).open(newline="") as handle:
        return next(csv.reader(handle))


@pytest.fixture(scope="module")
def refreshed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data = tmp_path_factory.mktemp("bad_input")
    generate_demo_data(
        data / "landing", contacts=1_000, events=10_000, seed=21, as_of=TODAY, progress=False
    )
    completed = leadscore(data, "run")
    assert completed.returncode == 0, completed.stderr[-3000:]
    return data


def test_inconsistent_rows_are_staged_or_quarantined_and_the_build_goes_on(refreshed):
    """A won deal the CRM calls open, one closed before it was created, a negative amount, a
    contact created a week after it was loaded and an unknown lifecycle stage: before, the
    first stopped the whole build at a blocking test naming no deal."""
    data = refreshed
    deals = data / "landing" / "crm_deals"
    columns = header_of(deals)
    header = ",".join(columns)

    def line(**values: str) -> str:
        return ",".join(values.get(name, "") for name in columns)

    (deals / "odd.csv").write_text(
        "\n".join(
            [
                header,
                line(deal_id="ODD-1", is_won="true", is_closed="false", amount="500",
                     created_at="2025-01-01", closed_at="2025-02-01"),
                line(deal_id="ODD-2", is_won="false", is_closed="true", amount="500",
                     created_at="2025-03-01", closed_at="2025-02-01"),
                line(deal_id="ODD-3", is_won="false", is_closed="false", amount="-20",
                     created_at="2025-01-01"),
            ]
        )
        + "\n"
    )  # fmt: skip
    contacts = data / "landing" / "crm_contacts"
    columns = header_of(contacts)
    header = ",".join(columns)
    (contacts / "odd.csv").write_text(
        "\n".join(
            [
                header,
                line(contact_id="ODD-C1", email="future@example.org", created_at="2099-01-01"),
                line(contact_id="ODD-C2", email="stage@example.org", created_at="2025-01-01",
                     lifecycle_stage="Prospect-ish"),
            ]
        )
        + "\n"
    )  # fmt: skip
    completed = leadscore(data, "run")
    assert completed.returncode == 0, completed.stderr[-3000:]
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        quarantined = dict(
            conn.execute(
                "select deal_id, quarantine_reason from quarantine.quarantine_crm__deals "
                "where deal_id like 'ODD-%'"
            ).fetchall()
        )
        staged = conn.execute(
            "select deal_id, is_won, is_closed, is_won_not_closed, amount, is_amount_invalid "
            "from staging.stg_crm__deals where deal_id like 'ODD-%' order by deal_id"
        ).fetchall()
        future = conn.execute(
            "select quarantine_reason from quarantine.quarantine_crm__contacts "
            "where contact_id = 'ODD-C1'"
        ).fetchall()
        flagged = dict(
            conn.execute(
                "select reason, row_count from audit.audit_data_quality "
                "where reason in ('won_deal_not_closed', 'invalid_amount', "
                "'unknown_lifecycle_stage', 'closed_before_created', 'future_timestamp')"
            ).fetchall()
        )
        [(reconciled,)] = conn.execute(
            "select bool_and(raw_rows = staged_rows + quarantined_rows + merged_rows) "
            "from audit.audit_raw_reconciliation"
        ).fetchall()
    assert quarantined == {"ODD-2": "closed_before_created"}
    assert staged == [
        ("ODD-1", True, True, True, 500, False),
        ("ODD-3", False, False, False, None, True),
    ]
    assert future == [("future_timestamp",)]
    assert flagged["won_deal_not_closed"] >= 1 and flagged["invalid_amount"] >= 1
    assert flagged["unknown_lifecycle_stage"] >= 1
    assert reconciled


def test_a_later_duplicate_merges_into_the_person_without_taking_it_over(refreshed):
    """A second record of a scored person arrives in a later load: same email in other case
    and padding, a lower id and an earlier creation date, with an event of its own. Before, it
    took over the canonical id and every later run failed a relationships test; now the person
    keeps their id, history and stage, and the duplicate and its event merge in incrementally
    (the run is a plain `leadscore run`, no full refresh)."""
    data = refreshed
    warehouse = str(data / "warehouse.duckdb")
    with duckdb.connect(warehouse, read_only=True) as conn:
        [(person, email, as_of)] = conn.execute(
            "select contact_id, email, as_of_date from marts.dim_leads "
            "where email is not null order by lead_score desc, contact_id limit 1"
        ).fetchall()
        history_before = conn.execute(
            "select as_of_date, lead_stage from marts.fct_lead_score_history "
            "where contact_id = ? and as_of_date < ? order by as_of_date",
            [person, as_of],
        ).fetchall()
        transitions_before = conn.execute(
            "select count(*) from marts.fct_lead_stage_transitions where contact_id = ?",
            [person],
        ).fetchone()[0]
    duplicate = "A0000001"
    assert duplicate < person  # the lower id: the old tie-break would pick it

    contacts = data / "landing" / "crm_contacts"
    columns = header_of(contacts)

    def line(**values: str) -> str:
        return ",".join(values.get(name, "") for name in columns)

    (contacts / "later_duplicate.csv").write_text(
        ",".join(columns) + "\n"
        + line(contact_id=duplicate, email=f"  {email.upper()} ",
               created_at="2020-01-01 00:00:00", updated_at="2020-01-02 00:00:00") + "\n"
    )  # fmt: skip
    events = data / "landing" / "marketing_events"
    columns = header_of(events)
    occurred = f"{as_of - timedelta(days=1)} 10:00:00"
    (events / "later_duplicate.csv").write_text(
        ",".join(columns) + "\n"
        + line(event_id="EDUP0000001", contact_id=duplicate, event_type="page_view",
               page_url="https://www.example-saas.com/pricing", page_category="pricing",
               occurred_at=occurred) + "\n"
    )  # fmt: skip

    completed = leadscore(data, "run")
    assert completed.returncode == 0, completed.stderr[-3000:]
    with duckdb.connect(warehouse, read_only=True) as conn:
        identity = dict(
            conn.execute(
                "select source_contact_id, canonical_contact_id "
                "from staging.stg_crm__contact_identity where source_contact_id in (?, ?)",
                [person, duplicate],
            ).fetchall()
        )
        leads = [
            row[0]
            for row in conn.execute(
                "select contact_id from marts.dim_leads where contact_id in (?, ?)",
                [person, duplicate],
            ).fetchall()
        ]
        event_owner = conn.execute(
            "select contact_id from staging.stg_marketing__events where event_id = 'EDUP0000001'"
        ).fetchall()
        history_after = conn.execute(
            "select as_of_date, lead_stage from marts.fct_lead_score_history "
            "where contact_id = ? and as_of_date < ? order by as_of_date",
            [person, as_of],
        ).fetchall()
        split = conn.execute(
            "select (select count(*) from marts.fct_lead_score_history where contact_id = ?)"
            " + (select count(*) from marts.fct_lead_stage_transitions where contact_id = ?)",
            [duplicate, duplicate],
        ).fetchone()[0]
        transitions_after = conn.execute(
            "select count(*) from marts.fct_lead_stage_transitions where contact_id = ?",
            [person],
        ).fetchone()[0]
        [(reconciled,)] = conn.execute(
            "select bool_and(raw_rows = staged_rows + quarantined_rows + merged_rows) "
            "from audit.audit_raw_reconciliation"
        ).fetchall()
    assert identity == {person: person, duplicate: person}
    assert leads == [person]
    assert event_owner == [(person,)]
    assert history_after == history_before
    assert split == 0
    assert transitions_after >= transitions_before
    assert reconciled


def test_a_failing_blocking_test_names_its_rows(refreshed, tmp_path):
    """A damaged incremental table (a lead's owner written twice) fails the unique test; the
    run's error names the test, the key and the count of the first offending rows, not only
    "Got 1 result"."""
    data = refreshed
    with duckdb.connect(str(data / "warehouse.duckdb")) as conn:
        [(contact,)] = conn.execute(
            "select contact_id from marts.fct_lead_owner_assignments order by contact_id limit 1"
        ).fetchall()
        conn.execute(
            "insert into marts.fct_lead_owner_assignments select * from "
            "marts.fct_lead_owner_assignments where contact_id = ?",
            [contact],
        )
    completed = leadscore(data, "run")
    assert completed.returncode == 1
    assert "dbt build failed:" in completed.stderr
    assert "unique_fct_lead_owner_assignments_contact_id: 1 failing row(s)" in completed.stderr
    assert f"unique_field={contact}, n_records=2" in completed.stderr
