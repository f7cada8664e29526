"""Reverse ETL: the sync engine and its destinations, against local servers that speak the
HubSpot, Salesforce and webhook wire formats (tests/fakes), the running PostgreSQL service
and the file system. Every warehouse is a real dbt build of generated data."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import duckdb
import psycopg
import pyarrow.parquet as pq
import pytest

from orchestration.defs.sync.assets import sync_asset_key
from orchestration.lib.project_copy import copy_project
from orchestration.lib.settings import PROJECT_ROOT, Settings
from orchestration.sync.engine import DestinationError, RateLimiter, RetryPolicy
from orchestration.sync.runner import DESTINATIONS, run_sync
from tests.conftest import ProjectCopy, settings_for
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import FakeSalesforce
from tests.fakes.webhook import FakeWebhookReceiver

TOKEN = "pat-test-token"
FAST = RetryPolicy(max_attempts=6, base_delay=0.001, max_delay=0.01)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
HUBSPOT_UNHASHED = "leadscore_updated_on"
SYNC_KEYS = {sync_asset_key(name) for name in DESTINATIONS}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory, loaded_warehouse: Path) -> Path:
    """One dbt build of 1,000 generated leads; each test works on its own copy of the file."""
    root = tmp_path_factory.mktemp("sync_build")
    copy_project(root)
    shutil.copy(loaded_warehouse, root / "warehouse.duckdb")
    ProjectCopy(root, root / "warehouse.duckdb").build()
    return root / "warehouse.duckdb"


@pytest.fixture
def wh(built: Path, tmp_path: Path) -> Settings:
    shutil.copy(built, tmp_path / "warehouse.duckdb")
    return settings_for(
        LEADSCORE_TARGET="duckdb",
        LEADSCORE_DATA_DIR=str(tmp_path),
        LEADSCORE_DUCKDB_PATH=str(tmp_path / "warehouse.duckdb"),
    )


def query(settings: Settings, sql: str) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        return conn.execute(sql).fetchall()


def payload(settings: Settings, model: str) -> dict[str, dict]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        result = conn.execute(f"select * from sync.{model}")
        names = [c[0] for c in result.description]
        rows = [dict(zip(names, row, strict=True)) for row in result.fetchall()]
    return {row.pop("sync_key"): row for row in rows}


def as_hubspot(values: dict) -> dict[str, str]:
    """HubSpot stores property values as strings; an empty string is an empty property."""

    def text(value):
        if value is None:
            return ""
        if isinstance(value, bool):
            return "true" if value else "false"
        return value.isoformat() if isinstance(value, date) else str(value)

    return {name: text(value) for name, value in values.items()}


def hubspot_env(server: FakeHubSpot) -> dict[str, str]:
    return {"LEADSCORE_HUBSPOT_TOKEN": TOKEN, "LEADSCORE_HUBSPOT_BASE_URL": server.base_url}


def payload_properties(settings: Settings) -> set[str]:
    """The HubSpot properties the payload sends (its columns but the key)."""
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        result = conn.execute("select * from sync.sync_hubspot__contacts limit 0")
        return {c[0] for c in result.description} - {"sync_key"}


def fake_hubspot(settings: Settings, token: str = TOKEN, **kwargs) -> FakeHubSpot:
    """A HubSpot account whose leadscore_* properties exist (as `leadscore hubspot-setup`
    leaves it), so the sync's preflight passes."""
    return FakeHubSpot(token, known_properties=payload_properties(settings), **kwargs)


def posts(server) -> list:
    """The writes a fake received (the preflight's GET left out)."""
    return [r for r in server.requests if r.method in ("POST", "PATCH")]


def ledger(settings: Settings, destination: str) -> dict[str, str]:
    rows = query(
        settings,
        f"select sync_key, payload_hash from sync.sync_ledger where destination = '{destination}'",
    )
    return dict(rows)


