"""Unattended operation: schedules and sensors are defined and load, a new landing file makes
the sensor request a run, a failed run is reported to a webhook, and a past as-of date can be
scored through run config (backfills)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import ClassVar

import dagster as dg
import duckdb
import pytest

from orchestration.definitions import REFRESH_JOB_NAME, defs
from orchestration.defs.automation.sensors import landing_files_sensor, notify_on_run_failure
from orchestration.defs.resources import WarehouseResource
from orchestration.demo.generator import generate_demo_data
from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.lib.settings import PROJECT_ROOT
from tests.conftest import INFO_LOGS, TODAY

# What the definitions give the sensor, for calling it directly.
RESOURCES = {"warehouse": WarehouseResource()}


def test_schedules_and_sensors_are_defined_and_the_definitions_validate():
    schedules = {s.name: s for s in defs.schedules}
    assert schedules["daily_scoring_refresh"].cron_schedule == "0 5 * * *"
    assert schedules["daily_scoring_refresh"].job_name == REFRESH_JOB_NAME
    assert schedules["hourly_events_refresh"].job_name == "refresh_new_events"
    assert {s.name for s in defs.sensors} == {"landing_files_sensor", "notify_on_run_failure"}

    bin_dir = Path(sys.executable).parent
    completed = subprocess.run(
        [str(bin_dir / "dagster"), "definitions", "validate", "-m", "orchestration.definitions"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "PATH": os.pathsep.join([str(bin_dir), os.environ["PATH"]])},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Validation successful" in completed.stderr + completed.stdout


def test_landing_sensor_requests_a_run_for_new_files_only(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    (landing / "crm_owners").mkdir(parents=True)
    monkeypatch.setenv("LEADSCORE_LANDING_DIR", str(landing))
    header = ",".join(RAW_CONTRACT["crm_owners"])

    with dg.instance_for_test() as instance:
        empty = landing_files_sensor(
            dg.build_sensor_context(instance=instance, resources=RESOURCES)
        )
        assert isinstance(empty, dg.SkipReason)

        (landing / "crm_owners" / "a.csv").write_text(f"{header}\nO1,Ann,,AE,NA\n")
        context = dg.build_sensor_context(instance=instance, resources=RESOURCES)
        first = landing_files_sensor(context)
        assert isinstance(first, dg.RunRequest)
        assert first.tags["leadscore/new_landing_files"] == "1"

        again = landing_files_sensor(
            dg.build_sensor_context(instance=instance, cursor=context.cursor, resources=RESOURCES)
        )
        assert isinstance(again, dg.SkipReason)

        (landing / "crm_owners" / "b.csv").write_text(f"{header}\nO2,Bo,,SDR,NA\n")
        later = dg.build_sensor_context(
            instance=instance, cursor=context.cursor, resources=RESOURCES
        )
        second = landing_files_sensor(later)
        assert isinstance(second, dg.RunRequest)
        assert second.tags["leadscore/new_landing_files"] == "1"
        assert second.run_key != first.run_key


class _Recorder(BaseHTTPRequestHandler):
    received: ClassVar[list[dict]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Recorder.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        """Quiet: the test asserts on what was received."""


def test_a_failed_run_is_posted_to_the_alert_webhook(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    (landing / "crm_owners").mkdir(parents=True)
    header = ",".join(RAW_CONTRACT["crm_owners"])
    (landing / "crm_owners" / "bad.csv").write_text(f"{header}\nO1,Ann,secret@x.io,AE,NA,x\n")
    server = HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADSCORE_LANDING_DIR", str(landing))
    monkeypatch.setenv("LEADSCORE_TARGET", "duckdb")
    monkeypatch.setenv("LEADSCORE_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{server.server_port}/")
    _Recorder.received.clear()
    try:
        with dg.instance_for_test() as instance:
            result = defs.resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
                instance=instance, raise_on_error=False, run_config=INFO_LOGS
            )
            assert not result.success
            failure = next(e for e in result.all_events if e.event_type_value == "PIPELINE_FAILURE")
            context = dg.build_run_status_sensor_context(
                sensor_name="notify_on_run_failure",
                dagster_event=failure,
                dagster_instance=instance,
                dagster_run=result.dagster_run,
            ).for_run_failure()
            notify_on_run_failure(context)
    finally:
        server.shutdown()

    assert len(_Recorder.received) == 1
    notice = _Recorder.received[0]
    assert notice["job"] == REFRESH_JOB_NAME
    assert notice["run_id"] == result.run_id
    assert "ingest_landing_files" in notice["error"]
    assert "secret@x.io" not in json.dumps(notice)


@pytest.fixture
def small_landing(tmp_path, monkeypatch) -> Path:
    landing = tmp_path / "landing"
    generate_demo_data(landing, contacts=1_000, events=20_000, seed=3, as_of=TODAY, progress=False)
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADSCORE_LANDING_DIR", str(landing))
    monkeypatch.setenv("LEADSCORE_TARGET", "duckdb")
    monkeypatch.delenv("LEADSCORE_AS_OF_DATE", raising=False)
    return tmp_path


def backfill_config(as_of_date: str) -> dict:
    return {**INFO_LOGS, "ops": {"leadscore_dbt_models": {"config": {"as_of_date": as_of_date}}}}


def test_run_config_scores_a_past_as_of_date(small_landing):
    past = "2026-06-30"
    result = defs.resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=backfill_config(past)
    )
    assert result.success
    with duckdb.connect(str(small_landing / "warehouse.duckdb"), read_only=True) as conn:
        history = conn.execute(
            "select distinct cast(as_of_date as varchar) from marts.fct_lead_score_history"
        ).fetchall()
        leads = conn.execute(
            "select distinct cast(as_of_date as varchar) from marts.dim_leads"
        ).fetchall()
    assert history == [(past,)]
    assert leads == [(past,)]


def test_a_malformed_as_of_date_fails_the_run_with_a_clear_message(small_landing):
    result = defs.resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        run_config=backfill_config("30/06/2026"),
        raise_on_error=False,
    )
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "as_of_date must be a date as YYYY-MM-DD, got '30/06/2026'" in (
        failure.step_failure_data.error.to_string()
    )
