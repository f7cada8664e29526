"""The predictive score: a model of "won deal within the outcome window" trained on
point-in-time features, judged on a later held-out date against the rule score.

dbt prepares the examples (`int_predictive__examples`: one row per lead and sample date, with
attributes, age, the rule score of that date and the outcome) and the behaviour features
(`int_predictive__behavior_features`: per lead, date and behaviour rule, counts in windows,
decayed count and days since the last event). This module turns them into a matrix, trains on
the training dates, evaluates on the holdout date, refits on both and scores today's leads.

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
CALIBRATION_BINS = 10
MIN_CATEGORY_EXAMPLES = 20  # rarer categories share one "infrequent" column
SETTINGS_SEED = "predictive_settings"


class PredictiveConfigError(ValueError):
    """A row of seeds/predictive_settings.csv is missing or invalid."""


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

        parsed = {
            "training_dates": number("training_dates", int, 1, 52),
            "training_step_days": number("training_step_days", int, 1),
            "min_training_conversions": number("min_training_conversions", int, 1),
            "regularization": number("regularization", float, 1e-6),
            "top_factors": number("top_factors", int, 0, 20),
        }
        if value("max_training_examples") is None:
            parsed["max_training_examples"] = cls.max_training_examples
        else:
            parsed["max_training_examples"] = number("max_training_examples", int, 1000)
        model = value("model") or "logistic_regression"
        if model not in MODEL_TYPES:
            problems.append(f"row 'model': '{model}' must be one of {', '.join(MODEL_TYPES)}")
        blend = None
        if value("blend_weight") is not None:
            blend = number("blend_weight", float, 0.0, 1.0)
        if problems:
            raise PredictiveConfigError(
                f"Invalid predictive configuration (fix seeds/{SETTINGS_SEED}.csv and run "
                "again):\n  - " + "\n  - ".join(problems)
            )
        return cls(model=model, blend_weight=blend, **parsed)


@dataclass
class Dataset:
    """The feature matrix with one row per (contact, date) and what each column means."""

    frame: pd.DataFrame  # examples' columns plus the feature columns
    numeric: list[str]
    categorical: list[str]
    groups: dict[str, list[str]]  # factor name -> its columns
    labels: dict[str, str]  # factor name -> words


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

    @property
    def trained(self) -> bool:
        return self.status == "trained"

    def summary(self) -> str:
        if not self.trained:
            return f"predictive model not trained: {self.reason}"
        m = self.metrics
        rule = m.get("rule_score_auc")
        rule_text = f"{rule:.3f}" if rule is not None else "n/a (no score snapshot)"
        return (
            f"predictive model ({self.model_type}) trained on {m['training_examples']:,} examples "
            f"({m['training_conversions']:,} conversions); held out {self.holdout_date}: "
            f"AUC {_fmt(m.get('holdout_auc'))} vs rule score {rule_text} on "
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
) -> Dataset:
    """Pivot the behaviour rows into columns per rule and join them onto the examples. With
    `like` (the training set), the columns are exactly its columns: a rule without activity
    in this batch is all zeros, a rule the model never saw is left out."""
    examples = examples.copy()
    examples["feature_date"] = pd.to_datetime(examples["feature_date"]).dt.date
    key = ["contact_id", "feature_date"]
    # a fixed row order: the same rows give the same model whatever order the engine returns
    frame = examples.set_index(key).sort_index()
    groups: dict[str, list[str]] = {}
    labels: dict[str, str] = {}
    columns: dict[str, pd.Series] = {}
    if len(behaviour):
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
    frame = pd.concat([frame, extra], axis=1).copy()
    groups["lead_age"] = ["lead_age:log_days", "lead_age:first_30_days"]
    labels["lead_age"] = "Lead age"
    groups["company_employees"] = ["company:log_employees", "company:employees_unknown"]
    labels["company_employees"] = "Company employees"
    for column, label in CATEGORICAL.items():
        frame[column] = frame[column].fillna("unknown").astype(str)
        groups[column] = [column]
        labels[column] = label
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
        )
    return Dataset(
        frame=frame.reset_index(),
        numeric=numeric,
        categorical=list(CATEGORICAL),
        groups=groups,
        labels=labels,
    )


# --- Training and evaluation -----------------------------------------------------------------


def _pipeline(settings: PredictiveSettings, dataset: Dataset):
    from sklearn.compose import ColumnTransformer
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import OneHotEncoder, OrdinalEncoder, StandardScaler

    if settings.model == "gradient_boosting":
        prepare = ColumnTransformer(
            [
                (
                    "categories",
                    OrdinalEncoder(handle_unknown="use_encoded_value", unknown_value=-1),
                    dataset.categorical,
                ),
                ("numbers", "passthrough", dataset.numeric),
            ]
        )
        model = HistGradientBoostingClassifier(
            max_iter=200,
            learning_rate=0.05,
            categorical_features=list(range(len(dataset.categorical))),
            random_state=0,
        )
    else:
        prepare = ColumnTransformer(
            [
                (
                    "categories",
                    OneHotEncoder(handle_unknown="ignore", min_frequency=MIN_CATEGORY_EXAMPLES),
                    dataset.categorical,
                ),
                ("numbers", StandardScaler(), dataset.numeric),
            ]
        )
        # a tight tolerance: the same data on another engine (sums in another order) must give
        # the same model, not another stopping point of the solver
        model = LogisticRegression(C=settings.regularization, max_iter=10_000, tol=1e-8)
    return Pipeline([("prepare", prepare), ("model", model)])


def roc_auc(outcomes: np.ndarray, scores: np.ndarray) -> float | None:
    """ROC AUC by the rank-sum formula (ties at their average rank); None without both
    classes. The same formula as mart_calibration_metrics, so the two figures compare."""
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
    categories, the median for the other numbers."""
    baseline: dict[str, Any] = {}
    for group, columns in dataset.groups.items():
        for column in columns:
            if column in dataset.categorical:
                baseline[column] = train[column].mode().iloc[0]
            elif group in ("lead_age", "company_employees"):
                baseline[column] = float(train[column].median())
            else:
                baseline[column] = 0.0
    return baseline


