"""`leadscore suggest-rules` on the demo warehouse: learned rules that rank the held-out leads
as well as a plain logistic regression on the same kind of information, and better than the
shipped rules. The reference model is built here from the landing files with pandas and
scikit-learn (never from the code under test), on the split the command documents: a stable
hash of the lead's id, fixed before fitting. The export fixture's case is in
tests/test_export_onboarding.py."""

from __future__ import annotations

import csv
import hashlib
from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from orchestration.learning.runner import suggest_rules
from orchestration.lib.seeds import seed_path
from tests.conftest import AS_OF

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

WINDOW_DAYS = 90


def held_out(contact_id: str, share: float = 0.3) -> bool:
    """The split suggest-rules documents: md5 of the id, first 8 hex digits, mod 10,000."""
    return int(hashlib.md5(contact_id.encode()).hexdigest()[:8], 16) % 10_000 < share * 10_000


def read(landing: Path, table: str) -> pd.DataFrame:
    return pd.concat(
        [pd.read_csv(path, dtype=str) for path in sorted((landing / table).glob("*.csv"))],
        ignore_index=True,
    )


def reference_features(landing: Path, leads: pd.Series, evaluation: date) -> pd.DataFrame:
    """What the leads looked like on the evaluation date, from the landing files: their
    answers and company (one-hot, missing as a category), employees (log), a free-mail
    address, and their events of each type in the last 7 and 30 days (log counts)."""
    contacts = read(landing, "crm_contacts").drop_duplicates("contact_id", keep="last")
    companies = read(landing, "crm_companies").drop_duplicates("company_id", keep="last")
    frame = (
        pd.DataFrame({"contact_id": leads})
        .merge(contacts, on="contact_id", how="left")
        .merge(companies, on="company_id", how="left", suffixes=("", "_company"))
    )
    with seed_path("freemail_domains").open() as handle:
        freemail = {row["domain"] for row in csv.DictReader(handle)}
    domain = frame["email"].str.strip().str.lower().str.split("@").str[-1]
    features = pd.get_dummies(
        frame[["job_title", "industry", "country", "lead_source"]].apply(
            lambda column: column.str.strip().str.lower()
        ),
        dummy_na=True,
    ).astype(float)
    employees = pd.to_numeric(frame["employee_count"], errors="coerce")
    features["log_employees"] = np.log1p(employees.clip(lower=0).fillna(0))
    features["employees_missing"] = employees.isna().astype(float)
    features["freemail"] = domain.isin(freemail).astype(float)

    events = read(landing, "marketing_events")
    events["occurred_at"] = pd.to_datetime(events["occurred_at"], errors="coerce")
    end = datetime.combine(evaluation + timedelta(days=1), datetime.min.time())
    events = events[(events["occurred_at"] < end) & events["contact_id"].isin(set(leads))]
    events["kind"] = events["event_type"] + ":" + events["page_category"].fillna("")
    for days in (7, 30):
        recent = events[events["occurred_at"] >= end - timedelta(days=days)]
        counts = recent.groupby(["contact_id", "kind"]).size().unstack(fill_value=0)
        counts = np.log1p(counts).add_suffix(f":{days}d")
        features = features.join(
            counts.reindex(frame["contact_id"]).reset_index(drop=True).fillna(0.0)
        )
    return features.fillna(0.0)


def test_suggested_rules_on_the_demo_rank_like_a_regression_and_beat_the_shipped_rules(
    refreshed_warehouse, acceptance_landing, tmp_path
):
    evaluation = date.fromisoformat(AS_OF) - timedelta(days=WINDOW_DAYS)
    run = suggest_rules(
        refreshed_warehouse,
        as_of=evaluation,
        window_days=WINDOW_DAYS,
        out_dir=tmp_path / "suggested",
        log=lambda message: None,
    )
    folder = run.out_dir
    # The folder holds seeds an analyst can copy, and where each point came from.
    for name in ("scoring_fit_rules", "scoring_behavior_rules", "scoring_weights"):
        assert (folder / f"{name}.csv").exists(), name
    with (folder / "provenance" / "rules.csv").open() as handle:
        provenance = list(csv.DictReader(handle))
    assert len(provenance) == len(run.suggestion.rules) > 5

    scores = pd.read_parquet(folder / "backtest" / "scores.parquet")
    scores = scores[scores["suggested_score"].notna() & scores["current_score"].notna()]
    holdout = scores["contact_id"].map(held_out).to_numpy(bool)
    outcome = scores["converted"].to_numpy(int)
    assert outcome[holdout].sum() >= 30  # enough conversions held out to judge on

    features = reference_features(
        acceptance_landing.out_dir, scores["contact_id"], evaluation
    ).to_numpy()
    reference = LogisticRegression(max_iter=5000).fit(features[~holdout], outcome[~holdout])
    reference_auc = roc_auc_score(outcome[holdout], reference.decision_function(features[holdout]))
    suggested_auc = roc_auc_score(outcome[holdout], scores["suggested_score"][holdout])
    shipped_auc = roc_auc_score(outcome[holdout], scores["current_score"][holdout])
    assert suggested_auc >= reference_auc - 0.02, (suggested_auc, reference_auc)
    assert suggested_auc > shipped_auc, (suggested_auc, shipped_auc)


@pytest.mark.parametrize("contact_id", ["C0000001", "lead-7", "00Q5e00000AbCdE"])
def test_the_split_is_the_documented_hash(contact_id):
    from orchestration.learning.dataset import holdout_flag

    assert holdout_flag(contact_id, 0.3) == held_out(contact_id)
