"""The predictive score: a model of "won deal within the outcome window", trained on the
warehouse's own history in one of two modes.

* point_in_time: dbt prepares the examples (`int_predictive__examples`: one row per lead and
  sample date, with attributes, age, the rule score of that date and the outcome) and the
  behaviour features (`int_predictive__behavior_features`: per lead, date and behaviour rule,
  counts in windows, decayed count and days since the last event). The model trains on the
  training dates, is judged on the holdout date, is refit on both and scores today's leads.
* cross_sectional: for data whose outcomes are known only at the as-of date (a one-row-per-
  lead CRM export), one example per lead known then (`int_predictive__snapshot_examples`):
  converted = a won deal closed by the end of the as-of date. A stable hash of the contact id
  holds out `holdout_share` of the leads; behaviour is left out (a converted lead's activity
  after its win would leak the answer). It scores the leads still open.

`mode: auto` (the default) trains point-in-time when its training examples hold at least
`min_training_conversions` conversions, else cross-sectionally. Both modes read the lead's
own columns too (`int_predictive__lead_attributes`, see attributes.py).

Everything is plain data in and out so the same code runs under Dagster, the CLI and tests.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np
import pandas as pd

from orchestration.predictive.attributes import (
    MAX_CATEGORIES,
    MIN_CATEGORY_EXAMPLES,
    SOURCES,
    AttributePlan,
    choose_columns,
    describe_number,
    encode,
    normalise_name,
    plan_attributes,
)

CATEGORICAL = {
    "seniority": "Seniority",
    "department": "Department",
    "industry": "Industry",
    "size_band": "Company size",
    "email_domain_type": "Email domain",
    "lead_source": "Lead source",
    "persona": "Persona",
}
BEHAVIOUR_COLUMNS = (
    "occurrences_7d",
    "occurrences_30d",
    "occurrences_90d",
    "occurrences_total",
    "decayed_occurrences",
)
# Days since the last event enter as exp(-days / RECENCY_SCALE_DAYS): 1 today, 0 never.
RECENCY_SCALE_DAYS = 30.0
MODEL_TYPES = ("logistic_regression", "gradient_boosting")
MODES = ("auto", "point_in_time", "cross_sectional")
POINT_IN_TIME, CROSS_SECTIONAL = "point_in_time", "cross_sectional"
CALIBRATION_BINS = 10
# An attribute enters the model when a score test on the training examples says it adds
# evidence beyond the fixed features at this level (about one false pick in 1,000 columns).
SCREEN_P_VALUE = 0.001
SETTINGS_SEED = "predictive_settings"
BEHAVIOUR_LEFT_OUT = (
    "left out in cross-sectional mode: a converted lead's activity after its win would tell "
    "the model the answer"
)


class PredictiveConfigError(ValueError):
    """A row of seeds/predictive/predictive_settings.csv is missing or invalid."""


@dataclass(frozen=True)
class PredictiveSettings:
    training_dates: int = 6
    training_step_days: int = 30
    min_training_conversions: int = 40
    model: str = "logistic_regression"
    regularization: float = 0.1
    top_factors: int = 3
    blend_weight: float | None = 0.5
    max_training_examples: int = 200_000
    mode: str = "auto"
    training_window_days: int | None = None  # None: fitted to how fast leads win ("auto")
    sample_at_creation: str = "auto"  # auto: only when the sample dates hold too few wins
    holdout_share: float = 0.3
    exclude_columns: tuple[str, ...] = ()
    max_attribute_columns: int = 100

    @classmethod
    def from_rows(cls, rows: Mapping[str, str | None]) -> PredictiveSettings:
        """Settings from the seed's (setting, value) rows; every problem names its row."""
        problems: list[str] = []
        known = {name for name in cls.__dataclass_fields__}
        for name in rows:
            if name not in known:
                problems.append(
                    f"row '{name}': unknown setting (known: {', '.join(sorted(known))})"
                )

        def value(name: str) -> str | None:
            raw = rows.get(name)
            return None if raw is None or str(raw).strip() == "" else str(raw).strip()

        def number(name: str, kind: type, low: float, high: float | None = None) -> Any:
            raw = value(name)
            if raw is None:
                problems.append(f"row '{name}': a value is required")
                return None
            try:
                parsed = kind(raw)
            except ValueError:
                what = "whole number" if kind is int else "number"
                problems.append(f"row '{name}': '{raw}' is not a {what}")
                return None
            if parsed < low or (high is not None and parsed > high):
                bound = f"between {low} and {high}" if high is not None else f"at least {low}"
                problems.append(f"row '{name}': {raw} must be {bound}")
                return None
            return parsed

        def optional(name: str, kind: type, low: float, high: float | None = None) -> Any:
            if value(name) is None:
                return cls.__dataclass_fields__[name].default
            return number(name, kind, low, high)

        parsed = {
            "training_dates": number("training_dates", int, 1, 52),
            "training_step_days": number("training_step_days", int, 1),
            "min_training_conversions": number("min_training_conversions", int, 1),
            "regularization": number("regularization", float, 1e-6),
            "top_factors": number("top_factors", int, 0, 20),
            "max_training_examples": optional("max_training_examples", int, 1000),
            "holdout_share": optional("holdout_share", float, 0.05, 0.5),
            "max_attribute_columns": optional("max_attribute_columns", int, 0, 1000),
        }
        model = value("model") or "logistic_regression"
        if model not in MODEL_TYPES:
            problems.append(f"row 'model': '{model}' must be one of {', '.join(MODEL_TYPES)}")
        mode = (value("mode") or "auto").lower()
        if mode not in MODES:
            problems.append(f"row 'mode': '{mode}' must be one of {', '.join(MODES)}")
        window = None
        if (value("training_window_days") or "auto").lower() != "auto":
            window = number("training_window_days", int, 1, 730)
        creation = (value("sample_at_creation") or "auto").lower()
        if creation not in ("auto", "true", "false"):
            problems.append(f"row 'sample_at_creation': '{creation}' must be auto, true or false")
        exclude = []
        for entry in (value("exclude_columns") or "").replace("|", ",").split(","):
            if not entry.strip():
                continue
            name = normalise_name(entry)
            if not name:
                problems.append(f"row 'exclude_columns': '{entry.strip()}' is not a column name")
            elif name not in exclude:
                exclude.append(name)
        blend = None
        if value("blend_weight") is not None:
            blend = number("blend_weight", float, 0.0, 1.0)
        if problems:
            raise PredictiveConfigError(
                f"Invalid predictive configuration (fix seeds/predictive/{SETTINGS_SEED}.csv "
                "and run again):\n  - " + "\n  - ".join(problems)
            )
        return cls(
            model=model,
            blend_weight=blend,
            mode=mode,
            training_window_days=window,
            sample_at_creation=creation,
            exclude_columns=tuple(exclude),
            **parsed,
        )