def _describe(dataset: Dataset, group: str, row: pd.Series) -> str:
    label = dataset.labels[group]
    if group in CATEGORICAL:
        return f"{label}: {row[group]}"
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
    inputs = rows[dataset.categorical + dataset.numeric]
    base_logit = _logit(pipeline.predict_proba(inputs)[:, 1])
    names = list(dataset.groups)
    effects = np.empty((len(rows), len(names)))
    for index, group in enumerate(names):
        changed = inputs.copy()
        for column in dataset.groups[group]:
            changed[column] = baseline[column]
        effects[:, index] = base_logit - _logit(pipeline.predict_proba(changed)[:, 1])
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


def train_and_score(
    dataset: Dataset,
    settings: PredictiveSettings,
    *,
    as_of: date | None,
    window_days: int | None,
    log: Callable[[str], None] = lambda _: None,
    score_batches: Callable[[Dataset], Iterable[Dataset]] | None = None,
) -> ModelResult:
    """Train on the training dates, evaluate on the holdout date, refit on both, score: the
    dataset's own score rows, or the batches `score_batches(training dataset)` yields (large
    warehouses score their leads a slice at a time)."""
    frame = dataset.frame
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
    train = frame[frame["sample_role"] == "train"]
    holdout = frame[frame["sample_role"] == "holdout"]
    score = frame[frame["sample_role"] == "score"]
    result.training_dates = sorted(set(train["feature_date"]))
    holdout_dates = sorted(set(holdout["feature_date"]))
    result.holdout_date = holdout_dates[0] if holdout_dates else None
    train_y = train["is_converted"].fillna(False).astype(bool).to_numpy()
    holdout_y = holdout["is_converted"].fillna(False).astype(bool).to_numpy()
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
        "features": len(dataset.numeric) + len(dataset.categorical),
    }
    if conversions < settings.min_training_conversions:
        result.reason = (
            f"only {conversions} conversions in {len(train):,} training examples "
            f"({len(result.training_dates)} dates); at least {settings.min_training_conversions} "
            f"are needed (seeds/{SETTINGS_SEED}.csv, min_training_conversions). Score history "
            "and won deals further back, more training dates or a lower minimum let it train"
        )
        log(result.reason)
        return result
    if conversions == len(train):
        result.reason = "every training example converted: nothing to tell apart"
        log(result.reason)
        return result

    inputs = dataset.categorical + dataset.numeric
    log(f"training {settings.model} on {len(train):,} examples, {conversions:,} conversions")
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

    # The model that scores today learns from the holdout date too.
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
        "settings varchar, top_weights varchar"
    ),
    CALIBRATION_TABLE: (
        "model_run_id varchar, bin integer, examples integer, mean_predicted double precision, "
        "observed_rate double precision, min_predicted double precision, "
        "max_predicted double precision"
    ),
}


SCORE_BATCH_LEADS = 100_000  # leads scored per slice: memory stays flat at any size


def _frames(conn, relation: Callable[[str], str], where: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    examples = conn.fetch_arrow(
        f"select * from {relation('int_predictive__examples')} where {where}"
    ).to_pandas()
    behaviour = conn.fetch_arrow(
        f"select * from {relation('int_predictive__behavior_features')} where {where}"
    ).to_pandas()
    return examples, behaviour


def read_inputs(
    conn, relation: Callable[[str], str]
) -> tuple[PredictiveSettings, Dataset, Callable[[Dataset], Iterator[Dataset]]]:
    """Settings, the labelled examples (training and holdout) with their features, and a
    function yielding the leads to score in slices shaped like the training set."""
    rows = conn.fetchall(f"select setting, value from {relation(SETTINGS_SEED)}")
    seen: dict[str, str | None] = {}
    for name, value in rows:
        if name in seen:
            raise PredictiveConfigError(
                f"Invalid predictive configuration: row '{name}' appears twice in "
                f"seeds/{SETTINGS_SEED}.csv"
            )
        seen[name] = value
    settings = PredictiveSettings.from_rows(seen)
    descriptions = dict(
        conn.fetchall(f"select rule_id, description from {relation('stg_scoring__behavior_rules')}")
    )
    labelled = build_dataset(*_frames(conn, relation, "sample_role <> 'score'"), descriptions)
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
            yield build_dataset(*_frames(conn, relation, where), descriptions, like=like)

    return settings, labelled, score_batches


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
        "settings": json.dumps(result.settings.__dict__, sort_keys=True),
        "top_weights": json.dumps(result.weights[:25]),
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
        model_settings, dataset, score_batches = read_inputs(conn, relation)
        dates = conn.fetchall(
            f"select sample_role, feature_date, window_days "
            f"from {relation('int_predictive__sample_dates')}"
        )
        as_of = next((d for role, d, _ in dates if role == "score"), None)
        window = next((w for _, _, w in dates), None)
        log(
            f"predictive features: {len(dataset.frame):,} labelled examples, "
            f"{len(dataset.numeric):,} numbers"
        )
        result = train_and_score(
            dataset,
            model_settings,
            as_of=as_of,
            window_days=window,
            log=log,
            score_batches=score_batches,
        )
    with connect(settings) as conn:
        write_outputs(conn, output_schema, result)
    return result
