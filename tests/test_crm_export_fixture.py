"""Checks of the synthetic CRM lead export (tests/fixtures/crm_export.py), made from the CSV
alone, the way an analyst would read the download: nothing here uses the generator's hidden
scores, weights or helpers. The baselines build their own features (one-hot categoricals with
a missing indicator, log1p of the numbers) from the leak-free columns named below."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split
from threadpoolctl import threadpool_limits

from tests.fixtures.crm_export import (
    ID_COLUMN,
    LEAKY_COLUMNS,
    OUTCOME_COLUMN,
    SNAPSHOT_DATE,
    write_lead_export,
)

ROWS = 6000
SPLIT_SEED = 12345  # fixed before any model was fitted; 70/30 split
TIME = "Total Time Spent on Website"
OCCUPATION = "Current Occupation"
DATE_COLUMNS = ("First Contact Date", "Last Activity Date")
FORM_COLUMNS = ("Specialization", "How Did You Hear About Us", "City", "Lead Profile")
FLAG_COLUMNS = (
    "Do Not Email",
    "Do Not Call",
    "Search Ad",
    "Newsletter",
    "Free Copy Of Guide",
    "Through Recommendations",
)
# What a careful analyst may feed a model: no ids, contact details, free text, dates, the
# outcome, or the columns sales fills in after the fact.
CATEGORICAL = (
    "Lead Origin",
    "Lead Source",
    "Last Activity",
    "Country",
    OCCUPATION,
    *FORM_COLUMNS,
    *FLAG_COLUMNS,
)
NUMERIC = ("Total Visits", TIME, "Page Views Per Visit")
M_D_YYYY = re.compile(r"^(?P<m>1[0-2]|[1-9])/(?P<d>3[01]|[12][0-9]|[1-9])/(?P<y>\d{4})$")


@pytest.fixture(scope="module")
def export_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_lead_export(tmp_path_factory.mktemp("crm_export") / "leads.csv")


@pytest.fixture(scope="module")
def text(export_path: Path) -> pd.DataFrame:
    """Every cell exactly as written ("" where empty)."""
    return pd.read_csv(export_path, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def leads(export_path: Path) -> pd.DataFrame:
    """The export as pandas types it (empty cells are missing)."""
    return pd.read_csv(export_path)


def leak_free_features(frame: pd.DataFrame) -> pd.DataFrame:
    categorical = pd.get_dummies(frame[list(CATEGORICAL)].astype(object), dummy_na=True)
    parts = [categorical.astype(float)]
    for column in NUMERIC:
        values = frame[column].astype(float)
        parts.append(np.log1p(values.fillna(0)).rename(column).to_frame())
        parts.append(values.isna().astype(float).rename(f"{column} missing").to_frame())
    return pd.concat(parts, axis=1)


def split(frame: pd.DataFrame) -> tuple[pd.Index, pd.Index]:
    train, test = train_test_split(
        frame.index, test_size=0.3, random_state=SPLIT_SEED, stratify=frame[OUTCOME_COLUMN]
    )
    return train, test


def held_out_auc(features: pd.DataFrame, outcome: pd.Series) -> float:
    train, test = split(outcome.to_frame())
    # One BLAS thread: on a small shared machine the default threading makes lbfgs 20x slower.
    with threadpool_limits(limits=1):
        model = LogisticRegression(max_iter=2000).fit(features.loc[train], outcome.loc[train])
    return roc_auc_score(outcome.loc[test], model.predict_proba(features.loc[test])[:, 1])


def parse(value: str) -> date:
    return datetime.strptime(value, "%m/%d/%Y").date()


def test_rows_columns_and_ids(text: pd.DataFrame) -> None:
    assert len(text) == ROWS
    assert len(text.columns) >= 24
    assert all(name[0].isupper() for name in text.columns)
    assert sum(" " in name for name in text.columns) >= 15
    assert {ID_COLUMN, OUTCOME_COLUMN, *LEAKY_COLUMNS, *CATEGORICAL, *NUMERIC} <= set(text)
    ids = text[ID_COLUMN]
    assert ids.is_unique
    assert ids.str.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    ).all()
    numbers = text["Lead Number"]
    assert numbers.str.fullmatch(r"[1-9][0-9]*").all()
    assert numbers.is_unique


def test_same_arguments_give_identical_bytes(tmp_path: Path, export_path: Path) -> None:
    again = write_lead_export(tmp_path / "again.csv")
    assert again == tmp_path / "again.csv"
    assert again.read_bytes() == export_path.read_bytes()
    other = write_lead_export(tmp_path / "other.csv", rows=ROWS, seed=21)
    assert other.read_bytes() != export_path.read_bytes()
    small = pd.read_csv(write_lead_export(tmp_path / "small.csv", rows=300, seed=3))
    assert len(small) == 300


def test_dates_are_unpadded_m_d_yyyy_within_the_snapshot_year(text: pd.DataFrame) -> None:
    for column in DATE_COLUMNS:
        given = text.loc[text[column] != "", column]
        parts = given.str.extract(M_D_YYYY)
        assert parts.notna().all().all(), given[parts["m"].isna()].head().tolist()
        assert not given.str.contains(r"(?:^|/)0").any()  # no zero padding anywhere
        assert (parts["m"].str.len() == 1).any() and (parts["d"].str.len() == 1).any()
        assert (parts["m"].str.len() == 2).any() and (parts["d"].str.len() == 2).any()
    first = text["First Contact Date"].map(parse)
    ages = first.map(lambda day: (SNAPSHOT_DATE - day).days)
    assert ages.between(0, 366).all()
    assert first.map(lambda day: (day.year, day.month)).nunique() >= 12
    assert ages.max() >= 330 and ages.min() <= 14
    empty = text["Last Activity Date"] == ""
    assert 0.03 <= empty.mean() <= 0.07
    last = text.loc[~empty, "Last Activity Date"].map(parse)
    assert (last >= first[~empty]).all()
    assert (last <= SNAPSHOT_DATE).all()
    assert (last > first[~empty]).mean() > 0.5


def test_select_placeholder_shares(text: pd.DataFrame) -> None:
    for column in FORM_COLUMNS:
        share = (text[column] == "Select").mean()
        assert 0.30 <= share <= 0.60, (column, share)
        assert text[column].nunique() >= 5  # real answers besides the placeholder


def test_column_vocabularies(text: pd.DataFrame) -> None:
    assert set(text[OUTCOME_COLUMN]) == {"0", "1"}
    for column in FLAG_COLUMNS:
        assert set(text[column]) <= {"Yes", "No"}, column
    assert (text["Do Not Email"] == "Yes").mean() > 0.02
    assert set(text["Lead Origin"]) == {
        "Landing Page Submission",
        "API",
        "Lead Add Form",
        "Lead Import",
        "Quick Add Form",
    }
    sources = text["Lead Source"]
    assert {"Google", "Direct Traffic", "Olark Chat", "Reference", "Welingak Website"} <= set(
        sources
    )
    assert 0 < (sources == "").mean() < 0.02
    assert {"Working Professional", "Unemployed", "Student", "Housewife"} <= set(text[OCCUPATION])
    assert {"Email Opened", "SMS Sent", "Email Bounced", "Had a Phone Conversation"} <= set(
        text["Last Activity"]
    )
    countries = text["Country"].value_counts(normalize=True)
    assert countries.iloc[0] >= 0.6 and countries.index[0] != ""
    assert 0.05 <= countries.get("", 0) <= 0.35
    assert len(countries) >= 6
    emails = text.loc[text["Email"] != "", "Email"]
    assert 0.6 <= len(emails) / len(text) <= 0.8
    assert emails.str.fullmatch(r"[a-z0-9._]+@[a-z0-9.-]+\.[a-z]{2,}").all()
    assert emails.is_unique
    assert (emails.str.endswith("@gmail.com")).mean() > 0.2
    assert 0.6 <= (text["Job Title"] == "").mean() < 0.98


def test_activity_columns(text: pd.DataFrame) -> None:
    visits_empty = text["Total Visits"] == ""
    assert 0.005 <= visits_empty.mean() <= 0.03
    assert ((text["Page Views Per Visit"] == "") == visits_empty).all()
    assert text.loc[~visits_empty, "Total Visits"].str.fullmatch(r"\d+").all()
    assert text[TIME].str.fullmatch(r"\d+").all()
    views = text.loc[~visits_empty, "Page Views Per Visit"]
    assert views.str.fullmatch(r"\d+(\.\d{1,2})?").all()
    assert views.str.contains(r"\.\d\d$").any()


def test_missing_occupation_converts_at_a_fraction_of_the_overall_rate(
    leads: pd.DataFrame,
) -> None:
    missing = leads[OCCUPATION].isna()
    assert 0.25 <= missing.mean() <= 0.35
    overall = leads[OUTCOME_COLUMN].mean()
    ratio = leads.loc[missing, OUTCOME_COLUMN].mean() / overall
    assert 0.2 <= ratio <= 0.5, ratio


def test_overall_conversion_rate(leads: pd.DataFrame) -> None:
    rate = leads[OUTCOME_COLUMN].mean()
    assert 0.33 <= rate <= 0.42, rate


def test_leak_free_logistic_regression_and_time_on_site_auc(leads: pd.DataFrame) -> None:
    outcome = leads[OUTCOME_COLUMN]
    auc = held_out_auc(leak_free_features(leads), outcome)
    assert 0.85 <= auc <= 0.92, auc
    _, test = split(leads)
    time_auc = roc_auc_score(outcome.loc[test], leads.loc[test, TIME])
    assert 0.70 <= time_auc <= 0.80, time_auc


def test_time_on_site_is_the_strongest_single_column(leads: pd.DataFrame) -> None:
    train, test = split(leads)
    outcome = leads[OUTCOME_COLUMN]
    single = {}
    for column in (*CATEGORICAL, *NUMERIC):
        values = leads[column].astype(object).fillna("<missing>")
        if column in NUMERIC:
            score = leads[column].fillna(-1)
        else:  # each value scored by its conversion rate on the training rows
            rates = outcome.loc[train].groupby(values.loc[train]).mean()
            score = values.map(rates).fillna(outcome.loc[train].mean()).astype(float)
        single[column] = roc_auc_score(outcome.loc[test], score.loc[test])
    best = max(single, key=single.get)
    assert best == TIME, sorted(single.items(), key=lambda item: -item[1])[:4]


def test_lead_quality_leaks_the_outcome(leads: pd.DataFrame) -> None:
    (leaky,) = LEAKY_COLUMNS
    quality = leads[leaky]
    assert 0.3 <= quality.isna().mean() <= 0.7
    high = quality == "High in Relevance"
    assert leads.loc[high, OUTCOME_COLUMN].mean() >= 0.8
    outcome = leads[OUTCOME_COLUMN]
    features = leak_free_features(leads)
    with_leak = pd.concat(
        [
            features,
            pd.get_dummies(quality.astype(object), prefix=leaky, dummy_na=True).astype(float),
        ],
        axis=1,
    )
    assert held_out_auc(with_leak, outcome) >= held_out_auc(features, outcome) + 0.02
