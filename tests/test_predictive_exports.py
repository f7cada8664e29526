"""The predictive score on data unlike the demo's: a one-row-per-lead CRM export whose
outcomes are known only at the export date (cross-sectional mode, the export's own columns as
features), and a fast-closing funnel exported as two files (point-in-time mode with an outcome
window fitted to how fast deals close).

Each fixture is one real `leadscore run --as-of` of a copy of the project (module-scoped, one
warehouse per fixture). Every reference number is computed here from the CSV files with pandas
and scikit-learn, never read back from the code under test: the held-out leads (md5 of the
contact id, as documented), the outcomes, and a plain logistic regression on the export's
leak-free columns. The unit tests at the end need no warehouse.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import re
import shutil
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from orchestration.lib.project_copy import copy_project
from orchestration.lib.seeds import seed_path
from orchestration.predictive import attributes as attribute_rules
from orchestration.predictive.attributes import (
    MISSING,
    attribute_label,
    choose_columns,
    encode,
    plan_attributes,
)
from orchestration.predictive.model import (
    MODEL_CARD_TABLE,
    ModelResult,
    PredictiveConfigError,
    PredictiveSettings,
    build_dataset,
    snapshot_dataset,
    train_and_score,
    write_outputs,
)
from tests.conftest import ProjectCopy, settings_for
from tests.fixtures import funnel_export
from tests.fixtures.crm_export import (
    ID_COLUMN,
    LEAKY_COLUMNS,
    OUTCOME_COLUMN,
    SNAPSHOT_DATE,
    write_lead_export,
)
from tests.test_export_onboarding import SETUP, edit_seeds, leadscore

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

HOLDOUT_SHARE = 0.3  # the shipped holdout_share
WINDOW_DAYS = 90  # calibration_window_days
FUNNEL_AS_OF = date(2024, 6, 30)  # six months into the funnel's year
FUNNEL_WINDOW_DAYS = 14  # the training window `auto` fits to the funnel: deals close in 2 weeks


def set_predictive(seeds: Path, **values: str) -> None:
    """Set rows of the copy's predictive_settings seed."""
    path = seed_path("predictive_settings", seeds)
    with path.open(newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["setting"] in values:
            row["value"] = values[row["setting"]]
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=["setting", "value", "description"])
        writer.writeheader()
        writer.writerows(rows)


def held_out(contact_id: str) -> bool:
    """The documented split: the first 8 hex digits of md5(contact id) / 2^32 < share."""
    digest = hashlib.md5(contact_id.encode()).hexdigest()[:8]
    return int(digest, 16) / 2**32 < HOLDOUT_SHARE


def latest_card(data_dir: Path) -> pd.Series:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        card = conn.execute(f"select * from marts.{MODEL_CARD_TABLE} order by trained_at").df()
    return card.iloc[-1]