def payload_hashes(settings: Settings, model: str, unhashed: str) -> dict[str, str]:
    """The engine's change detection recomputed here from its documented definition."""
    from orchestration.sync.engine import payload_hash_sql

    with duckdb.connect(str(settings.duckdb_path), read_only=True) as conn:
        columns = [c[0] for c in conn.execute(f"select * from sync.{model} limit 0").description]
        hashed = payload_hash_sql([c for c in columns if c != unhashed])
        return dict(conn.execute(f"select sync_key, {hashed} from sync.{model}").fetchall())


def built_copy(project: ProjectCopy) -> Settings:
    """Build a copy of the project whose seeds a test edits; settings pointing at it."""
    project.build()
    return settings_for(
        LEADSCORE_TARGET="duckdb",
        LEADSCORE_DATA_DIR=str(project.root),
        LEADSCORE_DUCKDB_PATH=str(project.duckdb_path),
    )


def test_second_run_sends_nothing_and_a_weight_change_sends_exactly_the_changed_leads(
    project: ProjectCopy,
):
    settings = built_copy(project)
    set_destination(settings, "hubspot", sync_mode="upsert")  # the fake starts empty
    before = payload(settings, "sync_hubspot__contacts")
    valid = {key for key in before if key and EMAIL.match(key)}
    assert 900 < len(valid) < len(before)  # the generator writes some invalid emails

    with fake_hubspot(settings) as hubspot:
        env = hubspot_env(hubspot)
        first = run_sync("hubspot", settings, env=env, policy=FAST)
        assert first.rows_acknowledged == len(valid)
        assert first.rows_invalid == len(before) - len(valid)
        assert set(hubspot.contacts) == valid
        for key in valid:
            assert hubspot.contacts[key] == {**as_hubspot(before[key])} | hubspot.contacts[key]
            assert {name: hubspot.contacts[key][name] for name in before[key]} == as_hubspot(
                before[key]
            )
        assert all(len(r.body["inputs"]) <= 100 for r in posts(hubspot))

        calls = len(hubspot.requests)
        second = run_sync("hubspot", settings, env=env, policy=FAST)
        assert len(hubspot.requests) == calls  # not a single call
        assert (second.rows_sent, second.rows_unchanged) == (0, len(valid))

        def double_pricing_page(rows):
            for row in rows:
                if row["rule_id"] == "beh_pricing_page":
                    row["points"], row["max_points"] = str(2 * float(row["points"])), "60"
            return rows

        project.edit_seed("scoring_behavior_rules", double_pricing_page)
        rebuilt = project.dbt("build", "--select", "scoring_behavior_rules+")
        assert rebuilt.returncode == 0, rebuilt.stdout[-4000:]
        after = payload(settings, "sync_hubspot__contacts")
        hashed = [name for name in next(iter(after.values())) if name != HUBSPOT_UNHASHED]
        expected = {
            key for key in valid if any(before[key][name] != after[key][name] for name in hashed)
        }
        assert 0 < len(expected) < len(valid)

        third = run_sync("hubspot", settings, env=env, policy=FAST)
        sent = [
            i["id"]
            for r in hubspot.requests[calls:]
            if r.method == "POST"
            for i in r.body["inputs"]
        ]
        assert sorted(sent) == sorted(expected)
        assert third.rows_changed == len(expected)
        for key in expected:
            assert hubspot.contacts[key]["leadscore_lead_score"] == str(
                after[key]["leadscore_lead_score"]
            )


def test_dry_run_counts_and_samples_without_sending_or_touching_the_ledger(wh: Settings):
    rows = payload(wh, "sync_hubspot__contacts")
    invalid = sum(1 for key in rows if not (key and EMAIL.match(key)))
    with FakeHubSpot(TOKEN) as hubspot:
        report = run_sync("hubspot", wh, env=hubspot_env(hubspot), dry_run=True, policy=FAST)
        assert hubspot.requests == []
    assert (report.rows_added, report.rows_changed, report.rows_invalid) == (
        len(rows) - invalid,
        0,
        invalid,
    )
    assert report.rows_sent == 0 and len(report.sample) == 5
    assert all("***@" in row["sync_key"] for row in report.sample)  # no address leaves
    assert ledger(wh, "hubspot") == {}
    assert query(wh, "select mode, status from sync.sync_runs") == [("dry_run", "dry_run")]