@dataclass
class Dataset:
    """The feature matrix with one row per (contact, date) and what each column means."""

    frame: pd.DataFrame  # examples' columns plus the feature columns
    numeric: list[str]
    categorical: list[str]
    groups: dict[str, list[str]]  # factor name -> its columns
    labels: dict[str, str]  # factor name -> words
    attribute_categorical: list[str] = field(default_factory=list)
    plan: AttributePlan | None = None
    mode: str = POINT_IN_TIME

    @property
    def inputs(self) -> list[str]:
        return self.categorical + self.attribute_categorical + self.numeric

    def features_used(self) -> list[dict[str, str]]:
        """Every factor the model reads: its name, its words and what kind it is."""
        attributes = {item.column: item for item in (self.plan.columns if self.plan else [])}
        used = []
        for group, label in self.labels.items():
            if group in attributes:
                item = attributes[group]
                used.append({"feature": item.name, "label": label, "kind": item.kind})
            elif group in CATEGORICAL or group in ("lead_age", "company_employees"):
                used.append({"feature": group, "label": label, "kind": "profile"})
            else:
                used.append({"feature": group, "label": label, "kind": "behaviour"})
        return used

    def features_excluded(self) -> list[dict[str, str]]:
        excluded = list(self.plan.excluded) if self.plan else []
        if self.mode == CROSS_SECTIONAL:
            excluded.append({"feature": "behaviour", "reason": BEHAVIOUR_LEFT_OUT})
        return excluded


@dataclass
class ModelResult:
    run_id: str
    trained_at: datetime
    as_of_date: date | None
    status: str  # trained | not_trained
    reason: str
    settings: PredictiveSettings
    model_type: str
    window_days: int | None = None
    training_dates: list[date] = field(default_factory=list)
    holdout_date: date | None = None
    metrics: dict[str, float | int | None] = field(default_factory=dict)
    calibration: list[dict[str, Any]] = field(default_factory=list)
    weights: list[dict[str, Any]] = field(default_factory=list)
    predictions: pd.DataFrame | None = None
    mode: str | None = None
    mode_reason: str = ""
    training_window_days: int | None = None
    features_used: list[dict[str, str]] = field(default_factory=list)
    features_excluded: list[dict[str, str]] = field(default_factory=list)

    @property
    def trained(self) -> bool:
        return self.status == "trained"

    def summary(self) -> str:
        if not self.trained:
            return f"predictive model not trained: {self.reason}"
        m = self.metrics
        rule = m.get("rule_score_auc")
        rule_text = f"{rule:.3f}" if rule is not None else "n/a (no score snapshot)"
        held_out = (
            f"held out {self.holdout_date}"
            if self.mode != CROSS_SECTIONAL
            else f"held out {m['holdout_examples']:,} leads"
        )
        return (
            f"predictive model ({self.model_type}, {self.mode}) trained on "
            f"{m['training_examples']:,} examples ({m['training_conversions']:,} conversions); "
            f"{held_out}: AUC {_fmt(m.get('holdout_auc'))} vs rule score {rule_text} on "
            f"{m['compared_examples']:,} leads; {m['scored_leads']:,} leads scored"
        )


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


# --- Features --------------------------------------------------------------------------------


