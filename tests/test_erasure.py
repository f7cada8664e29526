"""`leadscore forget`: a person who asks to be forgotten leaves no trace in any table, any file
(the DuckDB file's bytes included), later loads, or any sync destination (HubSpot's GDPR
delete, a Salesforce delete, the webhook's erase event, the PostgreSQL table), the CRMs and
the receiver being the local fakes of tests/fakes."""

from __future__ import annotations

import csv
import hashlib
import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg
import pytest

from orchestration.demo.generator import generate_demo_data
from orchestration.lib.settings import PROJECT_ROOT
from tests.conftest import TODAY
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.webhook import FakeWebhookReceiver
from tests.test_sync_safety import SECRET, TOKEN, oauth_salesforce, salesforce_env

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance


def leadscore(data: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "LEADSCORE_TARGET": "duckdb", "LEADSCORE_DATA_DIR": str(data), **extra}
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


def test_forget_deletes_the_person_in_every_destination(scored, postgres_database):
    """The person was synced to HubSpot, Salesforce, the webhook receiver and a PostgreSQL
    table; `leadscore forget` asks each to delete them before it erases the warehouse, and
    afterwards none of them holds the person's email or name."""
    data = scored
    with duckdb.connect(str(data / "warehouse.duckdb"), read_only=True) as conn:
        leads = conn.execute(
            "select contact_id, lower(trim(email)) from marts.dim_leads where email like '%@%.%'"
        ).fetchall()
        contact_id, email, first, last = conn.execute(
            "select l.contact_id, lower(trim(l.email)), c.first_name, c.last_name "
            "from marts.dim_leads l join raw.crm_contacts c on c.contact_id = l.contact_id "
            "where l.email like '%@%.%' and not l.is_unsubscribed "
            "order by l.lead_score desc, l.contact_id limit 1"
        ).fetchone()
    conninfo = f"host=127.0.0.1 user=postgres dbname={postgres_database}"

    def held_by(hubspot, salesforce, receiver) -> list[str]:
        held = []
        stores = {
            "hubspot": hubspot.contacts,
            "salesforce": {"|".join(k): v for k, v in salesforce.records.items()},
            "webhook": receiver.records,
        }
        for name, store in stores.items():
            text = json.dumps(store, default=str).lower()
            if email in text or contact_id.lower() in text:
                held.append(name)
        with psycopg.connect(conninfo) as conn:
            rows = conn.execute(
                "select count(*) from leadscore.lead_scores where contact_id = %s", [contact_id]
            ).fetchone()[0]
        if rows:
            held.append("postgres")
        return held

    with (
        FakeHubSpot(TOKEN, known_properties=set()) as hubspot,
        oauth_salesforce() as salesforce,
        FakeWebhookReceiver(SECRET) as receiver,
    ):
        # The CRMs know the leads (the default sync mode updates only what they have).
        for lead_id, lead_email in leads:
            hubspot.add_contact(lead_email, firstname="x")
            salesforce.add_record("Lead", lead_id, LastName="Lead", Company="Acme")
        hubspot.add_contact("other@example.org", firstname=first, lastname=last)
        env = {
            "LEADSCORE_HUBSPOT_TOKEN": TOKEN,
            "LEADSCORE_HUBSPOT_BASE_URL": hubspot.base_url,
            **salesforce_env(salesforce),
            "LEADSCORE_WEBHOOK_URL": receiver.base_url + "/leadscore",
            "LEADSCORE_WEBHOOK_SECRET": SECRET,
            "LEADSCORE_SYNC_PG_CONNINFO": conninfo,
        }
        for command in (["hubspot-setup"], ["sync"]):
            completed = leadscore(data, *command, **env)
            assert completed.returncode == 0, (completed.stdout[-2000:], completed.stderr[-2000:])
        assert held_by(hubspot, salesforce, receiver) == [
            "hubspot", "salesforce", "webhook", "postgres"
        ]  # fmt: skip
        assert hubspot.contacts[email].get("leadscore_lead_score") not in (None, "")

        completed = leadscore(data, "forget", "--contact-id", contact_id, **env)
        assert completed.returncode == 0, completed.stderr[-3000:]
        assert "destination hubspot: deletion sent, 1 record(s)" in completed.stdout
        assert "destination salesforce: deletion sent, 1 record(s)" in completed.stdout
        assert "destination webhook: deletion sent" in completed.stdout
        assert "destination postgres: deletion sent, 1 record(s)" in completed.stdout
        assert email not in completed.stdout + completed.stderr

        assert held_by(hubspot, salesforce, receiver) == []
        assert email in hubspot.blocklist
        assert contact_id in receiver.erased_keys
        # Someone else who shares the name is not touched: erasure goes by key, not by name.
        assert "other@example.org" in hubspot.contacts
        assert len(hubspot.contacts) == len(leads)