def test_429_with_retry_after_and_5xx_are_retried_and_nothing_is_lost(wh: Settings):
    set_destination(wh, "hubspot", sync_mode="upsert")
    delays: list[float] = []
    with fake_hubspot(wh) as hubspot:
        hubspot.fail_next(429, retry_after="3")
        hubspot.fail_next(503)
        hubspot.fail_next_with_timeout()
        report = run_sync("hubspot", wh, env=hubspot_env(hubspot), policy=FAST, sleep=delays.append)
        assert delays[0] == 3.0  # Retry-After honoured
        assert len(delays) == 3 and all(d <= 0.01 for d in delays[1:])  # then back-off
        assert report.status == "partial"  # invalid emails were not sent
        # the three failed attempts, the preflight's property list, one call per batch
        assert report.api_calls == 3 + 1 + (report.rows_sent + 99) // 100
        assert set(hubspot.contacts) == set(ledger(wh, "hubspot"))
        assert report.rows_acknowledged == len(hubspot.contacts)


def test_auth_failure_stops_the_run_records_it_and_never_logs_the_token(
    wh: Settings, caplog: pytest.LogCaptureFixture
):
    with FakeHubSpot("the-real-token") as hubspot, pytest.raises(DestinationError) as error:
        run_sync("hubspot", wh, env=hubspot_env(hubspot), policy=FAST)
    assert "401" in str(error.value)
    assert TOKEN not in str(error.value) and TOKEN not in caplog.text
    assert not re.search(r"[\w.+-]+@[\w-]+\.[\w.]+", caplog.text)  # no email in any log line
    assert query(wh, "select status, rows_deferred > 0 from sync.sync_runs") == [("failed", True)]
    assert ledger(wh, "hubspot") == {}


def test_per_record_errors_are_logged_and_retried_on_later_runs(wh: Settings):
    rows = payload(wh, "sync_salesforce__leads")
    hot = {key for key, row in rows.items() if row["segment__c"] == "Enterprise Hot"}
    assert 0 < len(hot) < len(rows)
    # The Salesforce org starts empty (upsert creates the Leads); this test is about retries,
    # so no rejection threshold stops the runs.
    set_destination(wh, "salesforce", sync_mode="upsert", max_rejected_share=1.0)
    with FakeSalesforce(
        TOKEN,
        max_text_length=100_000,
        reject_values={"Segment__c": "Enterprise Hot"},
    ) as salesforce:
        env = {
            "LEADSCORE_SALESFORCE_TOKEN": TOKEN,
            "LEADSCORE_SALESFORCE_INSTANCE_URL": salesforce.base_url,
        }
        first = run_sync("salesforce", wh, env=env, policy=FAST)
        assert (first.rows_rejected, first.rows_acknowledged) == (len(hot), len(rows) - len(hot))
        assert all(len(r.body["records"]) <= 200 for r in posts(salesforce))
        logged = query(
            wh,
            "select sync_key, error from sync.sync_row_log where outcome = 'rejected'",
        )
        assert {key for key, _ in logged} == hot
        assert all("FIELD_CUSTOM_VALIDATION_EXCEPTION" in message for _, message in logged)
        assert set(ledger(wh, "salesforce")) == set(rows) - hot

        second = run_sync("salesforce", wh, env=env, policy=FAST)
        assert (second.rows_sent, second.rows_rejected) == (len(hot), len(hot))

        salesforce.reject_values.clear()  # the admin fixes the validation rule
        third = run_sync("salesforce", wh, env=env, policy=FAST)
        assert (third.rows_sent, third.rows_acknowledged) == (len(hot), len(hot))
        assert {key for (_, key) in salesforce.records} == set(rows)
        stored = salesforce.records[("Lead", next(iter(hot)))]
        assert stored["Segment__c"] == "Enterprise Hot"
        assert run_sync("salesforce", wh, env=env, policy=FAST).rows_sent == 0