def build_dataset(
    examples: pd.DataFrame,
    behaviour: pd.DataFrame,
    rule_descriptions: Mapping[str, str],
    like: Dataset | None = None,
    *,
    attributes: pd.DataFrame | None = None,
    plan: AttributePlan | None = None,
    mode: str = POINT_IN_TIME,
) -> Dataset:
    """Pivot the behaviour rows into columns per rule and join them onto the examples, with
    the lead's own columns of `plan` (from `attributes`, one row per contact id). With `like`
    (the training set), the columns are exactly its columns: a rule without activity in this
    batch is all zeros, a rule the model never saw is left out."""
    if like is not None:
        plan, mode = like.plan, like.mode
    examples = examples.copy()
    examples["feature_date"] = pd.to_datetime(examples["feature_date"]).dt.date
    key = ["contact_id", "feature_date"]
    # a fixed row order: the same rows give the same model whatever order the engine returns
    frame = examples.set_index(key).sort_index()
    groups: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    columns: dict[str, pd.Series] = {}
    if len(behaviour) and mode == POINT_IN_TIME:
        behaviour = behaviour.copy()
        behaviour["feature_date"] = pd.to_datetime(behaviour["feature_date"]).dt.date
        indexed = behaviour.set_index([*key, "rule_id"])
        for rule_id in sorted(behaviour["rule_id"].unique()):
            rows = indexed.xs(rule_id, level="rule_id")
            names = []
            # "any engagement" enters only as recency: its counts are the sum of the others
            is_recency = (rows["rule_type"] == "recency").any()
            for column in () if is_recency else BEHAVIOUR_COLUMNS:
                name = f"{rule_id}:{column}"
                columns[name] = np.log1p(rows[column].astype(float).clip(lower=0))
                names.append(name)
            name = f"{rule_id}:recent"
            columns[name] = np.exp(-rows["days_since_last"].astype(float) / RECENCY_SCALE_DAYS)
            names.append(name)
            groups[rule_id] = names
            labels[rule_id] = rule_descriptions.get(rule_id, rule_id)
    if columns:
        frame = frame.join(pd.DataFrame(columns), how="left")
    behaviour_columns = [name for names in groups.values() for name in names]
    frame[behaviour_columns] = frame[behaviour_columns].fillna(0.0)

    employees = pd.to_numeric(frame["employee_count"], errors="coerce")
    age = pd.to_numeric(frame["lead_age_days"], errors="coerce").fillna(0).clip(lower=0)
    extra = pd.DataFrame(
        {
            "lead_age:log_days": np.log1p(age),
            "lead_age:first_30_days": (age < 30).astype(float),
            "company:log_employees": np.log1p(employees.fillna(0).clip(lower=0)),
            "company:employees_unknown": employees.isna().astype(float),
        },
        index=frame.index,
    )
    parts = [frame, extra]
    attribute_categorical: list[str] = []
    if plan is not None and plan.columns:
        contacts = frame.index.get_level_values("contact_id")
        if attributes is None:
            attributes = pd.DataFrame(index=pd.Index([], name="contact_id"))
        # one row per example: the lead's values (categorical, so repeated dates cost little)
        rows = attributes.reindex(contacts)
        rows.index = frame.index
        encoded, attribute_categorical, _ = encode(rows, plan)
        parts.append(encoded)
    frame = pd.concat(parts, axis=1).copy()
    groups["lead_age"] = ["lead_age:log_days", "lead_age:first_30_days"]
    labels["lead_age"] = "Lead age"
    groups["company_employees"] = ["company:log_employees", "company:employees_unknown"]
    labels["company_employees"] = "Company employees"
    for column, label in CATEGORICAL.items():
        frame[column] = frame[column].fillna("unknown").astype(str)
        groups[column] = [column]
        labels[column] = label
    for item in plan.columns if plan is not None else []:
        if item.kind == "number":
            groups[item.column] = [f"{item.column}:log", f"{item.column}:missing"]
        else:
            groups[item.column] = [item.column]
        labels[item.column] = item.label
    numeric = [name for name in frame.columns if ":" in name]
    if like is not None:
        missing = [name for name in like.numeric if name not in frame.columns]
        if missing:
            zeros = pd.DataFrame(0.0, index=frame.index, columns=missing)
            frame = pd.concat([frame, zeros], axis=1)
        frame = frame.drop(columns=[name for name in numeric if name not in like.numeric])
        return Dataset(
            frame=frame.reset_index(),
            numeric=list(like.numeric),
            categorical=list(like.categorical),
            groups=like.groups,
            labels=like.labels,
            attribute_categorical=list(like.attribute_categorical),
            plan=like.plan,
            mode=like.mode,
        )
    return Dataset(
        frame=frame.reset_index(),
        numeric=numeric,
        categorical=list(CATEGORICAL),
        groups=groups,
        labels=labels,
        attribute_categorical=attribute_categorical,
        plan=plan,
        mode=mode,
    )


# --- Training and evaluation -----------------------------------------------------------------


def _pipeline(settings: PredictiveSettings, dataset: Dataset):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    attributes = dataset.attribute_categorical
    if settings.model == "gradient_boosting":
        steps = [
            (
                "categories",
                OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                dataset.categorical,
            )
        ]
        if attributes:
            steps.append(
                (
                    "attributes",
                    OrdinalEncoder(
                        handle_unknown="use_encoded_value",
                        unknown_value=-1,
                        min_frequency=MIN_CATEGORY_EXAMPLES,
                        max_categories=MAX_CATEGORIES,
                    ),
                    attributes,
                )
            )
        prepare = ColumnTransformer([*steps, ("numbers", "passthrough", dataset.numeric)])
        model = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            categorical_features=list(range(len(dataset.categorical) + len(attributes))),
            random_state=0,
        )
    else:
        steps = [
            (
                "categories",
                OneHotEncoder(handle_unknown="ignore", min_frequency=MIN_CATEGORY_EXAMPLES),
                dataset.categorical,
            )
        ]
        if attributes:
            steps.append(
                (
                    "attributes",
                    OneHotEncoder(
                        handle_unknown="infrequent_if_exist",
                        min_frequency=MIN_CATEGORY_EXAMPLES,
                        max_categories=MAX_CATEGORIES,
                    ),
                    attributes,
                )
            )
        prepare = ColumnTransformer([*steps, ("numbers", StandardScaler(), dataset.numeric)])
        # a tight tolerance: the same data on another engine (sums in another order) must give
        # the same model, not another stopping point of the solver
        model = LogisticRegression(C=settings.regularization, max_iter=10_000, tol=1e-8)
    return Pipeline([("prepare", prepare), ("model", model)])


