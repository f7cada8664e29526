"""Reverse ETL guards: only today's scores leave the warehouse, the CRMs are written in the
seed's sync mode, missing CRM fields stop a sync before its first batch, Salesforce tokens
are renewed, too many rejected rows fail the run, and no URL or secret reaches a log.

Against the local fakes of HubSpot, Salesforce and the webhook receiver (tests/fakes) and a
real dbt build of 1,000 generated leads (the `built` warehouse of tests/test_sync.py)."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from orchestration.defs.sync.assets import sync_asset_key
from orchestration.lib.settings import PROJECT_ROOT, Settings
from orchestration.sync import runner
from orchestration.sync.engine import DestinationError, PreflightError, SyncThresholdError
from orchestration.sync.runner import run_sync
from tests import test_sync
from tests.fakes.hubspot import FakeHubSpot
from tests.fakes.salesforce import DEFAULT_SOBJECTS, FakeSalesforce
from tests.fakes.webhook import FakeWebhookReceiver
from tests.test_sync import (
    EMAIL,
    FAST,
    TOKEN,
    fake_hubspot,
    hubspot_env,
    ledger,
    payload,
    posts,
    query,
    set_destination,
)

# The 1,000-lead warehouse of tests/test_sync.py (built once per module, copied per test).
built = test_sync.built
wh = test_sync.wh

SECRET = "whsec-7f3a"
CLIENT_ID = "3MVG9-test-consumer-key"
CLIENT_SECRET = "sf-consumer-secret-1955"
REFRESH_TOKEN = "5Aep861-test-refresh-token"
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+")


def today() -> date:
    return datetime.now(UTC).date()


def salesforce_env(server: FakeSalesforce, **extra: str) -> dict[str, str]:
    return {
        "LEADSCORE_SALESFORCE_INSTANCE_URL": server.base_url,
        "LEADSCORE_SALESFORCE_CLIENT_ID": CLIENT_ID,
        "LEADSCORE_SALESFORCE_CLIENT_SECRET": CLIENT_SECRET,
        "LEADSCORE_SALESFORCE_REFRESH_TOKEN": REFRESH_TOKEN,
        **extra,
    }


def oauth_salesforce(**kwargs) -> FakeSalesforce:
    """An org with a connected app and the refresh token it issued; no access token yet."""
    return FakeSalesforce(
        None,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        refresh_token=REFRESH_TOKEN,
        max_text_length=100_000,
        **kwargs,
    )


def row_log(settings: Settings, destination: str, outcome: str) -> dict[str, str]:
    rows = query(
        settings,
        "select sync_key, error from sync.sync_row_log "
        f"where destination = '{destination}' and outcome = '{outcome}'",
    )
    return dict(rows)


# -- 1. only the current as-of date is synced --------------------------------------------------


def test_a_payload_scored_for_a_past_date_is_skipped_unless_the_run_allows_it(
    wh: Settings, postgres_database: str, tmp_path: Path
):
    """The warehouse was scored today; seen from 40 days later it is a past date, which is
    what a backfill or a calibration snapshot leaves in the warehouse."""
    later = datetime.now(UTC) + timedelta(days=40)
    scored = today()
    conninfo = f"host=127.0.0.1 user=postgres dbname={postgres_database}"
    with (
        fake_hubspot(wh) as hubspot,
        oauth_salesforce() as salesforce,
        FakeWebhookReceiver(SECRET) as receiver,
    ):
        env = {
            **hubspot_env(hubspot),
            **salesforce_env(salesforce),
            "LEADSCORE_WEBHOOK_URL": receiver.base_url,
            "LEADSCORE_WEBHOOK_SECRET": SECRET,
            "LEADSCORE_SYNC_PG_CONNINFO": conninfo,
            # The calibration recipe pins the run's date explicitly: that does not make it
            # current.
            "LEADSCORE_AS_OF_DATE": scored.isoformat(),
        }
        for name in runner.DESTINATIONS:
            report = run_sync(name, wh, env=env, now=later, policy=FAST)
            assert report.status == "skipped", name
            assert f"as of {scored.isoformat()}" in report.skip_reason
            assert "--allow-past-as-of" in report.skip_reason
            assert report.rows_sent == report.api_calls == 0
        assert hubspot.requests == salesforce.requests == receiver.requests == []
    assert query(wh, "select count(*) from sync.sync_ledger") == [(0,)]
    assert not (tmp_path / "sync").exists()  # no file written
    runs = query(wh, "select destination, status, as_of_date, skip_reason from sync.sync_runs")
    assert {(d, s, a) for d, s, a, _ in runs} == {
        (name, "skipped", scored) for name in runner.DESTINATIONS
    }
    assert all("past date" in reason for *_, reason in runs)

    # A deliberate choice sends them.
    with FakeWebhookReceiver(SECRET) as receiver:
        env = {"LEADSCORE_WEBHOOK_URL": receiver.base_url, "LEADSCORE_WEBHOOK_SECRET": SECRET}
        report = run_sync("webhook", wh, env=env, now=later, allow_past_as_of=True, policy=FAST)
        assert report.status == "success" and report.rows_acknowledged > 900
        assert len(receiver.records) == report.rows_acknowledged

    # Today the same payload is current: a normal run syncs.
    report = run_sync("files", wh, env={}, policy=FAST)
    assert report.status == "success" and report.rows_sent > 900


def test_current_as_of_dates_accept_a_run_that_crosses_midnight_but_no_past_pinned_date():
    from orchestration.sync.engine import current_as_of_dates

    now = datetime(2026, 7, 2, 0, 20, tzinfo=UTC)
    started = datetime(2026, 7, 1, 23, 50, tzinfo=UTC)
    dates, _ = current_as_of_dates({}, now, started)
    assert dates == {date(2026, 7, 1), date(2026, 7, 2)}
    dates, note = current_as_of_dates({"LEADSCORE_AS_OF_DATE": "2026-04-03"}, now)
    assert dates == {date(2026, 7, 2)} and "backfill" in note
    dates, _ = current_as_of_dates({"LEADSCORE_AS_OF_DATE": "2026-07-03"}, now)
    assert dates == {date(2026, 7, 2), date(2026, 7, 3)}  # a time zone ahead of UTC


def test_dagster_sync_assets_skip_a_past_date_with_the_reason_in_the_metadata(
    wh: Settings, monkeypatch: pytest.MonkeyPatch
):
    import dagster as dg

    from orchestration.defs.sync.assets import SYNC_ASSETS

    for name in (
        "LEADSCORE_HUBSPOT_TOKEN",
        "LEADSCORE_SALESFORCE_TOKEN",
        "LEADSCORE_SALESFORCE_CLIENT_ID",
        "LEADSCORE_SYNC_PG_CONNINFO",
    ):
        monkeypatch.delenv(name, raising=False)
    for name, value in wh.dbt_env().items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(wh.data_dir))
    monkeypatch.setattr(runner, "_clock", lambda: datetime.now(UTC) + timedelta(days=92))

    with FakeWebhookReceiver(SECRET) as receiver:
        monkeypatch.setenv("LEADSCORE_WEBHOOK_URL", receiver.base_url)
        monkeypatch.setenv("LEADSCORE_WEBHOOK_SECRET", SECRET)
        result = dg.materialize(SYNC_ASSETS, instance=dg.DagsterInstance.ephemeral())
        assert result.success
        assert receiver.requests == []
        observed = {
            e.event_specific_data.asset_observation.asset_key.path[1]: {
                k: v.value for k, v in e.event_specific_data.asset_observation.metadata.items()
            }
            for e in result.get_asset_observation_events()
        }
        assert set(observed) == {"files", "webhook"}
        for metadata in observed.values():
            assert metadata["status"] == "skipped" and metadata["sent"] == 0
            assert metadata["as_of_date"] == today().isoformat()
            assert "past date" in metadata["skip_reason"]
        materialized = {
            e.materialization.asset_key for e in result.get_asset_materialization_events()
        }
        assert not materialized & {sync_asset_key(n) for n in runner.DESTINATIONS}

        allowed = dg.materialize(
            SYNC_ASSETS,
            instance=dg.DagsterInstance.ephemeral(),
            run_config={"ops": {"sync_webhook": {"config": {"allow_past_as_of": True}}}},
        )
        assert allowed.success
        keys = {e.materialization.asset_key for e in allowed.get_asset_materialization_events()}
        assert sync_asset_key("webhook") in keys and sync_asset_key("files") not in keys
        assert len(receiver.records) > 900


# -- 2. sync modes -----------------------------------------------------------------------------


def test_update_mode_writes_only_the_records_the_crm_has_and_logs_the_others_as_refused(
    wh: Settings,
):
    contacts = payload(wh, "sync_hubspot__contacts")
    valid = sorted(key for key in contacts if key and EMAIL.match(key))
    known = set(valid[::2])  # HubSpot has every other lead
    leads = payload(wh, "sync_salesforce__leads")
    in_org = set(sorted(leads)[::3])
    with fake_hubspot(wh) as hubspot, oauth_salesforce() as salesforce:
        for key in known:
            hubspot.add_contact(key, firstname="Kept")
        for key in in_org:
            salesforce.add_record("Lead", key, LastName="Kept", Company="Acme")

        report = run_sync("hubspot", wh, env=hubspot_env(hubspot), policy=FAST)  # seed: update
        assert set(hubspot.contacts) == known  # nothing created
        assert all(c["leadscore_lead_score"] is not None for c in hubspot.contacts.values())
        assert all(c["firstname"] == "Kept" for c in hubspot.contacts.values())
        paths = {r.path for r in posts(hubspot)}
        assert paths == {
            "/crm/v3/objects/contacts/batch/read",
            "/crm/v3/objects/contacts/batch/update",
        }
        assert (report.rows_acknowledged, report.rows_refused) == (
            len(known),
            len(valid) - len(known),
        )
        assert report.status == "partial"  # the invalid emails; refused rows are not failures
        refused = row_log(wh, "hubspot", "refused")
        assert set(refused) == set(valid) - known
        assert all("sync_mode update does not create records" in e for e in refused.values())

        sf = run_sync("salesforce", wh, env=salesforce_env(salesforce), policy=FAST)
        assert {key for (_, key) in salesforce.records} == in_org
        assert all(r["Lead_Score__c"] is not None for r in salesforce.records.values())
        assert (sf.rows_acknowledged, sf.rows_refused) == (len(in_org), len(leads) - len(in_org))
        assert set(row_log(wh, "salesforce", "refused")) == set(leads) - in_org

        # Refused rows are not retried run after run...
        calls = len(hubspot.requests), len(salesforce.requests)
        assert run_sync("hubspot", wh, env=hubspot_env(hubspot), policy=FAST).rows_sent == 0
        assert (
            run_sync("salesforce", wh, env=salesforce_env(salesforce), policy=FAST).rows_sent == 0
        )
        assert (len(hubspot.requests), len(salesforce.requests)) == calls

        # ...but a full resync picks up a lead created in the CRM since.
        newcomer = sorted(set(valid) - known)[0]
        hubspot.add_contact(newcomer)
        again = run_sync("hubspot", wh, env=hubspot_env(hubspot), full_resync=True, policy=FAST)
        assert again.rows_acknowledged == len(known) + 1
        assert hubspot.contacts[newcomer]["leadscore_grade"] == str(
            contacts[newcomer]["leadscore_grade"]
        )


def test_insert_mode_creates_only_the_records_the_crm_lacks(wh: Settings):
    set_destination(wh, "hubspot", sync_mode="insert")
    set_destination(wh, "salesforce", sync_mode="insert")
    contacts = payload(wh, "sync_hubspot__contacts")
    valid = sorted(key for key in contacts if key and EMAIL.match(key))
    existing = set(valid[:40])
    leads = payload(wh, "sync_salesforce__leads")
    in_org = set(sorted(leads)[:25])
    with fake_hubspot(wh) as hubspot, oauth_salesforce() as salesforce:
        for key in existing:
            hubspot.add_contact(key, leadscore_grade="untouched")
        for key in in_org:
            salesforce.add_record("Lead", key, Lead_Grade__c="untouched")

        report = run_sync("hubspot", wh, env=hubspot_env(hubspot), policy=FAST)
        assert set(hubspot.contacts) == set(valid)
        assert all(hubspot.contacts[k]["leadscore_grade"] == "untouched" for k in existing)
        assert (report.rows_acknowledged, report.rows_refused) == (
            len(valid) - len(existing),
            len(existing),
        )
        assert {r.path for r in posts(hubspot)} == {
            "/crm/v3/objects/contacts/batch/read",
            "/crm/v3/objects/contacts/batch/create",
        }
        assert all(
            "sync_mode insert does not update" in e
            for e in row_log(wh, "hubspot", "refused").values()
        )

        sf = run_sync("salesforce", wh, env=salesforce_env(salesforce), policy=FAST)
        assert {key for (_, key) in salesforce.records} == set(leads)
        assert all(salesforce.records[("Lead", k)]["Lead_Grade__c"] == "untouched" for k in in_org)
        assert (sf.rows_acknowledged, sf.rows_refused) == (len(leads) - len(in_org), len(in_org))


# -- 3. preflight and `leadscore hubspot-setup` ------------------------------------------------


def test_missing_hubspot_properties_stop_the_sync_until_hubspot_setup_creates_them(
    wh: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
):
    from orchestration.cli import main

    with FakeHubSpot(TOKEN, known_properties=set()) as hubspot:  # a fresh account
        env = hubspot_env(hubspot)
        with pytest.raises(PreflightError) as stopped:
            run_sync("hubspot", wh, env=env, policy=FAST)
        message = str(stopped.value)
        for name in ("leadscore_lead_score", "leadscore_grade", "leadscore_updated_on"):
            assert name in message
        assert "leadscore hubspot-setup" in message
        assert [(r.method, r.path) for r in hubspot.requests] == [
            ("GET", "/crm/v3/properties/contacts")
        ]  # one call, no batch
        assert query(wh, "select status, rows_sent, rows_deferred > 0 from sync.sync_runs") == [
            ("failed", 0, True)
        ]
        assert ledger(wh, "hubspot") == {}

        for name, value in {**wh.dbt_env(), **env}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("LEADSCORE_DATA_DIR", str(wh.data_dir))
        hubspot.clear_requests()
        assert main(["hubspot-setup"]) == 0
        assert "13 properties created" in capsys.readouterr().out
        created = hubspot.properties
        assert hubspot.groups["leadscore"]["label"] == "Lead scoring"
        expected_types = {
            "leadscore_lead_score": ("number", "number"),
            "leadscore_outreach_suppressed": ("bool", "booleancheckbox"),
            "leadscore_updated_on": ("date", "date"),
            "leadscore_score_reasons": ("string", "textarea"),
            "leadscore_segment": ("string", "text"),
        }
        for name, (kind, field_type) in expected_types.items():
            assert (created[name]["type"], created[name]["fieldType"]) == (kind, field_type)
            assert created[name]["groupName"] == "leadscore"

        hubspot.clear_requests()
        assert main(["hubspot-setup"]) == 0  # idempotent: reads, creates nothing
        assert "0 properties created, 13 already there" in capsys.readouterr().out
        assert {r.method for r in hubspot.requests} == {"GET"}

        set_destination(wh, "hubspot", sync_mode="upsert")
        report = run_sync("hubspot", wh, env=env, policy=FAST)
        assert report.rows_acknowledged > 900
        stored = next(iter(hubspot.contacts.values()))
        assert stored["leadscore_updated_on"] == today().isoformat()


def test_hubspot_setup_creates_a_unique_matching_property(
    wh: Settings, monkeypatch: pytest.MonkeyPatch
):
    from orchestration.sync.hubspot_setup import hubspot_setup

    set_destination(wh, "hubspot", match_key="external_id", id_property="leadscore_contact_id")
    with FakeHubSpot(TOKEN, known_properties=set()) as hubspot:
        report = hubspot_setup(wh, env=hubspot_env(hubspot), policy=FAST)
        assert "leadscore_contact_id" in report.created
        assert hubspot.properties["leadscore_contact_id"]["hasUniqueValue"] is True


def test_missing_salesforce_fields_stop_the_sync_with_one_message(wh: Settings):
    lead_fields = DEFAULT_SOBJECTS["Lead"] - {"Segment__c", "Score_Reasons__c"}
    with oauth_salesforce(
        sobjects={"Lead": lead_fields}, read_only_fields={"Lead": {"Lead_Grade__c"}}
    ) as salesforce:
        with pytest.raises(PreflightError) as stopped:
            run_sync("salesforce", wh, env=salesforce_env(salesforce), policy=FAST)
        message = str(stopped.value)
        assert "Segment__c" in message and "Score_Reasons__c" in message
        assert "Object Manager > Lead" in message
        assert "cannot write Lead_Grade__c" in message
        api_calls = [r for r in salesforce.requests if r.path != "/services/oauth2/token"]
        assert [(r.method, r.path) for r in api_calls] == [
            ("GET", "/services/data/v60.0/sobjects/Lead/describe")
        ]
        assert salesforce.records == {}


# -- 4. Salesforce OAuth ------------------------------------------------------------------------


def test_salesforce_renews_expiring_access_tokens_and_never_logs_a_secret(
    wh: Settings, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    leads = payload(wh, "sync_salesforce__leads")
    set_destination(wh, "salesforce", sync_mode="upsert", batch_size=100)
    # Each access token lasts three API calls: the sync (a describe and ten batches) has to
    # renew it several times.
    with oauth_salesforce(token_lifetime_calls=3) as salesforce:
        report = run_sync("salesforce", wh, env=salesforce_env(salesforce), policy=FAST)
        assert report.status == "success"
        assert {key for (_, key) in salesforce.records} == set(leads)
        assert salesforce.tokens_issued.count("refresh_token") >= 4
        expired = [r for r in salesforce.requests if r.status == 401]
        assert expired and all(
            r.response_body[0]["errorCode"] == "INVALID_SESSION_ID" for r in expired
        )
        token_calls = [r for r in salesforce.requests if r.path == "/services/oauth2/token"]
        assert all(
            r.raw_body.decode().startswith("grant_type=refresh_token&client_id=")
            for r in token_calls
        )

        # Unattended: the session times out between runs.
        salesforce.expire_access_tokens()
        set_destination(wh, "salesforce", sync_mode="upsert", batch_size=100)
        full = run_sync(
            "salesforce", wh, env=salesforce_env(salesforce), full_resync=True, policy=FAST
        )
        assert full.rows_acknowledged == len(leads)

        # A revoked refresh token stops the run with a message naming what to fix.
        salesforce.refresh_token = "another"
        salesforce.expire_access_tokens()
        with pytest.raises(DestinationError) as refused:
            run_sync(
                "salesforce", wh, env=salesforce_env(salesforce), full_resync=True, policy=FAST
            )
        assert "invalid_grant" in str(refused.value)
        assert "LEADSCORE_SALESFORCE_REFRESH_TOKEN" in str(refused.value)

    recorded = " ".join(str(r) for r in query(wh, "select * from sync.sync_runs"))
    recorded += " ".join(str(r) for r in query(wh, "select * from sync.sync_row_log"))
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, "00DDn0000000001!"):
        assert secret not in caplog.text and secret not in recorded
        assert secret not in str(refused.value)


def test_salesforce_client_credentials_flow(wh: Settings):
    set_destination(wh, "salesforce", sync_mode="upsert")
    with oauth_salesforce(client_credentials=True) as salesforce:
        env = salesforce_env(salesforce)
        del env["LEADSCORE_SALESFORCE_REFRESH_TOKEN"]
        report = run_sync("salesforce", wh, env=env, policy=FAST)
        assert report.rows_acknowledged == len(payload(wh, "sync_salesforce__leads"))
        assert salesforce.tokens_issued == ["client_credentials"]


# -- 5. a sync with too many rejected rows fails -----------------------------------------------


def test_a_sync_above_max_rejected_share_is_recorded_then_fails(wh: Settings):
    leads = payload(wh, "sync_salesforce__leads")
    nurture = {key for key, row in leads.items() if row["segment__c"] == "SMB Nurture"}
    assert len(nurture) > 0.05 * len(leads)
    set_destination(wh, "salesforce", sync_mode="upsert")
    with (
        oauth_salesforce(reject_values={"Segment__c": "SMB Nurture"}) as salesforce,
        pytest.raises(SyncThresholdError) as failed,
    ):
        run_sync("salesforce", wh, env=salesforce_env(salesforce), policy=FAST)
    message = str(failed.value)
    assert f"{len(nurture):,} of {len(leads):,} rows failed" in message
    assert "max_rejected_share 5%" in message
    assert f"FIELD_CUSTOM_VALIDATION_EXCEPTION (Segment__c) ({len(nurture):,})" in message
    assert not ADDRESS.search(message)
    # The run and its acknowledged rows were recorded before it failed.
    [(status, acknowledged, rejected, error)] = query(
        wh, "select status, rows_acknowledged, rows_rejected, error from sync.sync_runs"
    )
    assert (status, acknowledged, rejected) == ("failed", len(leads) - len(nurture), len(nurture))
    assert "SyncThresholdError" in error
    assert set(ledger(wh, "salesforce")) == set(leads) - nurture


def _cli(settings: Settings, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LEADSCORE_")}
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        env={**clean, **settings.dbt_env(), "LEADSCORE_DATA_DIR": str(settings.data_dir), **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_leadscore_sync_exits_non_zero_and_the_asset_fails_above_the_threshold(
    wh: Settings, monkeypatch: pytest.MonkeyPatch
):
    import dagster as dg

    from orchestration.defs.sync.assets import SYNC_ASSETS

    rows = payload(wh, "sync_webhook__leads")
    refused = set(sorted(rows)[: len(rows) // 10])  # 10% of the leads
    with FakeWebhookReceiver(SECRET, reject_keys=refused) as receiver:
        env = {"LEADSCORE_WEBHOOK_URL": receiver.base_url, "LEADSCORE_WEBHOOK_SECRET": SECRET}
        done = _cli(wh, "sync", "--destination", "webhook", env=env)
        assert done.returncode == 1, done.stdout + done.stderr
        assert "webhook: FAILED" in done.stderr
        assert f"rejected by the receiver ({len(refused):,})" in done.stderr

        for name in ("LEADSCORE_HUBSPOT_TOKEN", "LEADSCORE_SALESFORCE_TOKEN"):
            monkeypatch.delenv(name, raising=False)
        for name, value in {**wh.dbt_env(), **env}.items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("LEADSCORE_DATA_DIR", str(wh.data_dir))
        result = dg.materialize(
            [a for a in SYNC_ASSETS if sync_asset_key("webhook") in a.keys],
            instance=dg.DagsterInstance.ephemeral(),
            raise_on_error=False,
        )
        assert not result.success  # the run-failure sensor alerts on it
    statuses = [s for (s,) in query(wh, "select status from sync.sync_runs order by started_at")]
    assert statuses == ["failed", "failed"]


# -- 6. the webhook URL as configured, nothing secret in a log ---------------------------------


def test_the_webhook_gets_its_url_as_configured_and_no_url_or_secret_reaches_a_log(
    wh: Settings, caplog: pytest.LogCaptureFixture
):
    caplog.set_level(logging.DEBUG)
    with FakeWebhookReceiver(SECRET) as receiver:
        url = f"{receiver.base_url}/hooks/leadscore?key=Q-SECRET-42&v=2"
        env = {"LEADSCORE_WEBHOOK_URL": url, "LEADSCORE_WEBHOOK_SECRET": SECRET}
        report = run_sync("webhook", wh, env=env, policy=FAST)
        assert report.status == "success" and report.rows_acknowledged > 900
        assert {(r.path, str(r.query)) for r in receiver.requests} == {
            ("/hooks/leadscore", str({"key": ["Q-SECRET-42"], "v": ["2"]}))
        }
        assert "sent" in caplog.text  # the sync did log its progress
        for text in ("Q-SECRET-42", f"127.0.0.1:{receiver.port}", "/hooks/leadscore", SECRET):
            assert text not in caplog.text

        # `leadscore sync` logs at INFO, httpx's request lines included before the fix.
        done = _cli(wh, "sync", "--destination", "webhook", "--full-resync", env=env)
        assert done.returncode == 0, done.stderr
        assert "webhook: sent" in done.stdout
        for text in ("Q-SECRET-42", f"127.0.0.1:{receiver.port}"):
            assert text not in done.stdout + done.stderr


def test_the_scoring_date_column_is_found_on_every_engine(warehouse):
    """PostgreSQL returns no column types for an empty result, so the payload's scoring date
    is found in the catalog there; on both engines a past date is refused by name."""
    from types import SimpleNamespace

    from orchestration.sync.engine import SyncEngine, SyncOptions, SyncReport

    warehouse.execute("create schema sync_probe")
    warehouse.execute(
        "create table sync_probe.payload (contact_id varchar, as_of_date date, lead_score integer)"
    )
    warehouse.execute("insert into sync_probe.payload values ('C1', date '2026-01-05', 40)")
    engine = SyncEngine(
        warehouse,
        SimpleNamespace(name="files"),
        schema="sync_probe",
        payload_table="payload",
        options=SyncOptions(
            unhashed=("lead_score", "as_of_date"),
            current_dates=frozenset({date(2026, 3, 1)}),
            current_note="today in UTC (2026-03-01)",
        ),
    )
    reason = engine._as_of_skip_reason(SyncReport("files", "run", "incremental"))
    assert reason is not None and "the scores are as of 2026-01-05" in reason