def test_a_batch_the_destination_refuses_is_split_until_the_bad_rows_stand_alone(
    wh: Settings, postgres_database: str
):
    """An operational table with a constraint the payload breaks for a few leads."""
    conninfo = f"host=127.0.0.1 user=postgres dbname={postgres_database}"
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("create schema leadscore")
        conn.execute(
            "create table leadscore.lead_scores (contact_id text primary key, "
            "lead_score bigint, fit_score bigint, behavior_score bigint, fit_grade text, "
            "lead_stage text, segment text check (segment <> 'Enterprise Hot'), "
            "sales_action text, campaign_track text, queue text, owner_id text, "
            "owner_name text, score_reasons text, score_change bigint, "
            "outreach_suppressed boolean, score_updated_on date, "
            "synced_at timestamptz not null default now())"
        )
    rows = payload(wh, "sync_postgres__leads")
    high = {key for key, row in rows.items() if row["segment"] == "Enterprise Hot"}
    assert 0 < len(high) < 100

    env = {"LEADSCORE_SYNC_PG_CONNINFO": conninfo}
    report = run_sync("postgres", wh, env=env, policy=FAST)
    assert report.rows_rejected == len(high)
    assert report.api_calls > 1  # the single batch of 1,000 was split
    rejected = query(wh, "select sync_key, error from sync.sync_row_log where outcome = 'rejected'")
    assert {key for key, _ in rejected} == high
    assert all("CheckViolation" in error for _, error in rejected)
    with psycopg.connect(conninfo) as conn:
        stored = dict(conn.execute("select contact_id, segment from leadscore.lead_scores"))
    assert set(stored) == set(rows) - high
    assert all(stored[key] == rows[key]["segment"] for key in stored)


def test_postgres_destination_creates_its_table_and_deletes_removed_leads(
    wh: Settings, postgres_database: str
):
    conninfo = f"host=127.0.0.1 user=postgres dbname={postgres_database}"
    env = {"LEADSCORE_SYNC_PG_CONNINFO": conninfo}
    rows = payload(wh, "sync_postgres__leads")
    assert run_sync("postgres", wh, env=env, policy=FAST).rows_acknowledged == len(rows)
    with psycopg.connect(conninfo) as conn:
        stored = {
            key: (score, stage, day)
            for key, score, stage, day in conn.execute(
                "select contact_id, lead_score, lead_stage, score_updated_on "
                "from leadscore.lead_scores"
            )
        }
    assert stored == {
        key: (row["lead_score"], row["lead_stage"], row["score_updated_on"])
        for key, row in rows.items()
    }

    # A lead synced earlier has left the payload (e.g. deleted in the CRM): its row goes.
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("insert into leadscore.lead_scores (contact_id) values ('C-GONE')")
    with duckdb.connect(str(wh.duckdb_path)) as conn:
        conn.execute(
            "insert into sync.sync_ledger values "
            "('postgres', 'C-GONE', 'x', current_timestamp, 'earlier-run')"
        )
    report = run_sync("postgres", wh, env=env, policy=FAST)
    assert (report.rows_removed, report.rows_sent) == (1, 0)
    with psycopg.connect(conninfo) as conn:
        assert conn.execute("select count(*) from leadscore.lead_scores").fetchone() == (len(rows),)
    assert "C-GONE" not in ledger(wh, "postgres")
    assert len(ledger(wh, "postgres")) == len(rows)


