"""End to end at the foundation's acceptance scale (20k contacts / 1M events): real Dagster
runs of the refresh job, real dbt builds, DuckDB and PostgreSQL from the same landing files."""

from __future__ import annotations

import json
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.lib.dbt_manifest import dbt_project, relation_name
from orchestration.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings
from orchestration.lib.warehouse import connect
from tests.conftest import AS_OF, run_refresh, settings_for

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

# Where each kind of dirty data the generator injects must end up, and with which reason.
DIRTY_KIND_OUTCOME = {
    "duplicate_contact_email": ("crm_contacts", "merged", "duplicate_email"),
    "null_contact_id": ("crm_contacts", "quarantined", "missing_contact_id"),
    "invalid_email": ("crm_contacts", "flagged", "invalid_email"),
    "freemail_email": ("crm_contacts", "flagged", "freemail_domain"),
    "null_company_id": ("crm_companies", "quarantined", "missing_company_id"),
    "negative_employee_count": ("crm_companies", "flagged", "invalid_employee_count"),
    "unknown_contact_event": ("marketing_events", "quarantined", "unknown_contact"),
    "unknown_event_type": ("marketing_events", "quarantined", "unknown_event_type"),
    "future_event": ("marketing_events", "quarantined", "future_event"),
    "null_event_identity": ("marketing_events", "quarantined", "missing_identity"),
    "null_event_id": ("marketing_events", "quarantined", "missing_event_id"),
    "unparseable_timestamp": ("marketing_events", "quarantined", "invalid_timestamp"),
}


def data_quality(settings: Settings) -> dict[tuple[str, str, str], int]:
    with connect(settings, read_only=True) as conn:
        rows = conn.fetchall(
            "select raw_table, disposition, reason, row_count "
            f"from {relation_name('audit_data_quality')}"
        )
    return {(table, disposition, reason): int(n) for table, disposition, reason, n in rows}


def lead_scores(settings: Settings) -> dict[str, tuple]:
    with connect(settings, read_only=True) as conn:
        rows = conn.fetchall(
            "select contact_id, fit_score, behavior_score, lead_score, lead_stage, fit_grade, "
            f"priority, score_reasons from {relation_name('dim_leads')}"
        )
    return {row[0]: tuple(row[1:]) for row in rows}