def roc_auc(outcomes: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC by the rank-sum formula (ties at their average rank); None without both
    classes. The same formula as fct_calibration_metrics, so the two figures compare."""
    outcomes = np.asarray(outcomes, dtype=bool)
    positives, negatives = int(outcomes.sum()), int((~outcomes).sum())
    if positives == 0 or negatives == 0:
        return None
    ranks = pd.Series(np.asarray(scores, dtype=float)).rank(method="average").to_numpy()
    return float(
        (ranks[outcomes].sum() - positives * (positives + 1) / 2) / (positives * negatives)
    )


def _calibration(outcomes: np.ndarray, probability: np.ndarray) -> list[dict[str, Any]]:
    """Equal-count bins of the predicted probability: predicted against observed."""
    order = np.argsort(probability, kind="stable")
    bins = []
    for number, part in enumerate(np.array_split(order, CALIBRATION_BINS), start=1):
        if len(part) == 0:
            continue
        bins.append(
            {
                "bin": number,
                "examples": len(part),
                "mean_predicted": float(probability[part].mean()),
                "observed_rate": float(outcomes[part].mean()),
                "min_predicted": float(probability[part].min()),
                "max_predicted": float(probability[part].max()),
            }
        )
    return bins


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-9, 1 - 1e-9)
    return np.log(p / (1 - p))


def _baseline(dataset: Dataset, train: pd.DataFrame) -> dict[str, Any]:
    """What a factor is compared with: no activity for behaviour, the most common value for
    categories (and for whether a number is missing), the median for the other numbers."""
    baseline: dict[str, Any] = {}
    attributes = dataset.plan.columns if dataset.plan else []
    numbers = {item.column for item in attributes if item.kind == "number"}
    for group, columns in dataset.groups.items():
        for column in columns:
            if column in dataset.categorical or column in dataset.attribute_categorical:
                baseline[column] = train[column].mode().iloc[0]
            elif group in ("lead_age", "company_employees"):
                baseline[column] = float(train[column].median())
            elif group in numbers:
                missing = float(train[f"{group}:missing"].mode().iloc[0])
                known = train[f"{group}:log"][train[f"{group}:missing"] == missing]
                baseline[f"{group}:missing"] = missing
                baseline[f"{group}:log"] = float(known.median()) if len(known) else 0.0
            else:
                baseline[column] = 0.0
    return baseline


def _describe(dataset: Dataset, group: str, row: pd.Series) -> str:
    label = dataset.labels[group]
    if group in CATEGORICAL or group in dataset.attribute_categorical:
        value = row[group]
        return f"{label}: {'not given' if value == '(missing)' else value}"
    if f"{group}:missing" in row and f"{group}:log" in row:
        return f"{label}: {describe_number(row[f'{group}:log'], row[f'{group}:missing'])}"
    if group == "lead_age":
        return f"{label}: {round(math.expm1(row['lead_age:log_days']))} days"
    if group == "company_employees":
        if row["company:employees_unknown"] >= 0.5:
            return f"{label}: unknown"
        return f"{label}: {round(math.expm1(row['company:log_employees'])):,}"
    if f"{group}:occurrences_total" not in row:
        recent = float(row[f"{group}:recent"])
        if recent <= 0:
            return "Last activity: never"
        days = round(-RECENCY_SCALE_DAYS * math.log(recent))
        return f"Last activity: {'today' if days == 0 else f'{days} day(s) ago'}"
    total = round(math.expm1(row[f"{group}:occurrences_total"]))
    recent = round(math.expm1(row[f"{group}:occurrences_30d"]))
    if total == 0:
        return f"{label}: never"
    return f"{label}: {total}x, {recent}x in the last 30 days"


def explain(
    pipeline, dataset: Dataset, rows: pd.DataFrame, baseline: Mapping[str, Any], top: int
) -> list[str]:
    """Per row, the factors that moved its log-odds most against the baseline (each factor
    set to its baseline in turn), as `Requested a demo: 1x, 1x in the last 30 days (+1.21)`."""
    if top == 0 or len(rows) == 0:
        return [""] * len(rows)
    inputs = rows[dataset.inputs].copy()
    base_logit = _logit(pipeline.predict_proba(inputs)[:, 1])
    names = list(dataset.groups)
    effects = np.empty((len(rows), len(names)))
    for index, group in enumerate(names):
        saved = inputs[dataset.groups[group]].copy()
        for column in dataset.groups[group]:
            inputs[column] = baseline[column]
        effects[:, index] = base_logit - _logit(pipeline.predict_proba(inputs)[:, 1])
        inputs[saved.columns] = saved
    order = np.argsort(-np.abs(effects), axis=1)[:, :top]
    texts = []
    for row_number, (_, row) in enumerate(rows.iterrows()):
        parts = []
        for index in order[row_number]:
            effect = effects[row_number, index]
            if abs(effect) < 0.005:
                continue
            parts.append(f"{_describe(dataset, names[index], row)} ({effect:+.2f})")
        texts.append("; ".join(parts))
    return texts


def _without_attributes(dataset: Dataset, drop: Mapping[str, str]) -> Dataset:
    """The dataset without the attribute columns in `drop` (column -> why), which the plan
    lists as excluded."""
    if not drop:
        return dataset
    assert dataset.plan is not None
    columns = {column for group in drop for column in dataset.groups[group]}
    plan = AttributePlan(
        columns=[item for item in dataset.plan.columns if item.column not in drop],
        excluded=list(dataset.plan.excluded)
        + [
            {"feature": item.name, "reason": drop[item.column]}
            for item in dataset.plan.columns
            if item.column in drop
        ],
    )
    return Dataset(
        frame=dataset.frame.drop(columns=sorted(columns)),
        numeric=[name for name in dataset.numeric if name not in columns],
        categorical=list(dataset.categorical),
        groups={group: cols for group, cols in dataset.groups.items() if group not in drop},
        labels={group: label for group, label in dataset.labels.items() if group not in drop},
        attribute_categorical=[c for c in dataset.attribute_categorical if c not in columns],
        plan=plan,
        mode=dataset.mode,
    )


def _score_test(design: np.ndarray, residual: np.ndarray, leads: np.ndarray) -> tuple[float, int]:
    """Rao's score test of adding `design`'s columns to a logistic model whose residuals
    (outcome - predicted probability) are `residual`, robust to the same lead appearing on
    several dates (scores summed per lead). Returns (p-value, degrees of freedom)."""
    from scipy.stats import chi2

    design = design - design.mean(axis=0)
    scores = design * residual[:, None]
    per_lead = np.zeros((int(leads.max()) + 1, design.shape[1]))
    np.add.at(per_lead, leads, scores)
    total = per_lead.sum(axis=0)
    variance = per_lead.T @ per_lead
    rank = int(np.linalg.matrix_rank(variance))
    if rank == 0:
        return 1.0, 0
    statistic = float(total @ np.linalg.pinv(variance) @ total)
    return float(chi2.sf(statistic, rank)), rank


def _attribute_design(dataset: Dataset, group: str, rows: pd.DataFrame) -> np.ndarray:
    """The columns an attribute adds, as the model sees them: its numbers, or one indicator
    per category (the MAX_CATEGORIES - 1 most common with MIN_CATEGORY_EXAMPLES examples;
    the rest pooled, the most common the reference)."""
    columns = dataset.groups[group]
    if group not in dataset.attribute_categorical:
        return rows[columns].to_numpy(dtype=float)
    values = rows[group].astype(str)
    counts = values.value_counts()
    kept = counts[counts >= MIN_CATEGORY_EXAMPLES].index[: MAX_CATEGORIES - 1]
    indicators = [(values == value).to_numpy(dtype=float) for value in kept[1:]]
    pooled = ~values.isin(kept)
    if pooled.any() and len(kept):
        indicators.append(pooled.to_numpy(dtype=float))
    return np.column_stack(indicators) if indicators else np.zeros((len(rows), 0))


def screen_attributes(
    dataset: Dataset,
    train: pd.DataFrame,
    train_y: np.ndarray,
    settings: PredictiveSettings,
    log: Callable[[str], None] = lambda _: None,
) -> tuple[Dataset, Any]:
    """Keep the lead's own columns that add evidence of conversion beyond the fixed features
    and behaviour, on the training examples only: a score test (robust to a lead seen on
    several dates) of each column against a model without any of them, kept below
    SCREEN_P_VALUE. Columns that only repeat a fixed feature (a job title behind seniority
    and department) or carry nothing (a country that does not matter) would only add noise.
    Returns the dataset and, when no column is kept, the model fitted without them."""
    groups = [item.column for item in (dataset.plan.columns if dataset.plan else [])]
    if not groups or not len(train):
        return dataset, None
    base = _without_attributes(dataset, {group: "" for group in groups})
    pipeline = _pipeline(settings, base).fit(train[base.inputs], train_y.astype(int))
    residual = train_y.astype(float) - pipeline.predict_proba(train[base.inputs])[:, 1]
    leads = pd.factorize(train["contact_id"])[0]
    drop = {}
    for group in groups:
        p_value, _ = _score_test(_attribute_design(dataset, group, train), residual, leads)
        if not p_value < SCREEN_P_VALUE:
            drop[group] = (
                "adds no evidence of conversion beyond the other features on the training "
                f"examples (p = {p_value:.2g})"
            )
    log(f"attributes: {len(groups) - len(drop)} of {len(groups)} kept after screening")
    if len(drop) == len(groups):  # the model without them is the one just fitted
        return _without_attributes(dataset, drop), pipeline
    return _without_attributes(dataset, drop), None


def _weights(pipeline, dataset: Dataset) -> list[dict[str, Any]]:
    """Coefficients of the logistic regression, by transformed column (model card)."""
    model = pipeline.named_steps["model"]
    if not hasattr(model, "coef_"):
        return []
    names = pipeline.named_steps["prepare"].get_feature_names_out()
    rows = [
        {"feature": str(name).split("__", 1)[-1], "weight": float(weight)}
        for name, weight in zip(names, model.coef_[0], strict=True)
    ]
    return sorted(rows, key=lambda row: -abs(row["weight"]))


def _role(frame: pd.DataFrame, role: str) -> pd.DataFrame:
    return frame[frame["sample_role"] == role]


def _sample_dates(train: pd.DataFrame) -> list[date]:
    """The training dates (examples sampled at a lead's creation have dates of their own)."""
    if "sample_kind" in train:
        train = train[train["sample_kind"] != "creation"]
    return sorted(set(train["feature_date"]))


def _outcomes(frame: pd.DataFrame) -> np.ndarray:
    return frame["is_converted"].fillna(False).astype(bool).to_numpy()


def _too_few(conversions: int, examples: int, where: str, settings: PredictiveSettings) -> str:
    return (
        f"only {conversions} conversions in {examples:,} training examples ({where}); at least "
        f"{settings.min_training_conversions} are needed (seeds/predictive/{SETTINGS_SEED}.csv, "
        "min_training_conversions)"
    )


def _creation_samples(dataset: Dataset, settings: PredictiveSettings) -> tuple[Dataset, str]:
    """The point-in-time examples with or without the leads sampled at their creation
    (`sample_at_creation`: true, false, or auto: only when the sample dates alone hold fewer
    than `min_training_conversions` conversions). Returns them and a note for the card."""
    frame = dataset.frame
    if "sample_kind" not in frame:
        return dataset, ""
    creation = (frame["sample_kind"] == "creation").to_numpy()
    if not creation.any():
        return dataset, ""
    on_dates = frame[~creation]
    date_conversions = int(_outcomes(_role(on_dates, "train")).sum())
    keep = settings.sample_at_creation == "true" or (
        settings.sample_at_creation == "auto"
        and date_conversions < settings.min_training_conversions
    )
    if keep:
        added = int(_outcomes(frame[creation]).sum())
        note = (
            f"; the sample dates alone held {date_conversions} conversions, leads sampled at "
            f"their creation add {added}"
        )
        return dataset, note
    trimmed = Dataset(**{**dataset.__dict__, "frame": on_dates.reset_index(drop=True)})
    return trimmed, ""


def _choose_mode(
    dataset: Dataset,
    settings: PredictiveSettings,
    as_of: date | None,
    has_snapshot: bool,
) -> tuple[str, str, str]:
    """(mode, why it was chosen, what point-in-time lacked when it is not chosen)."""
    train = _role(dataset.frame, "train")
    conversions = int(_outcomes(train).sum())
    dates = f"{len(_sample_dates(train))} dates"
    if "sample_kind" in train and (train["sample_kind"] == "creation").any():
        dates += " and leads at creation"
    short = _too_few(conversions, len(train), dates, settings)
    if settings.mode == POINT_IN_TIME:
        return POINT_IN_TIME, "mode point_in_time (setting)", short
    if settings.mode == CROSS_SECTIONAL:
        return CROSS_SECTIONAL, "mode cross_sectional (setting)", ""
    if conversions >= settings.min_training_conversions or not has_snapshot:
        return (
            POINT_IN_TIME,
            f"auto: point-in-time training examples hold {conversions:,} conversions "
            f"({dates}; min_training_conversions {settings.min_training_conversions})",
            short,
        )
    return (
        CROSS_SECTIONAL,
        f"auto: point-in-time training examples hold only {conversions} conversions in "
        f"{len(train):,} examples ({dates}; fewer than min_training_conversions "
        f"{settings.min_training_conversions}), so the model learns from the leads known at "
        f"{as_of} instead (cross-sectional)",
        short,
    )


def train_and_score(
    dataset: Dataset,
    settings: PredictiveSettings,
    *,
    as_of: date | None,
    window_days: int | None,
    log: Callable[[str], None] = lambda _: None,
    score_batches: Callable[[Dataset], Iterable[Dataset]] | None = None,
    snapshot: Dataset | Callable[[], Dataset] | None = None,
    training_window_days: int | None = None,
) -> ModelResult:
    """Choose the mode, train, evaluate on the held-out examples, refit on all, score.

    Point-in-time (`dataset`): train on the training dates, evaluate on the holdout date.
    Cross-sectional (`snapshot`, a Dataset or a function building it): train on the leads
    whose `sample_role` is train, evaluate on the held-out ones. Scored are the batches
    `score_batches(training dataset)` yields (large warehouses score their leads a slice at
    a time), else the dataset's own open leads (score rows; not converted in a snapshot)."""
    result = ModelResult(
        run_id=uuid.uuid4().hex[:16],
        trained_at=datetime.now(UTC).replace(tzinfo=None, microsecond=0),
        as_of_date=as_of,
        status="not_trained",
        reason="",
        settings=settings,
        model_type=settings.model,
        window_days=window_days,
    )
    dataset, creation_note = _creation_samples(dataset, settings)
    mode, result.mode_reason, point_in_time_short = _choose_mode(
        dataset, settings, as_of, snapshot is not None
    )
    result.mode_reason += creation_note
    result.mode = mode
    if mode == CROSS_SECTIONAL:
        if snapshot is None:
            result.reason = "cross-sectional mode needs the leads known at the as-of date"
            log(result.reason)
            return result
        dataset = snapshot() if callable(snapshot) else snapshot
        result.training_window_days = None
    else:
        result.training_window_days = training_window_days or window_days
    frame = dataset.frame
    result.features_used = dataset.features_used()
    result.features_excluded = dataset.features_excluded()
    train = _role(frame, "train")
    holdout = _role(frame, "holdout")
    if mode == CROSS_SECTIONAL:
        score = frame[~_outcomes(frame)]
        result.training_dates = sorted(set(train["feature_date"]))
        result.holdout_date = as_of
    else:
        score = _role(frame, "score")
        result.training_dates = _sample_dates(train)
        holdout_dates = sorted(set(holdout["feature_date"]))
        result.holdout_date = holdout_dates[0] if holdout_dates else None
    train_y = _outcomes(train)
    holdout_y = _outcomes(holdout)
    conversions = int(train_y.sum())
    result.metrics = {
        "training_examples": len(train),
        "training_conversions": conversions,
        "holdout_examples": len(holdout),
        "holdout_conversions": int(holdout_y.sum()),
        "compared_examples": 0,
        "holdout_auc": None,
        "rule_score_auc": None,
        "holdout_auc_all": None,
        "brier_score": None,
        "log_loss": None,
        "holdout_base_rate": float(holdout_y.mean()) if len(holdout) else None,
        "scored_leads": 0,
        "features": len(dataset.inputs),
    }
    if conversions < settings.min_training_conversions:
        if mode == POINT_IN_TIME:
            result.reason = (
                f"{point_in_time_short}. Score history and won deals further back, more "
                "training dates or a lower minimum let it train"
            )
        else:
            held_out = f"leads known at {as_of}, {settings.holdout_share:.0%} held out"
            result.reason = _too_few(conversions, len(train), held_out, settings)
            if settings.mode == "auto":
                result.reason = (
                    f"point-in-time: {point_in_time_short}; cross-sectional: {result.reason}. "
                    "Won deals further back or a lower minimum let it train"
                )
        log(result.reason)
        return result
    if conversions == len(train):
        result.reason = "every training example converted: nothing to tell apart"
        log(result.reason)
        return result

    dataset, fitted_without = screen_attributes(dataset, train, train_y, settings, log)
    train, holdout, score = (
        part.drop(columns=[c for c in part.columns if c not in dataset.frame.columns])
        for part in (train, holdout, score)
    )
    result.features_used = dataset.features_used()
    result.features_excluded = dataset.features_excluded()
    result.metrics["features"] = len(dataset.inputs)
    inputs = dataset.inputs
    log(
        f"training {settings.model} ({mode}) on {len(train):,} examples, "
        f"{conversions:,} conversions, {len(dataset.groups)} features"
    )
    pipeline = fitted_without
    if pipeline is None:
        pipeline = _pipeline(settings, dataset).fit(train[inputs], train_y.astype(int))
    if len(holdout):
        from sklearn.metrics import brier_score_loss, log_loss

        probability = pipeline.predict_proba(holdout[inputs])[:, 1]
        compared = holdout["rule_lead_score"].notna().to_numpy()
        result.metrics.update(
            {
                "holdout_auc_all": roc_auc(holdout_y, probability),
                "compared_examples": int(compared.sum()),
                # on the leads the rule score can be compared on; on all without a snapshot
                "holdout_auc": roc_auc(holdout_y[compared], probability[compared])
                if compared.any()
                else roc_auc(holdout_y, probability),
                "rule_score_auc": roc_auc(
                    holdout_y[compared],
                    holdout["rule_lead_score"].to_numpy(dtype=float)[compared],
                ),
                "brier_score": float(brier_score_loss(holdout_y, probability)),
                "log_loss": float(log_loss(holdout_y, probability, labels=[0, 1])),
                "holdout_mean_predicted": float(probability.mean()),
            }
        )
        result.calibration = _calibration(holdout_y, probability)

    # The model that scores today learns from the held-out examples too.
    fitted = pd.concat([train, holdout])
    fitted_y = np.concatenate([train_y, holdout_y]).astype(int)
    final = _pipeline(settings, dataset).fit(fitted[inputs], fitted_y)
    result.weights = _weights(final, dataset)
    result.status = "trained"
    result.reason = "trained"
    batches = [score] if score_batches is None else score_batches(dataset)
    parts = []
    baseline = _baseline(dataset, fitted)
    for batch in batches:
        frame_ = batch.frame if isinstance(batch, Dataset) else batch
        if not len(frame_):
            continue
        probability = final.predict_proba(frame_[inputs])[:, 1]
        parts.append(
            pd.DataFrame(
                {
                    "contact_id": frame_["contact_id"].to_numpy(),
                    "as_of_date": frame_["feature_date"].to_numpy(),
                    "conversion_probability": probability,
                    "lead_score": frame_["rule_lead_score"].to_numpy(dtype=float),
                    "top_factors": explain(final, dataset, frame_, baseline, settings.top_factors),
                }
            )
        )
        log(f"scored {sum(len(part) for part in parts):,} leads")
    if parts:
        result.predictions = _rank_and_blend(pd.concat(parts, ignore_index=True), settings)
        result.metrics["scored_leads"] = len(result.predictions)
    log(result.summary())
    return result


def _rank_and_blend(predictions: pd.DataFrame, settings: PredictiveSettings) -> pd.DataFrame:
    predictions["probability_percentile"] = (
        predictions["conversion_probability"].rank(pct=True, method="average") * 100
    )
    if settings.blend_weight is None:
        predictions["blended_priority"] = np.nan
    else:
        rule_rank = predictions["lead_score"].rank(pct=True, method="average")
        predictions["blended_priority"] = 100 * (
            settings.blend_weight * rule_rank
            + (1 - settings.blend_weight) * predictions["probability_percentile"] / 100
        )
    return predictions


# --- Reading and writing the warehouse --------------------------------------------------------

PREDICTIONS_TABLE = "predictive_lead_scores"
MODEL_CARD_TABLE = "predictive_model_card"
CALIBRATION_TABLE = "predictive_model_calibration"

_DDL = {
    PREDICTIONS_TABLE: (
        "model_run_id varchar, contact_id varchar, as_of_date date, "
        "conversion_probability double precision, probability_percentile double precision, "
        "lead_score double precision, blended_priority double precision, top_factors varchar"
    ),
    MODEL_CARD_TABLE: (
        "model_run_id varchar, trained_at timestamp, as_of_date date, status varchar, "
        "reason varchar, model_type varchar, outcome_window_days integer, "
        "training_dates varchar, holdout_date date, training_examples integer, "
        "training_conversions integer, holdout_examples integer, holdout_conversions integer, "
        "compared_examples integer, holdout_auc double precision, "
        "rule_score_auc double precision, holdout_auc_all double precision, "
        "brier_score double precision, log_loss double precision, "
        "holdout_base_rate double precision, scored_leads integer, features integer, "
        "settings varchar, top_weights varchar, training_mode varchar, mode_reason varchar, "
        "training_window_days integer, features_used varchar, features_excluded varchar"
    ),
    CALIBRATION_TABLE: (
        "model_run_id varchar, bin integer, examples integer, mean_predicted double precision, "
        "observed_rate double precision, min_predicted double precision, "
        "max_predicted double precision"
    ),
}


SCORE_BATCH_LEADS = 100_000  # leads scored per slice: memory stays flat at any size
ATTRIBUTES_MODEL = "int_predictive__lead_attributes"
SNAPSHOT_MODEL = "int_predictive__snapshot_examples"


def _frames(
    conn, relation: Callable[[str], str], where: str, behaviour: bool = True
) -> tuple[pd.DataFrame, pd.DataFrame]:
    examples = conn.fetch_arrow(
        f"select * from {relation('int_predictive__examples')} where {where}"
    ).to_pandas()
    if not behaviour:
        return examples, pd.DataFrame()
    rows = conn.fetch_arrow(
        f"select * from {relation('int_predictive__behavior_features')} where {where}"
    ).to_pandas()
    return examples, rows


def _categorical_frame(table, index: str) -> pd.DataFrame:
    """The table with every column but `index` as a pandas categorical: a lead's text values
    repeat, so a million leads of a hundred columns stay small."""
    import pyarrow as pa
    import pyarrow.compute as pc

    columns = {}
    for name in table.column_names:
        column = table.column(name)
        if name != index:
            column = pc.dictionary_encode(column.cast(pa.string()))
        columns[name] = column
    frame = pa.table(columns).to_pandas() if columns else pd.DataFrame()
    return frame.set_index(index) if index in frame else frame


def read_attributes(
    conn, relation: Callable[[str], str], settings: PredictiveSettings
) -> tuple[pd.DataFrame, list[dict[str, str]]]:
    """The lead's own columns the model may read (one row per lead known at the as-of date,
    categorical text) and those left out by name or by the `max_attribute_columns` cap."""
    from orchestration.lib.warehouse import quote_ident

    view = relation(ATTRIBUTES_MODEL)
    names = conn.fetch_arrow(f"select * from {view} where 1 = 0").column_names
    columns = [name for name in names if name.startswith(tuple(SOURCES))]
    filled: dict[str, int] = {}
    if columns:
        counts = ", ".join(f"count({quote_ident(name)})" for name in columns)
        [row] = conn.fetchall(f"select {counts} from {view}")
        filled = {name: int(count or 0) for name, count in zip(columns, row, strict=True)}
    chosen, excluded = choose_columns(
        columns,
        filled,
        exclude=settings.exclude_columns,
        limit=settings.max_attribute_columns,
    )
    select = ", ".join(["contact_id", *(quote_ident(name) for name in chosen)])
    table = conn.fetch_arrow(f"select {select} from {view}")
    return _categorical_frame(table, "contact_id"), excluded


@dataclass
class Inputs:
    """What the model reads: settings, the point-in-time examples (training and holdout),
    a builder of the cross-sectional examples, and the leads to score in slices."""

    settings: PredictiveSettings
    labelled: Dataset
    snapshot: Callable[[], Dataset]
    score_batches: Callable[[Dataset], Iterator[Dataset]]


def snapshot_dataset(
    snapshot: pd.DataFrame,
    settings: PredictiveSettings,
    descriptions: Mapping[str, str],
    *,
    attributes: pd.DataFrame | None,
    plan: AttributePlan | None,
) -> Dataset:
    """The cross-sectional examples: one per lead known at the as-of date, held out when its
    contact id's hash (`sample_fraction`) is below `holdout_share`. Above
    `max_training_examples` leads, a stable sample of them (the lowest hashes)."""
    rate = min(1.0, settings.max_training_examples / max(len(snapshot), 1))
    fraction = snapshot["sample_fraction"].astype(float)
    kept = snapshot[fraction < rate].copy()
    kept["sample_role"] = np.where(
        kept["sample_fraction"].astype(float) < rate * settings.holdout_share, "holdout", "train"
    )
    return build_dataset(
        kept,
        pd.DataFrame(),
        descriptions,
        attributes=attributes,
        plan=plan,
        mode=CROSS_SECTIONAL,
    )


def read_inputs(conn, relation: Callable[[str], str]) -> Inputs:
    """Settings, the labelled examples with their features, the cross-sectional examples
    (built when asked for) and a function yielding the leads to score in slices shaped like
    the training set."""
    rows = conn.fetchall(f"select setting, value from {relation(SETTINGS_SEED)}")
    seen: dict[str, str | None] = {}
    for name, value in rows:
        if name in seen:
            raise PredictiveConfigError(
                f"Invalid predictive configuration: row '{name}' appears twice in "
                f"seeds/predictive/{SETTINGS_SEED}.csv"
            )
        seen[name] = value
    settings = PredictiveSettings.from_rows(seen)
    descriptions = dict(
        conn.fetchall(f"select rule_id, description from {relation('stg_scoring__behavior_rules')}")
    )
    attributes, excluded = read_attributes(conn, relation, settings)
    snapshot = conn.fetch_arrow(f"select * from {relation(SNAPSHOT_MODEL)}").to_pandas()
    # Whether each lead converted by the as-of date: what a column must not record.
    converted = (
        snapshot.set_index("contact_id")["is_converted"]
        .reindex(attributes.index)
        .fillna(False)
        .astype(bool)
        .to_numpy()
    )

    def plan(mode: str) -> AttributePlan:
        return plan_attributes(attributes, converted, mode=mode, excluded=excluded)

    labelled = build_dataset(
        *_frames(conn, relation, "sample_role <> 'score'"),
        descriptions,
        attributes=attributes,
        plan=plan(POINT_IN_TIME),
        mode=POINT_IN_TIME,
    )
    [(leads,)] = conn.fetchall(
        f"select count(*) from {relation('int_predictive__examples')} where sample_role = 'score'"
    )
    slices = max(1, math.ceil(leads / SCORE_BATCH_LEADS))

    def score_batches(like: Dataset) -> Iterator[Dataset]:
        for index in range(slices):
            low, high = index / slices, (index + 1) / slices
            where = f"sample_role = 'score' and sample_fraction >= {low!r}"
            if index < slices - 1:
                where += f" and sample_fraction < {high!r}"
            frames = _frames(conn, relation, where, behaviour=like.mode == POINT_IN_TIME)
            yield build_dataset(*frames, descriptions, like=like, attributes=attributes)

    def cross_sectional() -> Dataset:
        return snapshot_dataset(
            snapshot,
            settings,
            descriptions,
            attributes=attributes,
            plan=plan(CROSS_SECTIONAL),
        )

    return Inputs(settings, labelled, cross_sectional, score_batches)


def _card_row(result: ModelResult) -> dict[str, Any]:
    m = result.metrics
    return {
        "model_run_id": result.run_id,
        "trained_at": result.trained_at,
        "as_of_date": result.as_of_date,
        "status": result.status,
        "reason": result.reason,
        "model_type": result.model_type,
        "outcome_window_days": result.window_days,
        "training_dates": ", ".join(str(d) for d in result.training_dates),
        "holdout_date": result.holdout_date,
        **{
            name: m.get(name)
            for name in (
                "training_examples",
                "training_conversions",
                "holdout_examples",
                "holdout_conversions",
                "compared_examples",
                "holdout_auc",
                "rule_score_auc",
                "holdout_auc_all",
                "brier_score",
                "log_loss",
                "holdout_base_rate",
                "scored_leads",
                "features",
            )
        },
        "settings": json.dumps(
            {
                name: list(value) if isinstance(value, tuple) else value
                for name, value in result.settings.__dict__.items()
            },
            sort_keys=True,
        ),
        "top_weights": json.dumps(result.weights[:25]),
        "training_mode": result.mode,
        "mode_reason": result.mode_reason,
        "training_window_days": result.training_window_days,
        "features_used": json.dumps(result.features_used),
        "features_excluded": json.dumps(result.features_excluded),
    }


def write_outputs(conn, schema: str, result: ModelResult) -> None:
    """Replace the predictions, append the model card and its calibration, in one
    transaction. A run that did not train empties the predictions: stale probabilities from
    an older model must not pass for today's."""
    import pyarrow as pa

    from orchestration.lib.warehouse import quote_ident

    conn.execute(f"create schema if not exists {quote_ident(schema)}")
    for table, columns in _DDL.items():
        definitions = [tuple(column.strip().split(" ", 1)) for column in columns.split(",")]
        conn.create_table(schema, table, definitions)
        # a table written by an older release gets the newer columns (its rows keep nulls)
        present = {name.lower() for name in conn.table_columns(schema, table)}
        conn.add_columns(
            schema, table, [(name, kind) for name, kind in definitions if name not in present]
        )
    # DuckDB / PostgreSQL: a delete and appends in one transaction. Spark (no transactions, no
    # DELETE): the appends are written when the block ends, the predictions with one
    # `insert overwrite` (or a truncate when there are none).
    with conn.transaction():
        conn.empty_table(schema, PREDICTIONS_TABLE)
        if result.predictions is not None and len(result.predictions):
            frame = result.predictions.assign(model_run_id=result.run_id)
            conn.append_arrow(
                schema,
                PREDICTIONS_TABLE,
                pa.Table.from_pandas(frame, preserve_index=False),
            )
        card = pa.Table.from_pylist([_card_row(result)])
        conn.append_arrow(schema, MODEL_CARD_TABLE, card)
        if result.calibration:
            calibration = pa.Table.from_pylist(
                [{"model_run_id": result.run_id, **row} for row in result.calibration]
            )
            conn.append_arrow(schema, CALIBRATION_TABLE, calibration)


def run_model(
    settings,
    *,
    relation: Callable[[str], str],
    output_schema: str,
    log: Callable[[str], None] = lambda _: None,
) -> ModelResult:
    """Read the features (read-only), train and score, then write the results."""
    from orchestration.lib.warehouse import connect

    with connect(settings, read_only=True) as conn:
        inputs = read_inputs(conn, relation)
        dates = conn.fetchall(
            f"select sample_role, feature_date, window_days "
            f"from {relation('int_predictive__sample_dates')}"
        )
        as_of = next((d for role, d, _ in dates if role == "score"), None)
        window = next((w for role, _, w in dates if role != "train"), None)
        training_window = next((w for role, _, w in dates if role == "train"), window)
        dataset = inputs.labelled
        log(
            f"predictive features: {len(dataset.frame):,} labelled examples, "
            f"{len(dataset.groups):,} features"
        )
        result = train_and_score(
            dataset,
            inputs.settings,
            as_of=as_of,
            window_days=window,
            log=log,
            score_batches=inputs.score_batches,
            snapshot=inputs.snapshot,
            training_window_days=training_window,
        )
    with connect(settings) as conn:
        write_outputs(conn, output_schema, result)
    return result