def test_webhook_batches_are_signed_and_rejections_are_recorded(wh: Settings):
    rows = payload(wh, "sync_webhook__leads")
    refused = set(sorted(rows)[:3])
    with FakeWebhookReceiver("s3cret", reject_keys=refused) as receiver:
        env = {"LEADSCORE_WEBHOOK_URL": receiver.base_url, "LEADSCORE_WEBHOOK_SECRET": "s3cret"}
        report = run_sync("webhook", wh, env=env, policy=FAST)
        assert report.rows_rejected == 3 and report.rows_acknowledged == len(rows) - 3
        assert set(receiver.records) == set(rows) - refused
        assert (
            receiver.records[sorted(rows)[5]]["lead_score"] == rows[sorted(rows)[5]]["lead_score"]
        )

    with FakeWebhookReceiver("another secret") as receiver, pytest.raises(DestinationError):
        env = {"LEADSCORE_WEBHOOK_URL": receiver.base_url, "LEADSCORE_WEBHOOK_SECRET": "s3cret"}
        run_sync("webhook", wh, env=env, policy=FAST)  # the receiver refuses the signature
    assert receiver.records == {}


def test_files_destination_writes_only_changes(wh: Settings, tmp_path: Path):
    rows = payload(wh, "sync_files__leads")
    first = run_sync("files", wh, env={}, policy=FAST)
    files = sorted((tmp_path / "sync" / "leads").glob("changes-*.parquet"))
    assert len(files) == 1 and first.rows_sent == len(rows)
    table = pq.read_table(files[0]).to_pylist()
    assert {row["contact_id"]: row["lead_score"] for row in table} == {
        key: row["lead_score"] for key, row in rows.items()
    }
    assert run_sync("files", wh, env={}, policy=FAST).rows_sent == 0
    assert len(list((tmp_path / "sync" / "leads").glob("changes-*"))) == 1


def test_full_resync_sends_every_row_again(wh: Settings, tmp_path: Path):
    rows = payload(wh, "sync_files__leads")
    run_sync("files", wh, env={}, policy=FAST)
    again = run_sync("files", wh, env={}, policy=FAST, full_resync=True)
    assert (again.rows_sent, again.rows_unchanged, again.rows_added) == (len(rows), len(rows), 0)
    assert len(list((tmp_path / "sync" / "leads").glob("changes-*.parquet"))) == 2


def set_destination(settings: Settings, destination: str, **values: object) -> None:
    """What `dbt seed` does after an analyst edits sync_destinations.csv (the payload views
    read the seed table, so no rebuild is needed)."""
    assignments = ", ".join(f"{name} = ?" for name in values)
    with duckdb.connect(str(settings.duckdb_path)) as conn:
        conn.execute(
            f"update config.sync_destinations set {assignments} where destination = ?",
            [*values.values(), destination],
        )


def test_hubspot_can_match_by_a_unique_custom_property_instead_of_email(wh: Settings):
    set_destination(
        wh,
        "hubspot",
        match_key="external_id",
        id_property="leadscore_contact_id",
        sync_mode="upsert",
    )
    rows = payload(wh, "sync_hubspot__contacts")
    contact_ids = {c for (c,) in query(wh, "select contact_id from marts.dim_leads")}
    assert set(rows) == contact_ids  # the key is now the warehouse's contact id
    with fake_hubspot(wh, unique_properties={"email", "leadscore_contact_id"}) as hubspot:
        report = run_sync("hubspot", wh, env=hubspot_env(hubspot), policy=FAST)
        assert report.rows_invalid == 0  # leads without a valid email can be matched now
        assert set(hubspot.contacts) == contact_ids
        assert {i["idProperty"] for r in posts(hubspot) for i in r.body["inputs"]} == {
            "leadscore_contact_id"
        }


