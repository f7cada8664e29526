"""The documented past-date recipes (docs/operations.md) with every sync destination
configured: the Dagster
backfill (`dagster job execute ... -c backfill.yaml` with `as_of_date` three months back) and
the calibration snapshot (`LEADSCORE_AS_OF_DATE=<90 days ago> leadscore run`) send nothing and
leave the ledger alone; the daily run that follows syncs every destination.

Real processes, as docs/operations.md runs them, on 1,000 generated leads; HubSpot, Salesforce and
the webhook receiver are the local fakes (tests/fakes), PostgreSQL the running service."""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import duckdb
import psycopg
import pyarrow.parquet as pq
import pytest

from orchestration.demo.generator import generate_demo_data
from orchestration.lib.settings import PROJECT_ROOT, load_settings
from orchestration.lib.warehouse import DuckDBConnection
from orchestration.sync.engine import LEDGER_TABLE, ensure_sync_tables
from orchestration.sync.runner import DESTINATIONS
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.webhook import FakeWebhookReceiver
from tests.test_sync_safety import SECRET, TOKEN, oauth_salesforce, salesforce_env

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

BIN = Path(sys.executable).parent
SHIPPED_INSTANCE = PROJECT_ROOT / "orchestration" / "deploy" / "dagster.yaml"
SENTINEL = "SENTINEL-0001"  # a lead synced by an earlier run that has since left the payload
LEAD_SCORES_DDL = (
    "create table leadscore.lead_scores (contact_id text primary key, lead_score bigint, "
    "fit_score bigint, behavior_score bigint, fit_grade text, lead_stage text, segment text, "
    "sales_action text, campaign_track text, queue text, owner_id text, owner_name text, "
    "score_reasons text, score_change bigint, outreach_suppressed boolean, "
    "score_updated_on date, synced_at timestamptz not null default now())"
)


