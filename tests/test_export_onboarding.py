"""A stranger's CRM export, from CSV to scores, with only a mapping file and seed edits.

The export is tests/fixtures/crm_export.py's (6,000 leads, one row per lead, 26 columns,
M/D/YYYY dates, `Select` placeholders, Yes/No flags, activity as columns, a Converted flag).
Its reviewed mapping and an analyst's rules are in tests/fixtures/crm_export_setup/. The test
copies the project (code, dbt project, seeds), edits only the seed CSVs, drops the export and
its mapping into a folder of the landing folder, and runs the real `leadscore run --as-of` of
that copy on DuckDB and on PostgreSQL. What it checks is computed here from the CSV with
pandas and scikit-learn, not read back from the warehouse's own logic.

A second test feeds contacts with M/D/YYYY dates and no mapping: the run must fail, say which
table, reason, count and likely cause, and send nothing.
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from orchestration.lib.settings import PROJECT_ROOT
from orchestration.lib.warehouse import connect
from tests.conftest import settings_for
from tests.fixtures.crm_export import ID_COLUMN, OUTCOME_COLUMN, SNAPSHOT_DATE, write_lead_export

SETUP = Path(__file__).parent / "fixtures" / "crm_export_setup"
AS_OF = SNAPSHOT_DATE.isoformat()


def copy_project(root: Path) -> Path:
    """The project's code, dbt project, seeds and macros, as a user's checkout would be."""
    ignore = shutil.ignore_patterns("target", "target-spark", "logs", "__pycache__")
    for folder in ("orchestration", "dbt_project", "seeds", "macros"):
        shutil.copytree(PROJECT_ROOT / folder, root / folder, ignore=ignore)
    return root


def edit_seeds(seeds: Path) -> None:
    """The analyst's edits: the rules for the export's columns added, the free-mail penalty
    dropped (a consumer business: most leads write from a free-mail address), a base score
    of 30 so negative rules still rank leads instead of all sitting at 0."""
    fit_rules = seeds / "scoring_fit_rules.csv"
    with fit_rules.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, [r for r in reader if r["rule_id"] != "fit_freemail"]
    with (SETUP / "scoring_fit_rules.add.csv").open(newline="") as handle:
        rows += list(csv.DictReader(handle))
    with fit_rules.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    weights = seeds / "scoring_weights.csv"
    text = weights.read_text()
    assert "\nbase,,,,0," in text
    weights.write_text(text.replace("\nbase,,,,0,", "\nbase,,,,30,"))


def leadscore(root: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """`leadscore` of the project at `root` (its own code, dbt project and seeds)."""
    return subprocess.run(
        [sys.executable, "-m", "orchestration.cli", *args],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root), **env},
        capture_output=True,
        text=True,
        timeout=900,
    )


def expected_rule_members(export: pd.DataFrame) -> dict[str, set[str]]:
    """Which leads each added rule should score, worked out from the CSV with pandas."""
    text = export.astype(object).fillna("")
    time_on_site = export["Total Time Spent on Website"]
    first_contact = pd.to_datetime(export["First Contact Date"], format="%m/%d/%Y")
    age_days = (pd.Timestamp(SNAPSHOT_DATE) - first_contact).dt.days
    professional = text["Current Occupation"] == "Working Professional"
    masks = {
        "acme_professional": professional,
        "acme_no_occupation": text["Current Occupation"] == "",
        "acme_lead_add_form": text["Lead Origin"] == "Lead Add Form",
        "acme_referred": text["Lead Source"].isin(["Reference", "Welingak Website"]),
        "acme_chat_source": text["Lead Source"] == "Olark Chat",
        "acme_do_not_email": text["Do Not Email"] == "Yes",
        "acme_no_specialization": text["Specialization"].isin(["", "Select"]),
        "acme_new_lead": age_days <= 20,
        "acme_professional_engaged": professional & (time_on_site >= 300),
        "acme_long_visits": time_on_site >= 900,
        "acme_some_visits": time_on_site.between(300, 899),
        "acme_frequent_visitor": export["Total Visits"] >= 5,
        "acme_last_sms": text["Last Activity"] == "SMS Sent",
        "acme_last_call": text["Last Activity"] == "Had a Phone Conversation",
        "acme_last_bad": text["Last Activity"].isin(
            ["Email Bounced", "Unsubscribed", "Olark Chat Conversation"]
        ),
    }
    return {rule: set(export.loc[mask, ID_COLUMN]) for rule, mask in masks.items()}


def scored(settings) -> tuple[dict[str, tuple], dict[str, set[str]]]:
    """dim_leads (scores, stage, reasons) and the leads each rule scored."""
    with connect(settings, read_only=True) as conn:
        leads = conn.fetchall(
            "select contact_id, fit_score, behavior_score, lead_score, lead_stage, "
            "score_reasons, as_of_date from marts.dim_leads"
        )
        components = conn.fetchall(
            "select rule_id, contact_id from marts.fct_lead_score_components where points <> 0"
        )
    members: dict[str, set[str]] = {}
    for rule, contact in components:
        members.setdefault(rule, set()).add(contact)
    return {row[0]: tuple(row[1:]) for row in leads}, members


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory):
    root = copy_project(tmp_path_factory.mktemp("user_checkout"))
    edit_seeds(root / "seeds")
    export_dir = tmp_path_factory.mktemp("downloads")
    csv_path = write_lead_export(export_dir / "Leads.csv")
    return root, csv_path, pd.read_csv(csv_path)


def run_export(
    root: Path, csv_path: Path, data_dir: Path, **env: str
) -> subprocess.CompletedProcess:
    landing = data_dir / "landing" / "acme"
    landing.mkdir(parents=True)
    shutil.copy(csv_path, landing / "Leads.csv")
    shutil.copy(SETUP / "mapping.yml", landing / "mapping.yml")
    return leadscore(root, {"LEADSCORE_DATA_DIR": str(data_dir), **env}, "run", "--as-of", AS_OF)


@pytest.fixture(scope="module")
def duckdb_scores(onboarded, tmp_path_factory):
    root, csv_path, _ = onboarded
    data_dir = tmp_path_factory.mktemp("acme_duckdb")
    completed = run_export(root, csv_path, data_dir, LEADSCORE_TARGET="duckdb")
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed, scored(
        settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(data_dir))
    )


def test_the_export_is_scored_with_only_a_mapping_and_seed_edits(onboarded, duckdb_scores):
    _, _, export = onboarded
    completed, (leads, members) = duckdb_scores
    assert f"Leads by stage, scored as of {AS_OF}" in completed.stdout
    assert "crm_contacts      6,000   6,000            0       0" in completed.stdout

    # Every lead of the file is scored, as of the export's date.
    assert set(leads) == set(export[ID_COLUMN])
    assert {row[5] for row in leads.values()} == {SNAPSHOT_DATE}

    # Each rule scored exactly the leads its conditions name in the CSV: text, placeholders
    # read as missing, Yes/No, numbers, M/D/YYYY dates and an AND group.
    for rule, expected in expected_rule_members(export).items():
        assert expected, rule
        assert members.get(rule, set()) == expected, rule

    # The scores rank the outcome: independently computed ROC AUC, and conversion rising
    # with the stage.
    frame = export.assign(
        lead_score=export[ID_COLUMN].map({c: row[2] for c, row in leads.items()}),
        stage=export[ID_COLUMN].map({c: row[3] for c, row in leads.items()}),
    )
    auc = roc_auc_score(frame[OUTCOME_COLUMN], frame["lead_score"])
    assert auc >= 0.80, auc
    rates = frame.groupby("stage")[OUTCOME_COLUMN].mean()
    assert rates["Cold"] < rates["MQL"] < rates["SQL"], rates

    # Explanations name the export's answers.
    professional = export.loc[
        export["Current Occupation"].eq("Working Professional")
        & export["Lead Origin"].eq("Lead Add Form"),
        ID_COLUMN,
    ].iloc[0]
    assert "Working professional" in leads[professional][4]


@pytest.mark.postgres
def test_postgres_scores_the_export_the_same(onboarded, duckdb_scores, postgres_database, tmp_path):
    root, csv_path, _ = onboarded
    env = {"LEADSCORE_TARGET": "postgres", "LEADSCORE_PG_DBNAME": postgres_database}
    completed = run_export(root, csv_path, tmp_path, **env)
    assert completed.returncode == 0, completed.stderr[-3000:]
    postgres_leads, postgres_members = scored(settings_for(LEADSCORE_DATA_DIR=str(tmp_path), **env))
    _, (duckdb_leads, duckdb_members) = duckdb_scores
    assert postgres_members == duckdb_members
    assert postgres_leads.keys() == duckdb_leads.keys()
    for contact, (fit, behavior, lead, *labels) in duckdb_leads.items():
        other = postgres_leads[contact]
        assert math.isclose(fit, other[0], abs_tol=1e-6), contact
        assert math.isclose(behavior, other[1], abs_tol=1e-6), contact
        assert math.isclose(lead, other[2], abs_tol=1e-6), contact
        assert labels == list(other[3:]), contact  # stage, reasons, as-of date


def test_mdy_dates_without_a_mapping_stop_the_run_and_nothing_is_sent(tmp_path):
    """Contacts in the raw contract's folder, dates as M/D/YYYY: every row is quarantined
    (staging reads ISO 8601), so the run must fail naming the table, the reason, the count
    and the likely cause, and no destination may receive anything."""
    export = pd.read_csv(write_lead_export(tmp_path / "Leads.csv", rows=300))
    contacts = pd.DataFrame(
        {
            "contact_id": export[ID_COLUMN],
            "email": export["Email"],
            "first_name": None,
            "last_name": None,
            "job_title": export["Job Title"],
            "company_id": None,
            "country": export["Country"],
            "lead_source": export["Lead Source"],
            "lifecycle_stage": "lead",
            "unsubscribed": export["Do Not Email"],
            "created_at": export["First Contact Date"],
            "updated_at": None,
        }
    )
    landing = tmp_path / "data" / "landing" / "crm_contacts"
    landing.mkdir(parents=True)
    contacts.to_csv(landing / "contacts.csv", index=False)
    month_first = export["First Contact Date"].iloc[0]
    assert month_first.count("/") == 2 and not month_first.startswith("20")

    completed = leadscore(
        PROJECT_ROOT,
        {"LEADSCORE_DATA_DIR": str(tmp_path / "data"), "LEADSCORE_TARGET": "duckdb"},
        "run",
    )

    assert completed.returncode == 1, completed.stdout[-3000:]
    message = completed.stderr
    assert "check raw_rows_are_usable failed" in message
    assert (
        "crm_contacts: 300 of 300 rows of its latest load (100%) were quarantined, most as "
        "invalid_timestamp (300); the limit is 50%" in message
    )
    assert f"created_at values look like M/D/YYYY (e.g. '{month_first}')" in message
    assert "set the date format in the mapping" in message
    assert "check leads_were_scored failed" in message
    assert "Nothing was exported or synced." in message
    # Nothing left the warehouse: no sync file, no ledger row, no export, no report.
    data = tmp_path / "data"
    written = [
        path for folder in ("sync", "exports", "reports") for path in (data / folder).rglob("*")
    ]
    assert not [path for path in written if path.is_file()], written
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(data))
    with connect(settings, read_only=True) as conn:
        ledgers = conn.fetchall(
            "select count(*) from information_schema.tables "
            "where table_schema = 'sync' and table_name = 'sync_ledger'"
        )[0][0]
        if ledgers:
            assert conn.fetchall("select count(*) from sync.sync_ledger")[0][0] == 0