def query(data_dir: Path, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(data_dir / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(sql).df()


def null_auc_sd(positives: int, negatives: int) -> float:
    """Standard deviation of the ROC AUC of a random score (Mann-Whitney, no ties)."""
    return math.sqrt((positives + negatives + 1) / (12 * positives * negatives))


# --- The one-row-per-lead export: cross-sectional ---------------------------------------------


@pytest.fixture(scope="module")
def export_run(tmp_path_factory: pytest.TempPathFactory):
    """The export of tests/fixtures/crm_export.py with its reviewed mapping and the analyst's
    seed edits, `Lead Quality` listed as a leaky column, run as of the export date."""
    root = copy_project(tmp_path_factory.mktemp("export_checkout"), with_code=True)
    edit_seeds(root / "seeds")
    set_predictive(root / "seeds", exclude_columns=" | ".join(LEAKY_COLUMNS))
    data_dir = tmp_path_factory.mktemp("export_data")
    landing = data_dir / "landing" / "acme"
    csv_path = write_lead_export(landing / "Leads.csv")
    shutil.copy(SETUP / "mapping.yml", landing / "mapping.yml")
    completed = leadscore(
        root,
        {"LEADSCORE_DATA_DIR": str(data_dir), "LEADSCORE_TARGET": "duckdb"},
        "run",
        "--as-of",
        SNAPSHOT_DATE.isoformat(),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    export = pd.read_csv(csv_path, dtype=str, keep_default_na=False)
    return completed, data_dir, export


def baseline_auc(export: pd.DataFrame, select_missing: bool) -> float:
    """A plain logistic regression on the export's leak-free columns (one-hot with a
    missing category, log1p numbers with missing indicators), fitted on the leads the model
    trained on and judged on the leads it held out."""
    outcome = export[OUTCOME_COLUMN].astype(int).to_numpy()
    held = export[ID_COLUMN].map(held_out).to_numpy()
    left_out = {
        ID_COLUMN,
        "Lead Number",  # an id
        OUTCOME_COLUMN,
        *LEAKY_COLUMNS,
        "Email",  # personal data
        "First Contact Date",  # dates
        "Last Activity Date",
    }
    numbers = ("Total Visits", "Total Time Spent on Website", "Page Views Per Visit")
    parts = []
    for column in export.columns:
        if column in left_out:
            continue
        if column in numbers:
            values = pd.to_numeric(export[column].replace("", np.nan))
            parts.append(
                pd.DataFrame(
                    {
                        f"{column}:log": np.log1p(values.fillna(0)),
                        f"{column}:missing": values.isna().astype(float),
                    }
                )
            )
            continue
        values = export[column].str.strip()
        if select_missing:
            values = values.replace("Select", "")
        parts.append(pd.get_dummies(values.replace("", "(missing)"), prefix=column, dtype=float))
    design = pd.concat(parts, axis=1).to_numpy()
    model = LogisticRegression(max_iter=5000).fit(design[~held], outcome[~held])
    return float(roc_auc_score(outcome[held], model.predict_proba(design[held])[:, 1]))


def test_the_export_trains_cross_sectionally_at_least_as_well_as_a_plain_regression(export_run):
    completed, data_dir, export = export_run
    card = latest_card(data_dir)
    assert card.status == "trained", card.reason
    assert card.training_mode == "cross_sectional"
    # why: the point-in-time samples never see an outcome (every win is on the export day)
    assert re.search(r"point-in-time training examples hold only 0 conversions", card.mode_reason)
    assert "cross-sectional" in card.mode_reason
    assert "Predictive score (logistic_regression" in completed.stdout

    # its own split, recomputed: md5 of the contact id, 30% held out
    held = export[ID_COLUMN].map(held_out)
    converted = export[OUTCOME_COLUMN] == "1"
    assert card.holdout_examples == held.sum()
    assert card.holdout_conversions == (held & converted).sum()
    assert card.training_examples == (~held).sum()
    assert card.training_conversions == (~held & converted).sum()

    reference = max(baseline_auc(export, select_missing=False), baseline_auc(export, True))
    assert reference > 0.85  # the export's columns predict well (the issue: about 0.89)
    assert card.holdout_auc >= reference - 0.01, (card.holdout_auc, reference)
    # compared with the rule score on the same held-out leads (the analyst's rules)
    assert card.compared_examples == card.holdout_examples
    assert card.holdout_auc > card.rule_score_auc


def test_the_model_card_lists_the_features_used_and_left_out(export_run):
    _, data_dir, _ = export_run
    card = latest_card(data_dir)
    used = {row["feature"]: row for row in json.loads(card.features_used)}
    excluded = {row["feature"]: row["reason"] for row in json.loads(card.features_excluded)}
    # the export's own columns are features, named as the file names them
    for name, label in (
        ("contact.current_occupation", "Current Occupation"),
        ("contact.lead_origin", "Lead Origin"),
        ("contact.total_time_spent_on_website", "Total Time Spent on Website"),
        ("contact.last_activity", "Last Activity"),
    ):
        assert name in used, name
        assert used[name]["label"] == label
    assert used["contact.total_time_spent_on_website"]["kind"] == "number"
    assert used["contact.current_occupation"]["kind"] == "category"
    assert "lead_age" in used
    # left out, each with its reason
    assert "records the outcome" in excluded["contact.converted"]  # found by its values
    assert "exclude_columns" in excluded["contact.lead_quality"]  # the analyst's setting
    assert "identifier" in excluded["contact.lead_number"]
    assert "e-mail" in excluded["contact.email"]
    assert "lifecycle stage" in excluded["contact.lifecycle_stage"]
    assert "cross-sectional" in excluded["behaviour"]
    assert not set(used) & set(excluded)
    settings = json.loads(card.settings)
    assert settings["mode"] == "auto" and settings["exclude_columns"] == ["lead_quality"]


def test_every_open_lead_is_scored_with_factors_in_words(export_run):
    _, data_dir, export = export_run
    predictions = query(data_dir, "select * from marts.predictive_lead_scores")
    open_leads = set(export.loc[export[OUTCOME_COLUMN] == "0", ID_COLUMN])
    assert set(predictions.contact_id) == open_leads
    assert predictions.conversion_probability.between(0, 1, inclusive="neither").all()
    # three factors each (fewer when the lead sits at the baseline of the others)
    factors = predictions.top_factors.str.count(r"\([+-]\d+\.\d\d\)")
    assert factors.between(1, 3).all() and factors.eq(3).mean() > 0.9
    # the value a factor names is the lead's own value in the file
    row = export.set_index(ID_COLUMN)
    seconds = re.compile(r"Total Time Spent on Website: ([\d,]+) \(")
    checked = 0
    for contact, factors in zip(predictions.contact_id, predictions.top_factors, strict=True):
        found = seconds.search(factors)
        if found:
            expected = int(row.loc[contact, "Total Time Spent on Website"])
            assert found.group(1) == f"{expected:,}", (contact, factors)
            checked += 1
    assert checked > 100
    professional = predictions.top_factors.str.contains(
        r"Current Occupation: working professional \(\+"
    )
    assert professional.any()
    # working professionals rank higher on average, as the file says they convert more
    occupation = predictions.contact_id.map(row["Current Occupation"])
    working = predictions.probability_percentile[occupation == "Working Professional"]
    assert working.mean() > predictions.probability_percentile.mean() + 10


# --- The fast-closing funnel: point-in-time with a fitted window ------------------------------


@pytest.fixture(scope="module")
def funnel_run(tmp_path_factory: pytest.TempPathFactory):
    """The two-file funnel export, each file in its export folder with its mapping, run as of
    the middle of its year: before this change it could not train there (the six dates 30
    days apart, a 90-day window before E, saw 7 of the wins)."""
    base = tmp_path_factory.mktemp("funnel")
    root = copy_project(base / "checkout", with_code=True)
    data_dir = base / "data"
    paths = funnel_export.install_funnel_export(data_dir / "landing")
    completed = leadscore(
        root,
        {"LEADSCORE_DATA_DIR": str(data_dir), "LEADSCORE_TARGET": "duckdb"},
        "run",
        "--as-of",
        FUNNEL_AS_OF.isoformat(),
    )
    assert completed.returncode == 0, completed.stderr[-3000:]
    leads = pd.read_csv(paths["leads"], dtype=str, keep_default_na=False)
    deals = pd.read_csv(paths["deals"], dtype=str, keep_default_na=False)
    first = pd.to_datetime(leads[funnel_export.FIRST_CONTACT_COLUMN], format="%m/%d/%Y")
    won = pd.to_datetime(deals[funnel_export.WON_DATE_COLUMN], format="%m/%d/%Y")
    leads = leads.assign(first_contact=first).set_index(funnel_export.ID_COLUMN)
    leads["won"] = won.groupby(deals[funnel_export.ID_COLUMN].to_numpy()).min()
    return completed, data_dir, leads


def test_the_fast_funnel_trains_point_in_time_with_a_fitted_window(funnel_run):
    completed, data_dir, leads = funnel_run
    card = latest_card(data_dir)
    assert card.status == "trained", card.reason
    assert card.training_mode == "point_in_time"
    assert "too few" not in completed.stdout and "not trained" not in completed.stdout

    # deals close fast: every win within two weeks of the first contact, fewer than 95% of
    # them within one week, so the fitted window is two weeks
    days = (leads.won - leads.first_contact).dt.days.dropna()
    assert (days <= FUNNEL_WINDOW_DAYS).all() and (days <= 7).mean() < 0.95
    assert card.training_window_days == FUNNEL_WINDOW_DAYS
    assert card.outcome_window_days == WINDOW_DAYS
    # so the training dates end 14 days before the holdout date (not 90)
    holdout = FUNNEL_AS_OF - timedelta(days=WINDOW_DAYS)
    dates = [date.fromisoformat(d) for d in card.training_dates.split(", ")]
    assert max(dates) == holdout - timedelta(days=FUNNEL_WINDOW_DAYS)
    assert card.holdout_date.date() == holdout

    # the held-out leads and outcomes, recounted from the files: leads first contacted by E and
    # not won by then; converted = won in the 90 days after E
    end = pd.Timestamp(holdout + timedelta(days=1))
    existing = leads[(leads.first_contact < end) & ~(leads.won < end)]
    converted = (existing.won >= end) & (existing.won < end + pd.Timedelta(days=WINDOW_DAYS))
    assert card.holdout_examples == len(existing)
    # few of them: of the leads open on E only those created in the two weeks before it
    # still win (a slower funnel has more); the margin below is sized by the real counts
    assert card.holdout_conversions == converted.sum() >= 8
    # well above chance: 4 standard deviations of a random score's AUC on these leads
    margin = 4 * null_auc_sd(int(converted.sum()), int((~converted).sum()))
    assert card.holdout_auc > 0.5 + margin, (card.holdout_auc, margin)
    assert card.training_conversions >= 40


def test_leads_sampled_at_creation_have_point_in_time_outcomes(funnel_run, tmp_path):
    """With `sample_at_creation: true` every lead created in the training period is also an
    example on its creation day: won within the 14-day window after that day, recounted from
    the files. (With the default `auto` the funnel's training dates held too few conversions
    as of mid-year, so the run above added them already.)"""
    _, data_dir, leads = funnel_run
    root = tmp_path / "project"
    copy_project(root, source=data_dir.parent / "checkout")
    project = ProjectCopy(root, tmp_path / "warehouse.duckdb")
    shutil.copy(data_dir / "warehouse.duckdb", project.duckdb_path)
    [(before,)] = project.query(
        "select count(*) from intermediate.int_predictive__examples where sample_kind = 'creation'"
    )
    assert before > 0  # auto: needed here
    set_predictive(project.seeds, sample_at_creation="true")
    completed = project.dbt(
        "build", "-s", "predictive_settings", "int_predictive__examples", as_of=FUNNEL_AS_OF
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    with duckdb.connect(str(project.duckdb_path), read_only=True) as conn:
        rows = conn.execute(
            "select contact_id, feature_date, is_converted, lead_age_days "
            "from intermediate.int_predictive__examples where sample_kind = 'creation'"
        ).df()
    rows = rows.set_index("contact_id")
    assert len(rows) > 500
    lead = leads.loc[rows.index]
    assert (pd.to_datetime(rows.feature_date) == lead.first_contact).all()
    day_end = lead.first_contact + pd.Timedelta(days=1)
    expected = (lead.won >= day_end) & (lead.won < day_end + pd.Timedelta(days=FUNNEL_WINDOW_DAYS))
    assert (rows.is_converted == expected).all()
    assert rows.is_converted.sum() > 40
    assert (rows.lead_age_days <= 1).all()
    # every one of them before the last training date, so its window ends by E
    last_training = FUNNEL_AS_OF - timedelta(days=WINDOW_DAYS + FUNNEL_WINDOW_DAYS)
    assert (pd.to_datetime(rows.feature_date) <= pd.Timestamp(last_training)).all()


def test_funnel_attributes_are_read_and_names_left_out(funnel_run):
    _, data_dir, _ = funnel_run
    card = latest_card(data_dir)
    used = {row["feature"] for row in json.loads(card.features_used)}
    excluded = {row["feature"]: row["reason"] for row in json.loads(card.features_excluded)}
    assert "contact.requested_demo" in used
    assert excluded["contact.full_name"] == "a name"
    # point-in-time reads the channel as the fixed lead source feature
    assert "lead_source" in used and "contact.lead_source" in excluded


# --- Units: settings, attribute rules, modes, the card ------------------------------------------


def test_new_settings_are_validated_naming_their_row():
    rows = {
        "training_dates": "6",
        "training_step_days": "30",
        "min_training_conversions": "40",
        "regularization": "0.1",
        "top_factors": "3",
        "mode": "snapshot",
        "training_window_days": "soon",
        "sample_at_creation": "maybe",
        "holdout_share": "0.9",
        "max_attribute_columns": "-1",
        "exclude_columns": "Lead Quality | ?? ",
    }
    with pytest.raises(PredictiveConfigError) as error:
        PredictiveSettings.from_rows(rows)
    message = str(error.value)
    for fragment in (
        "row 'mode': 'snapshot' must be one of auto, point_in_time, cross_sectional",
        "row 'training_window_days': 'soon' is not a whole number",
        "row 'sample_at_creation': 'maybe' must be auto, true or false",
        "row 'holdout_share': 0.9 must be between 0.05 and 0.5",
        "row 'max_attribute_columns': -1 must be between 0 and 1000",
        "row 'exclude_columns': '??' is not a column name",
    ):
        assert fragment in message
    fixed = {
        **rows,
        "mode": "cross_sectional",
        "training_window_days": "30",
        "sample_at_creation": "false",
        "holdout_share": "0.25",
        "max_attribute_columns": "10",
        "exclude_columns": "Lead Quality|contact.Tags, lead_quality",
    }
    settings = PredictiveSettings.from_rows(fixed)
    assert settings.mode == "cross_sectional" and settings.training_window_days == 30
    assert settings.exclude_columns == ("lead_quality", "contact.tags")
    defaults = PredictiveSettings.from_rows({**fixed, "training_window_days": "auto", "mode": ""})
    assert defaults.training_window_days is None and defaults.mode == "auto"


def _leads(n: int = 2000, seed: int = 4) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    converted = rng.random(n) < 0.3
    frame = pd.DataFrame(
        {
            "contact__lead_id": [f"l-{i}" for i in range(n)],
            "contact__lead_number": [str(1000 + i) for i in range(n)],
            "contact__full_name": rng.choice(["ann lee", "bo chan", "cy diaz"], n),
            "contact__email_original": [f"x{i}@example.com" for i in range(n)],
            "contact__signed_up": rng.choice(["2024-01-02", "2024-03-04 10:00:00"], n),
            "contact__notes": [f"called on day {i % 1500}" for i in range(n)],
            "contact__plan": rng.choice(["basic", "pro", None], n),
            "contact__newsletter": rng.choice(["true", "false"], n),
            "contact__visits": rng.integers(0, 50, n).astype(str),
            "contact__status": np.where(converted, "won", "open"),
            "contact__score": np.where(converted, rng.integers(50, 99, n).astype(str), None),
            "contact__region": np.full(n, "emea"),
        }
    ).astype("category")
    return frame, converted


def test_attribute_rules_read_each_column_for_what_it_is():
    frame, converted = _leads()
    plan = plan_attributes(frame, converted, mode="cross_sectional")
    kinds = {item.name: item.kind for item in plan.columns}
    assert kinds == {
        "contact.plan": "category",
        "contact.newsletter": "boolean",
        "contact.visits": "number",
    }
    reasons = {row["feature"]: row["reason"] for row in plan.excluded}
    assert reasons["contact.lead_id"].startswith("an identifier")
    assert reasons["contact.lead_number"].startswith("an identifier")
    assert reasons["contact.full_name"] == "a name"
    assert reasons["contact.email_original"] == "e-mail addresses"
    assert reasons["contact.signed_up"] == "a date"
    assert reasons["contact.notes"].startswith("free text")
    assert reasons["contact.status"].startswith("records the outcome")  # won / open
    assert reasons["contact.score"].startswith("records the outcome")  # only for winners
    assert reasons["contact.region"] == "the same value for every lead"

    features, categorical, numeric = encode(frame, plan)
    assert categorical == ["contact__plan", "contact__newsletter"]
    assert set(features.contact__newsletter) == {"yes", "no"}
    assert MISSING in set(features.contact__plan)
    visits = frame.contact__visits.astype(int)
    assert np.allclose(features["contact__visits:log"], np.log1p(visits))
    assert numeric == ["contact__visits:log", "contact__visits:missing"]
    assert attribute_label("contact.page_views_per_visit") == "Page Views per Visit"
    assert attribute_label("company.annual_revenue") == "Company Annual Revenue"


def test_a_rare_outcome_does_not_make_every_column_look_like_a_leak():
    """With 1% converted, most values have no conversion at all; that alone is no leak."""
    rng = np.random.default_rng(9)
    n = 3000
    converted = rng.random(n) < 0.01
    frame = pd.DataFrame(
        {"contact__plan": rng.choice(["a", "b", "c", "d"], n, p=[0.9, 0.05, 0.03, 0.02])}
    ).astype("category")
    assert [item.name for item in plan_attributes(frame, converted, mode="auto").columns] == [
        "contact.plan"
    ]


def test_columns_are_chosen_by_name_then_by_fill():
    columns = [
        "contact__email",
        "contact__lifecycle_stage",
        "contact__lead_quality",
        "contact__a",
        "contact__b",
        "contact__c",
        "company__name",
        "company__d",
    ]
    filled = {name: 10 for name in columns} | {"contact__a": 50, "contact__b": 5, "company__d": 0}
    chosen, excluded = choose_columns(columns, filled, exclude=("lead_quality", "no_such"), limit=2)
    assert chosen == ["contact__a", "contact__c"]
    reasons = {row["feature"]: row["reason"] for row in excluded}
    assert "lifecycle stage" in reasons["contact.lifecycle_stage"]
    assert reasons["contact.lead_quality"] == "listed in the exclude_columns setting"
    assert reasons["no_such"].endswith("no such column")
    assert reasons["company.d"] == "empty"
    assert reasons["contact.b"].startswith("beyond max_attribute_columns (2)")
    assert reasons["company.name"] == "a name"


def _snapshot(n: int = 3000, seed: int = 2) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leads known at one date: a `plan` column makes conversion likelier, nothing else."""
    rng = np.random.default_rng(seed)
    ids = [f"C{i:05d}" for i in range(n)]
    plan = rng.choice(["pro", "basic"], n, p=[0.3, 0.7])
    converted = rng.random(n) < np.where(plan == "pro", 0.5, 0.1)
    examples = pd.DataFrame(
        {
            "contact_id": ids,
            "feature_date": date(2026, 6, 30),
            "seniority": "manager",
            "department": "sales",
            "industry": "Retail",
            "size_band": "SMB",
            "email_domain_type": "valid",
            "lead_source": "web",
            "persona": "manager",
            "employee_count": 50,
            "lead_age_days": rng.integers(1, 300, n),
            "rule_lead_score": rng.integers(0, 100, n).astype(float),
            "is_converted": converted,
            "sample_fraction": [
                int(hashlib.md5(i.encode()).hexdigest()[:8], 16) / 2**32 for i in ids
            ],
        }
    )
    attributes = pd.DataFrame({"contact__plan": plan}, index=pd.Index(ids, name="contact_id"))
    return examples, attributes.astype("category")


def test_auto_falls_back_to_cross_sectional_and_scores_the_open_leads():
    snapshot, attributes = _snapshot()
    converted = snapshot.set_index("contact_id").is_converted.to_numpy()
    settings = PredictiveSettings(min_training_conversions=50)
    # point-in-time examples without a single conversion
    nothing = snapshot.assign(sample_role="train", is_converted=False).head(500)
    pit = build_dataset(nothing, pd.DataFrame(), {})
    plan = plan_attributes(attributes, converted, mode="cross_sectional")
    cross = snapshot_dataset(snapshot, settings, {}, attributes=attributes, plan=plan)
    result = train_and_score(
        pit, settings, as_of=date(2026, 6, 30), window_days=90, snapshot=lambda: cross
    )
    assert result.trained and result.mode == "cross_sectional"
    assert "only 0 conversions" in result.mode_reason
    held = snapshot.sample_fraction < settings.holdout_share
    assert result.metrics["holdout_examples"] == held.sum()
    assert set(result.predictions.contact_id) == set(snapshot.contact_id[~snapshot.is_converted])
    best = roc_auc_score(
        snapshot.is_converted[held], (attributes.contact__plan == "pro").to_numpy()[held]
    )
    assert result.metrics["holdout_auc"] == pytest.approx(best, abs=0.03)
    pro = result.predictions.contact_id.map(attributes.contact__plan) == "pro"
    assert result.predictions.top_factors[pro].str.startswith("Plan: pro (+").all()
    assert {"feature": "contact.plan", "label": "Plan", "kind": "category"} in (
        result.features_used
    )
    assert result.features_excluded[-1]["feature"] == "behaviour"


def test_point_in_time_mode_does_not_fall_back():
    snapshot, _ = _snapshot()
    nothing = snapshot.assign(sample_role="train", is_converted=False).head(500)
    result = train_and_score(
        build_dataset(nothing, pd.DataFrame(), {}),
        PredictiveSettings(mode="point_in_time"),
        as_of=date(2026, 6, 30),
        window_days=90,
        snapshot=lambda: pytest.fail("cross-sectional examples built in point_in_time mode"),
    )
    assert not result.trained and result.mode == "point_in_time"
    assert "only 0 conversions in 500 training examples" in result.reason


def test_an_older_model_card_table_gets_the_new_columns(tmp_path):
    """The card is appended to: a table written before this change keeps its rows and gains
    the new columns (null in old rows)."""
    from orchestration.lib.warehouse import connect

    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    old_columns = (
        "model_run_id varchar, trained_at timestamp, as_of_date date, status varchar, "
        "reason varchar, model_type varchar, outcome_window_days integer, "
        "training_dates varchar, holdout_date date, training_examples integer, "
        "training_conversions integer, holdout_examples integer, holdout_conversions integer, "
        "compared_examples integer, holdout_auc double precision, "
        "rule_score_auc double precision, holdout_auc_all double precision, "
        "brier_score double precision, log_loss double precision, "
        "holdout_base_rate double precision, scored_leads integer, features integer, "
        "settings varchar, top_weights varchar"
    )
    with connect(settings) as conn:
        conn.execute("create schema marts")
        conn.execute(f"create table marts.{MODEL_CARD_TABLE} ({old_columns})")
        conn.execute(
            f"insert into marts.{MODEL_CARD_TABLE} (model_run_id, status, training_examples) "
            "values ('old', 'trained', 7)"
        )
        result = ModelResult(
            run_id="new",
            trained_at=datetime(2026, 6, 30, 8, 0),
            as_of_date=date(2026, 6, 30),
            status="not_trained",
            reason="too few",
            settings=PredictiveSettings(exclude_columns=("lead_quality",)),
            model_type="logistic_regression",
            metrics={"training_examples": 3},
            mode="cross_sectional",
            mode_reason="setting",
            features_used=[{"feature": "contact.plan", "label": "Plan", "kind": "category"}],
            features_excluded=[{"feature": "contact.email", "reason": "e-mail addresses"}],
        )
        write_outputs(conn, "marts", result)
        rows = conn.fetch_dicts(
            f"select * from marts.{MODEL_CARD_TABLE} order by model_run_id desc"
        )
    old, new = rows
    assert (old["model_run_id"], old["training_examples"], old["training_mode"]) == (
        "old",
        7,
        None,
    )
    assert new["training_mode"] == "cross_sectional"
    assert json.loads(new["features_used"])[0]["feature"] == "contact.plan"
    assert json.loads(new["settings"])["exclude_columns"] == ["lead_quality"]


def test_thresholds_are_documented_constants():
    # the card's reasons quote these; docs/predictive.md states them
    assert attribute_rules.LEAK_SHARE == 0.95
    assert attribute_rules.ID_SHARE == 0.95