def _run(command: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess:
    done = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, (done.stdout[-4000:], done.stderr[-4000:])
    return done


def _landing_leads(landing: Path) -> dict[str, str]:
    """contact_id -> email of the generated CRM export."""
    leads = {}
    for path in sorted((landing / "crm_contacts").glob("*.csv")):
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                leads[row["contact_id"]] = row["email"].strip().lower()
    return leads


def test_backfill_and_calibration_recipes_sync_nothing_and_the_daily_run_syncs(
    tmp_path: Path, postgres_database: str
):
    today = datetime.now(UTC).date()
    backfill_date = today - timedelta(days=92)  # three months back
    calibration_date = today - timedelta(days=90)
    data = tmp_path / "data"
    landing = data / "landing"
    generate_demo_data(landing, contacts=1_000, events=15_000, seed=11, as_of=today, progress=False)
    leads = _landing_leads(landing)

    # What earlier daily runs left behind: a ledger entry per destination, a row in the
    # operational table. A sync of a past date would see the lead as removed and delete it.
    warehouse = data / "warehouse.duckdb"
    with duckdb.connect(str(warehouse)) as raw:
        ensure_sync_tables(DuckDBConnection(raw), "sync")
        for name in DESTINATIONS:
            raw.execute(
                f"insert into sync.{LEDGER_TABLE} values (?, ?, 'old-hash', now(), 'earlier')",
                [name, SENTINEL],
            )
    conninfo = f"host=127.0.0.1 user=postgres dbname={postgres_database}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("create schema leadscore")
        conn.execute(LEAD_SCORES_DDL)
        conn.execute("insert into leadscore.lead_scores (contact_id) values (%s)", [SENTINEL])

    def ledger() -> set[tuple[str, str, str]]:
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            rows = conn.execute(f"select destination, sync_key, run_id from sync.{LEDGER_TABLE}")
            return set(rows.fetchall())

    def operational_rows() -> dict[str, object]:
        with psycopg.connect(conninfo) as conn:
            return dict(
                conn.execute("select contact_id, score_updated_on from leadscore.lead_scores")
            )

    before = ledger()
    assert before == {(name, SENTINEL, "earlier") for name in DESTINATIONS}

    with (
        FakeHubSpot(TOKEN, known_properties=set()) as hubspot,
        oauth_salesforce() as salesforce,
        FakeWebhookReceiver(SECRET) as receiver,
    ):
        # The CRMs know the leads (the default sync mode updates only what they have).
        for contact_id, email in leads.items():
            if "@" in email:
                hubspot.add_contact(email)
            salesforce.add_record("Lead", contact_id, LastName="Lead", Company="Acme")
        fakes = (hubspot, salesforce, receiver)
        # The production instance (docs/operations.md, Development and production): steps
        # that open the warehouse
        # take turns (DuckDB has one writer), runs are kept in PostgreSQL.
        home = tmp_path / "dagster_home"
        home.mkdir()
        shutil.copy(SHIPPED_INSTANCE, home / "dagster.yaml")
        pg = load_settings().postgres
        clean = {k: v for k, v in os.environ.items() if not k.startswith(("LEADSCORE_", "DAGSTER"))}
        env = {
            **clean,
            "DAGSTER_HOME": str(home),
            "DAGSTER_PG_URL": f"postgresql+psycopg2://{pg.user}@{pg.host}:{pg.port}/{postgres_database}",
            "LEADSCORE_TARGET": "duckdb",
            "LEADSCORE_DATA_DIR": str(data),
            "LEADSCORE_HUBSPOT_TOKEN": TOKEN,
            "LEADSCORE_HUBSPOT_BASE_URL": hubspot.base_url,
            **salesforce_env(salesforce),
            "LEADSCORE_WEBHOOK_URL": receiver.base_url + "/leadscore",
            "LEADSCORE_WEBHOOK_SECRET": SECRET,
            "LEADSCORE_SYNC_PG_CONNINFO": conninfo,
        }

        # 1. The documented Dagster backfill, three months back.
        (tmp_path / "backfill.yaml").write_text(
            "ops:\n  leadscore_dbt_models:\n    config:\n"
            f'      as_of_date: "{backfill_date.isoformat()}"\n'
        )
        _run(
            [str(BIN / "dagster"), "job", "execute", "-m", "orchestration.definitions",
             "-j", "refresh_warehouse", "-c", str(tmp_path / "backfill.yaml")],
            env, PROJECT_ROOT,
        )  # fmt: skip
        assert [len(f.requests) for f in fakes] == [0, 0, 0]
        assert ledger() == before
        assert operational_rows() == {SENTINEL: None}
        assert not (data / "sync").exists()
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            runs = conn.execute(
                "select destination, status, as_of_date, skip_reason from sync.sync_runs"
            ).fetchall()
        assert {(d, s, a) for d, s, a, _ in runs} == {
            (name, "skipped", backfill_date) for name in DESTINATIONS
        }

        # Between the recipes: the properties the HubSpot sync needs (the payload model exists
        # now, after the first build).
        _run([sys.executable, "-m", "orchestration.cli", "hubspot-setup"], env, PROJECT_ROOT)
        calls = [len(f.requests) for f in fakes]

        # 2. The calibration recipe's snapshot 90 days back.
        _run(
            [sys.executable, "-m", "orchestration.cli", "run"],
            {**env, "LEADSCORE_AS_OF_DATE": calibration_date.isoformat()},
            PROJECT_ROOT,
        )
        assert [len(f.requests) for f in fakes] == calls
        assert ledger() == before
        assert operational_rows() == {SENTINEL: None}
        assert not (data / "sync").exists()

        # 3. The daily run (the recipe's second command) syncs every destination.
        _run([sys.executable, "-m", "orchestration.cli", "run"], env, PROJECT_ROOT)
        with duckdb.connect(str(warehouse), read_only=True) as conn:
            latest = dict(
                conn.execute(
                    "select destination, arg_max(status, started_at) from sync.sync_runs "
                    "group by destination"
                ).fetchall()
            )
            scored = {
                name: conn.execute(
                    f"select count(*) from sync.{DESTINATIONS[name].payload_model}"
                ).fetchone()[0]
                for name in DESTINATIONS
            }
        assert set(latest.values()) <= {"success", "partial"}, latest
        assert set(latest) == set(DESTINATIONS)
        assert all(n > 900 for n in scored.values())
        after = ledger()
        assert all(key != SENTINEL for _, key, _ in after)  # removed by the daily run
        assert {name for name, _, _ in after} == set(DESTINATIONS)

        updated = [c for c in hubspot.contacts.values() if c.get("leadscore_updated_on")]
        assert len(updated) > 900
        assert {c["leadscore_updated_on"] for c in updated} == {today.isoformat()}
        synced = [r for r in salesforce.records.values() if "Score_Updated_On__c" in r]
        assert len(synced) > 900
        assert {r["Score_Updated_On__c"] for r in synced} == {today.isoformat()}
        assert {r["score_updated_on"] for r in receiver.records.values()} == {today.isoformat()}
        assert receiver.requests and {r.path for r in receiver.requests} == {"/leadscore"}
    rows = operational_rows()
    assert SENTINEL not in rows and len(rows) == scored["postgres"]
    assert set(rows.values()) == {today}
    [changes] = sorted((data / "sync" / "leads").glob("changes-*.parquet"))
    written = pq.read_table(changes, columns=["score_updated_on"]).column(0).to_pylist()
    assert set(written) == {today.isoformat()}