def test_the_rate_limit_in_the_seed_spaces_the_calls(wh: Settings):
    set_destination(wh, "hubspot", batch_size=50, max_requests_per_10s=4, sync_mode="upsert")
    waits: list[float] = []
    with fake_hubspot(wh) as hubspot:
        report = run_sync("hubspot", wh, env=hubspot_env(hubspot), policy=FAST, sleep=waits.append)
        assert all(len(r.body["inputs"]) <= 50 for r in posts(hubspot))
    # 21 calls (the preflight's property list and 20 batches) at 4 per 10 s: every call after
    # the first four waits for a slot.
    assert report.api_calls == 21
    assert len(waits) == 17 and all(0 < wait <= 10 for wait in waits)


def test_rate_limiter_allows_max_calls_per_window():
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    limiter = RateLimiter(3, 10.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.acquire()
    assert slept == []
    now[0] = 4.0
    limiter.acquire()  # the window is full until t=10
    assert slept == [6.0]
    now[0] = 25.0
    limiter.acquire()
    assert slept == [6.0]


def test_unsubscribed_leads_get_no_outreach_fields_where_the_destination_says_so(wh: Settings):
    unsubscribed = {
        email for (email,) in query(wh, "select email from marts.dim_leads where is_unsubscribed")
    }
    hubspot = payload(wh, "sync_hubspot__contacts")
    files = payload(wh, "sync_files__leads")
    assert unsubscribed and unsubscribed <= set(hubspot)
    for key, row in hubspot.items():  # HubSpot suppresses outreach (seed default)
        if key in unsubscribed:
            assert row["leadscore_sales_action"] is None
            assert row["leadscore_campaign_track"] is None
            assert row["leadscore_outreach_suppressed"] is True
        else:
            assert row["leadscore_sales_action"] is not None
    assert all(row["sales_action"] is not None for row in files.values())  # files do not

    set_destination(wh, "hubspot", suppress_outreach_when_unsubscribed=False)
    hubspot = payload(wh, "sync_hubspot__contacts")
    assert all(hubspot[key]["leadscore_sales_action"] is not None for key in unsubscribed)


def test_a_destination_failing_30_percent_of_calls_converges_to_exactly_the_payload(
    wh: Settings,
):
    rows = payload(wh, "sync_hubspot__contacts")
    valid = {key for key in rows if key and EMAIL.match(key)}
    policy = RetryPolicy(max_attempts=3, base_delay=0.0005, max_delay=0.002)
    set_destination(wh, "hubspot", sync_mode="upsert")
    with fake_hubspot(wh, failure_rate=0.3, lost_response_rate=0.1, seed=3) as hubspot:
        env = hubspot_env(hubspot)
        runs = []
        for _ in range(30):
            try:
                report = run_sync("hubspot", wh, env=env, policy=policy)
            except DestinationError:
                continue  # gave up after 3 attempts; the next run picks up what is left
            runs.append(report)
            if report.rows_sent == 0:
                break
        assert runs and runs[-1].rows_sent == 0, "did not converge in 30 runs"
        failed = [r for r in hubspot.requests if r.status >= 400]
        assert len(failed) > 5  # the faults did happen
        assert set(hubspot.contacts) == valid
        for key in valid:
            stored = hubspot.contacts[key]
            assert {name: stored[name] for name in rows[key]} == as_hubspot(rows[key])
    assert ledger(wh, "hubspot") == {
        key: h
        for key, h in payload_hashes(wh, "sync_hubspot__contacts", HUBSPOT_UNHASHED).items()
        if key in valid
    }


def _sync_process(settings: Settings, env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "orchestration.cli", "sync", "--destination", "hubspot"],
        env={
            **os.environ,
            **env,
            "LEADSCORE_TARGET": "duckdb",
            "LEADSCORE_DUCKDB_PATH": str(settings.duckdb_path),
            "LEADSCORE_DATA_DIR": str(settings.data_dir),
        },
        cwd=PROJECT_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.fixture
def killable(wh: Settings) -> Iterator[list[subprocess.Popen]]:
    processes: list[subprocess.Popen] = []
    yield processes
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_sync_killed_mid_run_loses_nothing_and_the_ledger_matches_the_destination(
    wh: Settings, killable: list[subprocess.Popen]
):
    rows = payload(wh, "sync_hubspot__contacts")
    valid = {key for key in rows if key and EMAIL.match(key)}
    set_destination(wh, "hubspot", sync_mode="upsert")
    with fake_hubspot(wh, delay_seconds=0.3) as hubspot:
        env = hubspot_env(hubspot)
        process = _sync_process(wh, env)
        killable.append(process)
        deadline = time.monotonic() + 120
        while hubspot.applied_calls < 3 and time.monotonic() < deadline:
            assert process.poll() is None, process.stdout.read()
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        applied_before_restart = set(hubspot.contacts)
        assert 0 < len(applied_before_restart) < len(valid)

        # What the ledger claims was acknowledged, the destination holds, value for value.
        recorded = ledger(wh, "hubspot")
        assert set(recorded) <= applied_before_restart
        expected = payload_hashes(wh, "sync_hubspot__contacts", HUBSPOT_UNHASHED)
        assert all(recorded[key] == expected[key] for key in recorded)

        finish = _sync_process(wh, env)
        killable.append(finish)
        output, _ = finish.communicate(timeout=300)
        assert finish.returncode == 0, output
        assert set(hubspot.contacts) == valid
        for key in valid:
            stored = hubspot.contacts[key]
            assert {name: stored[name] for name in rows[key]} == as_hubspot(rows[key])
    assert ledger(wh, "hubspot") == {key: expected[key] for key in valid}
    statuses = [s for (s,) in query(wh, "select status from sync.sync_runs order by started_at")]
    assert statuses == ["interrupted", "partial"]  # partial: the invalid emails


def test_dagster_syncs_each_configured_destination_with_metadata_and_skips_the_others(
    wh: Settings, monkeypatch: pytest.MonkeyPatch
):
    """The sync assets materialized by Dagster (after a dbt build; that the blocking checks
    stop them is tests/test_quality.py's bad-batch test)."""
    import dagster as dg

    from orchestration.defs.sync.assets import SYNC_ASSETS

    for name in (
        "LEADSCORE_SALESFORCE_TOKEN",
        "LEADSCORE_SALESFORCE_CLIENT_ID",
        "LEADSCORE_WEBHOOK_URL",
        "LEADSCORE_SYNC_PG_CONNINFO",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in wh.dbt_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(wh.data_dir))
    set_destination(wh, "hubspot", sync_mode="upsert")

    with fake_hubspot(wh) as hubspot:
        for name, value in hubspot_env(hubspot).items():
            monkeypatch.setenv(name, value)
        results = [
            dg.materialize(SYNC_ASSETS, instance=dg.DagsterInstance.ephemeral()) for _ in range(2)
        ]
        first, second = (
            {
                m.asset_key.path[1]: {k: v.value for k, v in m.metadata.items()}
                for m in (e.materialization for e in result.get_asset_materialization_events())
                if m.asset_key in SYNC_KEYS
            }
            for result in results
        )
        assert all(result.success for result in results)
        assert set(first) == {"files", "hubspot"}  # the others have no connection settings
        [(leads,)] = query(wh, "select count(*) from marts.dim_leads")
        assert first["files"]["sent"] == leads > 900  # every lead, once
        for metadata in first.values():
            assert {"sent", "unchanged", "failed", "duration_seconds"} <= set(metadata)
        assert first["hubspot"]["sent"] == len(hubspot.contacts) + first["hubspot"]["rejected"]
        assert first["hubspot"]["failed"] == first["hubspot"]["invalid"] > 0
        calls = len(hubspot.requests)
        assert second["hubspot"]["sent"] == 0 and second["files"]["sent"] == 0
        assert second["hubspot"]["unchanged"] == len(hubspot.contacts)
        assert len(hubspot.requests) == calls
