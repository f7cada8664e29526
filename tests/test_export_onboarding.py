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
import hashlib
import math
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from orchestration.lib.project_copy import copy_project
from orchestration.lib.seeds import seed_path
from orchestration.lib.settings import PROJECT_ROOT
from orchestration.lib.warehouse import connect
from tests.conftest import settings_for
from tests.fixtures.crm_export import ID_COLUMN, OUTCOME_COLUMN, SNAPSHOT_DATE, write_lead_export

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

SETUP = Path(__file__).parent / "fixtures" / "crm_export_setup"
AS_OF = SNAPSHOT_DATE.isoformat()


def append_rows(seed: Path, added: Path, keep=lambda row: True) -> None:
    """seed's rows that `keep` keeps, then the rows of the CSV `added`."""
    with seed.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, [row for row in reader if keep(row)]
    with added.open(newline="") as handle:
        rows += list(csv.DictReader(handle))
    with seed.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def edit_seeds(seeds: Path) -> None:
    """The analyst's edits: rules for the export's columns (fit rules on its answers, one on
    the visit count counted as behaviour, behaviour rules on the events the mapping writes)
    and the two event types those are; the free-mail penalty dropped (a consumer business:
    most leads write from a free-mail address); a base score of 30 so negative rules still
    rank leads instead of all sitting at 0."""
    append_rows(
        seed_path("scoring_fit_rules", seeds),
        SETUP / "scoring_fit_rules.add.csv",
        keep=lambda row: row["rule_id"] != "fit_freemail",
    )
    append_rows(
        seed_path("scoring_behavior_rules", seeds), SETUP / "scoring_behavior_rules.add.csv"
    )
    append_rows(seed_path("event_types", seeds), SETUP / "event_types.add.csv")
    weights = seed_path("scoring_weights", seeds)
    text = weights.read_text()
    assert "\nbase,,,,0," in text
    weights.write_text(text.replace("\nbase,,,,0,", "\nbase,,,,30,"))


def query(settings, sql: str) -> list[tuple]:
    with connect(settings, read_only=True) as conn:
        return conn.fetchall(sql)


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
    # The events exist only where the last activity date is given.
    dated = text["Last Activity Date"] != ""
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
        "acme_frequent_visitor": export["Total Visits"] >= 5,
        "acme_time_on_site": dated & (time_on_site > 0),
        "acme_long_visits": dated & (time_on_site >= 900),
        "acme_last_sms": dated & (text["Last Activity"] == "SMS Sent"),
        "acme_last_call": dated & (text["Last Activity"] == "Had a Phone Conversation"),
        "acme_last_bad": dated
        & text["Last Activity"].isin(["Email Bounced", "Unsubscribed", "Olark Chat Conversation"]),
    }
    return {rule: set(export.loc[mask, ID_COLUMN]) for rule, mask in masks.items()}


def scored(settings) -> tuple[dict[str, tuple], dict[str, dict[str, float]]]:
    """dim_leads (scores, stage, reasons) and each rule's points per lead it scored."""
    with connect(settings, read_only=True) as conn:
        leads = conn.fetchall(
            "select contact_id, fit_score, behavior_score, lead_score, lead_stage, "
            "score_reasons, as_of_date from marts.dim_leads"
        )
        components = conn.fetchall(
            "select rule_id, contact_id, points from marts.fct_lead_score_components "
            "where points <> 0"
        )
    points: dict[str, dict[str, float]] = {}
    for rule, contact, value in components:
        points.setdefault(rule, {})[contact] = value
    return {row[0]: tuple(row[1:]) for row in leads}, points


@pytest.fixture(scope="module")
def onboarded(tmp_path_factory: pytest.TempPathFactory):
    root = copy_project(tmp_path_factory.mktemp("user_checkout"), with_code=True)
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
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(data_dir))
    return completed, scored(settings), data_dir


def test_the_export_is_scored_with_only_a_mapping_and_seed_edits(onboarded, duckdb_scores):
    _, _, export = onboarded
    completed, (leads, members), data_dir = duckdb_scores
    assert f"Leads by stage, scored as of {AS_OF}" in completed.stdout
    # Every contact staged, every converted lead a won deal: nothing quarantined.
    rows = {
        parts[0]: [int(n.replace(",", "")) for n in parts[1:]]
        for parts in map(str.split, completed.stdout.splitlines())
        if len(parts) == 5 and all(n.replace(",", "").isdigit() for n in parts[1:])
    }
    converted = int(export[OUTCOME_COLUMN].sum())
    assert rows["crm_contacts"] == [len(export), len(export), 0, 0]  # raw, staged, quar., merged
    assert rows["crm_deals"] == [converted, converted, 0, 0]

    # Every lead of the file is scored, as of the export's date.
    assert set(leads) == set(export[ID_COLUMN])
    assert {row[5] for row in leads.values()} == {SNAPSHOT_DATE}

    # Each rule scored exactly the leads its conditions name in the CSV: text, placeholders
    # read as missing, Yes/No, numbers, M/D/YYYY dates, an AND group, and the behaviour rules
    # on the events the mapping wrote (a value rule, last-activity rules with a filter on an
    # extra column of the events).
    for rule, expected in expected_rule_members(export).items():
        assert expected, rule
        assert set(members.get(rule, {})) == expected, rule
    # The value rule's points: a point a minute on the site, at most 15.
    minutes = export.set_index(ID_COLUMN)["Total Time Spent on Website"] / 60
    for contact, value in members["acme_time_on_site"].items():
        assert math.isclose(value, min(15.0, minutes[contact]), abs_tol=1e-9), contact
    # Events without a date were kept in quarantine with the reason, not dropped.
    [(waiting,)] = query(
        settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(data_dir)),
        "select count(*) from quarantine.quarantine_marketing__events "
        "where quarantine_reason = 'invalid_timestamp'",
    )
    undated = export["Last Activity Date"].isna()
    assert waiting == (
        (undated & (export["Total Time Spent on Website"] > 0)).sum()
        + (undated & export["Last Activity"].notna()).sum()
    )

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
    _, (duckdb_leads, duckdb_members), _ = duckdb_scores
    assert postgres_members.keys() == duckdb_members.keys()
    for rule, duckdb_points in duckdb_members.items():
        assert postgres_members[rule].keys() == duckdb_points.keys(), rule
        for contact, value in duckdb_points.items():
            assert math.isclose(postgres_members[rule][contact], value, abs_tol=1e-6), rule
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