def model_row_counts(settings: Settings) -> dict[str, int]:
    manifest = json.loads(dbt_project().manifest_path.read_text())
    models = [n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"]
    with connect(settings, read_only=True) as conn:
        return {
            model: conn.fetchall(f"select count(*) from {relation_name(model)}")[0][0]
            for model in models
        }


def test_refresh_succeeds_with_every_dbt_test_passing_as_an_asset_check(duckdb_refresh):
    _, (first, _) = duckdb_refresh
    assert first.success
    evaluations = first.get_asset_check_evaluations()
    assert len(evaluations) >= 60
    failed = [e.check_name for e in evaluations if not e.passed]
    assert failed == []


def test_every_raw_row_is_staged_quarantined_or_merged(duckdb_refresh, acceptance_landing):
    settings, _ = duckdb_refresh
    with connect(settings, read_only=True) as conn:
        rows = conn.fetch_dicts(f"select * from {relation_name('audit_raw_reconciliation')}")
    by_table = {row["raw_table"]: row for row in rows}
    assert set(by_table) == set(RAW_CONTRACT)
    for table, row in by_table.items():
        assert row["raw_rows"] == acceptance_landing.rows[table], table
        assert row["raw_rows"] == row["staged_rows"] + row["quarantined_rows"] + row["merged_rows"]


def test_every_dirty_data_kind_is_accounted_for_with_its_reason(duckdb_refresh, acceptance_landing):
    settings, _ = duckdb_refresh
    outcomes = data_quality(settings)
    assert set(acceptance_landing.dirty) == set(DIRTY_KIND_OUTCOME)
    for kind, injected in acceptance_landing.dirty.items():
        assert injected > 0, f"the generator injected no {kind}"
        assert outcomes.get(DIRTY_KIND_OUTCOME[kind]) == injected, (kind, outcomes)


def test_duplicates_collapse_into_one_person_and_their_events_follow(
    duckdb_refresh, acceptance_landing
):
    """Checked independently of dbt: pandas normalises the landing file's emails itself."""
    settings, _ = duckdb_refresh
    raw = pd.concat(
        pd.read_csv(path, dtype=str, keep_default_na=False)
        for path in acceptance_landing.files
        if path.parent.name == "crm_contacts"
    )
    usable = raw[raw["contact_id"].str.strip() != ""]
    emails = usable["email"].str.strip().str.lower()
    expected_people = emails[emails != ""].nunique() + int((emails == "").sum())

    with connect(settings, read_only=True) as conn:
        people = conn.fetchall(f"select count(*) from {relation_name('stg_crm__contacts')}")[0][0]
        merged_ids_with_events = conn.fetchall(
            f"select count(*) from {relation_name('stg_marketing__events')} e "
            f"join {relation_name('stg_crm__contact_identity')} i "
            "on e.contact_id = i.source_contact_id where i.is_merged"
        )[0][0]
        events_via_merged_ids = conn.fetchall(
            f"select count(*) from {relation_name('stg_marketing__events')} e "
            f"join {relation_name('stg_crm__contact_identity')} i "
            "on e.source_contact_id = i.source_contact_id where i.is_merged"
        )[0][0]
    assert people == expected_people
    assert merged_ids_with_events == 0  # no event is attributed to a merged-away id
    assert events_via_merged_ids > 0  # events sent with a duplicate's id reached the person


def test_leads_that_converted_score_clearly_higher(duckdb_refresh):
    """The generator's converters (won deals) behave differently; the default rules see it."""
    settings, _ = duckdb_refresh
    with connect(settings, read_only=True) as conn:
        rows = conn.fetchall(
            "select coalesce(won.contact_id is not null, false) as converted, "
            "count(*), avg(leads.lead_score), "
            "avg(case when leads.lead_stage = 'SQL' then 1.0 else 0.0 end) "
            f"from {relation_name('dim_leads')} leads left join "
            f"(select distinct contact_id from {relation_name('stg_crm__deals')} where is_won) won "
            "on leads.contact_id = won.contact_id group by 1"
        )
    by_outcome = {
        converted: (n, avg_score, sql_share) for converted, n, avg_score, sql_share in rows
    }
    converted, not_converted = by_outcome[True], by_outcome[False]
    assert converted[0] > 100
    assert converted[1] >= not_converted[1] + 20  # average lead score, points
    assert converted[2] >= 2 * not_converted[2]  # share of SQL leads


def test_every_lead_is_in_exactly_one_matrix_segment(duckdb_refresh):
    settings, _ = duckdb_refresh
    with connect(settings, read_only=True) as conn:
        leads = conn.fetchall(f"select count(*) from {relation_name('dim_leads')}")[0][0]
        rows = conn.fetchall(
            "select count(*), count(distinct contact_id), count(segment) "
            f"from {relation_name('dim_lead_segments')}"
        )[0]
        segments = dict(
            conn.fetchall(f"select segment, leads from {relation_name('fct_segment_summary')}")
        )
    assert rows == (leads, leads, leads)
    assert len(segments) == 8 and all(n > 0 for n in segments.values())


def test_second_refresh_loads_nothing_and_changes_nothing(duckdb_refresh):
    settings, (_, second) = duckdb_refresh
    assert second.success
    loaded = [
        m.metadata["files_loaded"].value
        for m in second.asset_materializations_for_node("ingest_landing_files")
    ]
    skipped = [
        m.metadata["files_skipped"].value
        for m in second.asset_materializations_for_node("ingest_landing_files")
    ]
    assert loaded == [0] * len(RAW_CONTRACT)
    assert sum(skipped) >= len(RAW_CONTRACT)
    with connect(settings, read_only=True) as conn:
        raw_events = conn.fetchall("select count(*) from raw.marketing_events")[0][0]
    assert raw_events == 1_000_000


def _dbt_test(warehouse: Path, selection: list[str], settings: Settings, tmp_path: Path):
    env = {**os.environ, **settings.dbt_env(), "LEADSCORE_DUCKDB_PATH": str(warehouse)}
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return subprocess.run(
        [
            "dbt",
            "test",
            "--select",
            *selection,
            "--profiles-dir",
            ".",
            # Its own artifacts: other test workers read the project's target/ meanwhile.
            "--target-path",
            str(tmp_path / "dbt_target"),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_reconciliation_check_fails_when_a_staged_row_goes_missing(duckdb_refresh, tmp_path):
    settings, _ = duckdb_refresh
    broken = tmp_path / "broken.duckdb"
    shutil.copy(settings.duckdb_path, broken)
    # Staged events are the usable rows of the (incremental) base table; lose one of them.
    base = relation_name("base_marketing__events")
    with duckdb.connect(str(broken)) as conn:
        conn.execute(
            f"delete from {base} where event_id = (select min(event_id) from "
            f"{relation_name('stg_marketing__events')}) and quarantine_reason is null "
            "and not is_duplicate"
        )
    completed = _dbt_test(broken, ["audit_raw_reconciliation"], settings, tmp_path)
    assert completed.returncode != 0
    assert "FAIL 1 expression_is_true_audit_raw_reconciliation" in completed.stdout


def test_uniqueness_checks_find_a_repeated_row(duckdb_refresh, tmp_path):
    """The uniqueness test (on DuckDB, hashes first, then the exact check) reports a row
    written twice: in the score components, and in the day aggregates' latest run."""
    settings, _ = duckdb_refresh
    broken = tmp_path / "broken.duckdb"
    shutil.copy(settings.duckdb_path, broken)
    components = relation_name("int_scoring__lead_score_components")
    days = relation_name("int_scoring__signal_activity_by_day")
    with duckdb.connect(str(broken)) as conn:
        conn.execute(f"insert into {components} select * from {components} limit 1")
        conn.execute(
            f"insert into {days} select * from {days} "
            f"where _refreshed_at = (select max(_refreshed_at) from {days}) limit 2"
        )
    completed = _dbt_test(
        broken,
        [
            "int_scoring__lead_score_components,test_name:unique_combination",
            "int_scoring__signal_activity_by_day",
        ],
        settings,
        tmp_path,
    )
    assert completed.returncode != 0
    assert "FAIL 1 unique_combination_int_scoring__lead_score_components" in completed.stdout
    assert "FAIL 2 unique_combination_int_scoring__signal_activity_by_day" in completed.stdout


@pytest.mark.postgres
def test_postgres_builds_the_same_rows_from_the_same_files(
    duckdb_refresh, acceptance_landing, postgres_database, tmp_path
):
    """`leadscore run` (the README's command) against PostgreSQL: same row count per model."""
    duckdb_settings, _ = duckdb_refresh
    env = {
        "LEADSCORE_TARGET": "postgres",
        "LEADSCORE_PG_DBNAME": postgres_database,
        "LEADSCORE_DATA_DIR": str(tmp_path),
        "LEADSCORE_LANDING_DIR": str(acceptance_landing.out_dir),
        "LEADSCORE_AS_OF_DATE": AS_OF,
    }
    completed = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run"],
        cwd=PROJECT_ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "Rows per raw table" in completed.stdout
    assert "Leads by segment, with their route" in completed.stdout
    assert "Enterprise Hot" in completed.stdout
    assert f"PostgreSQL postgres@127.0.0.1:5432/{postgres_database}" in completed.stdout

    postgres_settings = settings_for(**env)
    assert model_row_counts(postgres_settings) == model_row_counts(duckdb_settings)
    # The files sync ran on PostgreSQL too: its ledger and run history live there.
    assert "files        success" in completed.stdout
    assert synced_keys(postgres_settings) == synced_keys(duckdb_settings)
    assert len(synced_keys(postgres_settings)) == len(lead_scores(postgres_settings))
    assert data_quality(postgres_settings) == data_quality(duckdb_settings)

    # The predictive model trains on PostgreSQL from the same examples to the same scores,
    # up to float noise (the engines sum decayed counts in different orders): log-odds within
    # 0.001, i.e. probabilities within 0.1% of each other.
    assert "Predictive score (logistic_regression" in completed.stdout
    postgres_predictions = predictions(postgres_settings)
    duckdb_predictions = predictions(duckdb_settings)
    assert postgres_predictions.keys() == duckdb_predictions.keys()
    assert len(postgres_predictions) > 15_000
    for contact, probability in duckdb_predictions.items():
        assert abs(logit(postgres_predictions[contact]) - logit(probability)) < 1e-3, contact

    postgres_leads, duckdb_leads = lead_scores(postgres_settings), lead_scores(duckdb_settings)
    assert postgres_leads.keys() == duckdb_leads.keys()
    for contact, (fit, behavior, lead, *labels) in duckdb_leads.items():
        other = postgres_leads[contact]
        assert abs(fit - other[0]) <= 1e-6, contact
        assert abs(behavior - other[1]) <= 1e-6, contact
        assert abs(lead - other[2]) <= 1e-6, contact
        assert labels == list(other[3:]), contact  # stage, grade, priority, reasons


def logit(probability: float) -> float:
    return math.log(probability / (1 - probability))


def predictions(settings) -> dict[str, float]:
    with connect(settings, read_only=True) as conn:
        return dict(
            conn.fetchall(
                "select contact_id, conversion_probability from marts.predictive_lead_scores"
            )
        )


def synced_keys(settings) -> set[str]:
    with connect(settings, read_only=True) as conn:
        return {
            key
            for (key,) in conn.fetchall(
                "select sync_key from sync.sync_ledger where destination = 'files'"
            )
        }


def test_malformed_landing_file_stops_the_run_before_dbt(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    (landing / "crm_owners").mkdir(parents=True)
    header = ",".join(RAW_CONTRACT["crm_owners"])
    (landing / "crm_owners" / "owners.csv").write_text(f"{header}\nO1,Ann,,AE,NA,extra\n")
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADSCORE_LANDING_DIR", str(landing))
    monkeypatch.setenv("LEADSCORE_TARGET", "duckdb")

    result = run_refresh()

    assert not result.success
    failures = [e for e in result.all_events if e.is_step_failure]
    assert [e.step_key for e in failures] == ["ingest_landing_files"]
    message = failures[0].step_failure_data.error.to_string()
    assert "crm_owners/owners.csv: line 2 has 6 fields, the header has 5" in message
    assert not result.asset_materializations_for_node("leadscore_dbt_models")