def leak_free_features(export: pd.DataFrame) -> pd.DataFrame:
    """The export's columns a careful analyst would model with: categorical answers one-hot
    (placeholders and blanks as missing), Yes/No flags, log numbers with missing indicators;
    not the ids, dates, email, the outcome or the column sales fills after the fact."""
    categorical = [
        "Lead Origin", "Lead Source", "Last Activity", "Country", "Specialization",
        "How Did You Hear About Us", "Current Occupation", "Lead Profile", "City",
    ]  # fmt: skip
    flags = [
        "Do Not Email", "Do Not Call", "Search Ad", "Newsletter", "Through Recommendations",
        "Free Copy Of Guide",
    ]  # fmt: skip
    numbers = ["Total Visits", "Total Time Spent on Website", "Page Views Per Visit"]
    answers = export[categorical].replace("Select", np.nan)
    features = pd.get_dummies(answers, dummy_na=True).astype(float)
    for flag in flags:
        features[flag] = (export[flag] == "Yes").astype(float)
    for number in numbers:
        values = pd.to_numeric(export[number], errors="coerce")
        features[number] = np.log1p(values.fillna(0).clip(lower=0))
        features[f"{number} missing"] = values.isna().astype(float)
    return features


def test_suggested_rules_learn_the_export_and_beat_the_shipped_rules(
    onboarded, duckdb_scores, tmp_path
):
    """`leadscore suggest-rules` on the scored export, as the analyst would run it: a
    snapshot whose outcomes are known on the export day (`--window-days 0`, the way of an
    export without dates too); the column sales fills after the fact left out in the
    settings seed. Its rules, scored by the real
    backtest, rank the held-out leads as well as a plain logistic regression on the same
    columns (within 0.02) and far better than the shipped rules."""
    root, _, export = onboarded
    _, _, data_dir = duckdb_scores
    learning = seed_path("rule_learning_settings", root / "seeds")
    text = learning.read_text()
    assert "\nexcluded_attributes,," in text
    learning.write_text(
        text.replace("\nexcluded_attributes,,", "\nexcluded_attributes,Lead Quality,")
    )
    # The shipped rules to compare with (the analyst's event types stay: the export's events
    # use two of their own).
    shipped = tmp_path / "shipped_rules"
    shipped.mkdir()
    for name in ("scoring_fit_rules", "scoring_behavior_rules", "scoring_weights"):
        shutil.copy(seed_path(name), shipped)
    out = tmp_path / "suggested"
    completed = leadscore(
        root,
        {"LEADSCORE_DATA_DIR": str(data_dir), "LEADSCORE_TARGET": "duckdb"},
        "suggest-rules",
        "--as-of",
        SNAPSHOT_DATE.isoformat(),
        "--window-days",
        "0",
        "--out",
        str(out),
        "--baseline",
        str(shipped),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    assert "held-out ROC AUC" in completed.stdout
    assert "contact.converted" in completed.stdout  # the outcome column itself is left out
    with (out / "scoring_fit_rules.csv").open() as handle:
        rules = list(csv.DictReader(handle))
    assert rules and not any("lead_quality" in rule["attribute"] for rule in rules)

    scores = pd.read_parquet(out / "backtest" / "scores.parquet")
    frame = export.merge(scores, left_on=ID_COLUMN, right_on="contact_id")
    assert len(frame) > 0.95 * len(export)
    holdout = (
        frame[ID_COLUMN]
        .map(lambda lead: int(hashlib.md5(lead.encode()).hexdigest()[:8], 16) % 10_000 < 3_000)
        .to_numpy(bool)
    )
    outcome = frame[OUTCOME_COLUMN].to_numpy(int)
    features = leak_free_features(frame).to_numpy()
    reference = LogisticRegression(max_iter=5000).fit(features[~holdout], outcome[~holdout])
    reference_auc = roc_auc_score(outcome[holdout], reference.decision_function(features[holdout]))
    suggested_auc = roc_auc_score(outcome[holdout], frame["suggested_score"][holdout])
    shipped_auc = roc_auc_score(outcome[holdout], frame["current_score"][holdout])
    assert suggested_auc >= reference_auc - 0.02, (suggested_auc, reference_auc)
    assert suggested_auc > shipped_auc + 0.2, (suggested_auc, shipped_auc)
