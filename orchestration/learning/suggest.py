"""`leadscore suggest-rules`: rule points learned from outcomes, as seed CSVs an analyst can
read, edit and adopt.

From the leads as they stood on an evaluation date E and whether they converted in the window
after it (``dataset.py``), the candidate conditions seed rules can state (``indicators.py``)
are fitted with an L1-regularised logistic regression on the leads not held out (a stable hash
of the lead's id decides, before fitting). Each kept coefficient becomes a rule with integer
points (coefficients scaled so the 1st to 99th percentile of the leads' scores spans
`score_range` points), the intercept the base score, and the MQL and SQL cut-offs the lowest
scores whose leads convert at the target rates. The rules folder is written next to the data
(nothing reaches the seeds until an analyst copies the CSVs) with where each point came from,
then the existing backtest scores E with the candidate and the current rules.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np

from orchestration.learning.dataset import LeadDataset
from orchestration.learning.indicators import Indicator, candidate_indicators, matrix
from orchestration.lib.seeds import seed_path

SETTINGS_SEED = "rule_learning_settings"
FIT_FIELDS = [
    "rule_id", "attribute", "attribute_type", "operator", "value", "min_value", "max_value",
    "missing_matches", "points", "score_part", "persona", "customer_scope", "description",
]  # fmt: skip
BEHAVIOUR_FIELDS = [
    "rule_id", "rule_type", "event_type", "page_category", "url_pattern", "points",
    "half_life_days", "max_points", "lookback_days", "count_once", "min_count", "window_days",
    "filter_attribute", "filter_operator", "filter_value", "value_attribute", "aggregate",
    "threshold", "per_unit", "persona", "customer_scope", "description",
]  # fmt: skip
PART_LIMIT = 1000  # a learned score's parts are not clamped: only the lead score is (0-100)


class RuleLearningError(ValueError):
    """Bad settings or data that cannot be learned from; the message says what to change."""


@dataclass(frozen=True)
class LearningSettings:
    holdout_share: float = 0.3
    regularization: float = 0.3
    max_values_per_attribute: int = 8
    min_indicator_share: float = 0.01
    max_rules: int = 40
    score_range: float = 100.0
    mql_target_precision: float | None = None
    sql_target_precision: float | None = None
    excluded_attributes: frozenset[str] = frozenset()

    @classmethod
    def from_rows(cls, rows: Mapping[str, str | None]) -> LearningSettings:
        """Settings from the seed's (setting, value) rows; every problem names its row."""
        problems: list[str] = []
        known = set(cls.__dataclass_fields__)
        problems += [f"row '{name}': unknown setting" for name in rows if name not in known]

        def value(name: str) -> str | None:
            raw = rows.get(name)
            return None if raw is None or not str(raw).strip() else str(raw).strip()

        def number(name: str, kind: type, low: float, high: float | None = None) -> Any:
            raw = value(name)
            if raw is None:
                return getattr(cls, name)
            try:
                parsed = kind(raw)
            except ValueError:
                problems.append(f"row '{name}': '{raw}' is not a {kind.__name__}")
                return getattr(cls, name)
            if parsed < low or (high is not None and parsed > high):
                bound = f"between {low} and {high}" if high is not None else f"at least {low}"
                problems.append(f"row '{name}': {raw} must be {bound}")
            return parsed

        parsed = {
            "holdout_share": number("holdout_share", float, 0.05, 0.9),
            "regularization": number("regularization", float, 1e-4),
            "max_values_per_attribute": number("max_values_per_attribute", int, 1, 100),
            "min_indicator_share": number("min_indicator_share", float, 0.0, 0.5),
            "max_rules": number("max_rules", int, 1, 500),
            "score_range": number("score_range", float, 10, 1000),
        }
        for name in ("mql_target_precision", "sql_target_precision"):
            parsed[name] = None if value(name) is None else number(name, float, 0.0, 1.0)
        excluded = value("excluded_attributes") or ""
        parsed["excluded_attributes"] = frozenset(
            _normalise(part) for part in excluded.split("|") if part.strip()
        )
        if problems:
            raise RuleLearningError(
                f"Invalid rule learning settings (fix seeds/scoring/{SETTINGS_SEED}.csv):\n  - "
                + "\n  - ".join(problems)
            )
        return cls(**parsed)


def _normalise(name: str) -> str:
    """An attribute name as the rule engine and the catalog write it."""
    return re.sub(r"^_+|_+$", "", re.sub(r"[^a-z0-9_.]+", "_", name.strip().lower()))


@dataclass
class Suggestion:
    """What was learned: the rules, the base and cut-offs, and how they were judged."""

    evaluation_date: date
    window_days: int
    settings: LearningSettings
    rules: list[dict[str, Any]]  # one per kept indicator: indicator, coefficient, points
    base_points: int
    mql_threshold: int
    sql_threshold: int
    metrics: dict[str, Any] = field(default_factory=dict)
    excluded: list[str] = field(default_factory=list)  # attributes left out, with why

    def score(self, indicators: list[Indicator]) -> np.ndarray:
        """The lead score the suggested rules give each lead (base + points, in 0-100)."""
        points = {rule["indicator"].key: rule["points"] for rule in self.rules}
        total = np.full(len(indicators[0].values) if indicators else 0, float(self.base_points))
        for indicator in indicators:
            if indicator.key in points:
                total += points[indicator.key] * indicator.values
        return np.clip(total, 0, 100)


def roc_auc(outcomes: np.ndarray, scores: np.ndarray) -> float | None:
    from sklearn.metrics import roc_auc_score

    outcomes = np.asarray(outcomes, dtype=int)
    if outcomes.min(initial=1) == outcomes.max(initial=0):
        return None
    return float(roc_auc_score(outcomes, scores))


def leaking_attributes(dataset: LeadDataset, share: float = 0.95) -> dict[str, str]:
    """Attributes that record the outcome rather than predict it: one value (missing
    included) holds nearly every converted lead and no other, or the reverse. Left out."""
    frame = dataset.frame
    converted = frame["converted"].to_numpy(bool)
    found = {}
    if converted.sum() == 0 or (~converted).sum() == 0:
        return found
    for name in dataset.attributes:
        values = frame[name].fillna("(missing)")
        for value in values[converted].value_counts().index[:1]:
            hits = (values == value).to_numpy(bool)
            if (hits & converted).sum() >= share * converted.sum() and (
                hits & ~converted
            ).sum() <= (1 - share) * (~converted).sum():
                found[name] = f"'{value}' holds {hits[converted].mean():.0%} of conversions"
    return found


def learn(
    dataset: LeadDataset, settings: LearningSettings, log: Callable[[str], None] = print
) -> tuple[Suggestion, list[Indicator]]:
    """Fit the candidate indicators to the outcomes on the training leads."""
    from sklearn.linear_model import LogisticRegression

    excluded = {
        name: "excluded in the settings"
        for name in dataset.attributes
        if name in settings.excluded_attributes
        or name.split(".", 1)[-1] in settings.excluded_attributes
    }
    excluded.update(leaking_attributes(dataset))
    for name in excluded:
        dataset.attributes.pop(name, None)
    frame = dataset.frame
    y = frame["converted"].to_numpy(int)
    train = ~frame["holdout"].to_numpy(bool)
    if y[train].sum() < 10 or (1 - y[train]).sum() < 10:
        raise RuleLearningError(
            f"only {int(y[train].sum())} converted leads among {int(train.sum()):,} training "
            f"leads as of {dataset.evaluation_date} (won within {dataset.window_days} days "
            "after it): at least 10 of each are needed. Choose another evaluation date "
            "(--as-of) or a longer window (--window-days)"
        )
    indicators = candidate_indicators(
        dataset, settings.max_values_per_attribute, settings.min_indicator_share
    )
    if not indicators:
        raise RuleLearningError("no candidate condition holds for enough leads to learn from")
    x = matrix(indicators)
    log(
        f"fitting {len(indicators)} candidate conditions on {int(train.sum()):,} leads "
        f"({int(y[train].sum()):,} converted)"
    )
    model = LogisticRegression(
        l1_ratio=1.0, C=settings.regularization, solver="liblinear", max_iter=1000
    ).fit(x[train], y[train])
    coefficients = model.coef_[0]
    order = [i for i in np.argsort(-np.abs(coefficients * x.std(axis=0))) if coefficients[i]]
    order = order[: settings.max_rules]
    linear = x[:, order] @ coefficients[order] + model.intercept_[0]
    low, high = np.percentile(linear[train], [1, 99])
    scale = settings.score_range / max(high - low, 1e-9)
    rules = []
    for index in order:
        points = round(coefficients[index] * scale)
        if points == 0:
            continue
        indicator = indicators[index]
        with_it = indicator.values & train
        rules.append(
            {
                "indicator": indicator,
                "coefficient": float(coefficients[index]),
                "points": int(points),
                "train_leads": int(with_it.sum()),
                "conversion_with": float(y[with_it].mean()) if with_it.any() else None,
                "conversion_without": float(y[train & ~indicator.values].mean()),
            }
        )
    base = round(scale * (model.intercept_[0] - low))
    suggestion = Suggestion(
        dataset.evaluation_date, dataset.window_days, settings, rules, int(base), 0, 0,
        excluded=[f"{name}: {why}" for name, why in sorted(excluded.items())],
    )  # fmt: skip
    scores = suggestion.score(indicators)
    base_rate = float(y[train].mean())
    mql_target = settings.mql_target_precision or default_target(base_rate, 1.5)
    sql_target = settings.sql_target_precision or default_target(base_rate, 3.0)
    suggestion.sql_threshold = cutoff(scores[train], y[train], sql_target)
    suggestion.mql_threshold = min(
        cutoff(scores[train], y[train], mql_target), suggestion.sql_threshold - 1
    )
    holdout = ~train
    reference = LogisticRegression(max_iter=5000).fit(x[train], y[train])
    suggestion.metrics = {
        "leads": len(frame),
        "training_leads": int(train.sum()),
        "training_conversions": int(y[train].sum()),
        "holdout_leads": int(holdout.sum()),
        "holdout_conversions": int(y[holdout].sum()),
        "candidate_conditions": len(indicators),
        "rules": len(rules),
        "base_rate": base_rate,
        "mql_target_precision": mql_target,
        "sql_target_precision": sql_target,
        "holdout_auc_suggested_formula": roc_auc(y[holdout], scores[holdout]),
        "holdout_auc_logistic_regression": roc_auc(
            y[holdout], reference.decision_function(x[holdout])
        ),
    }
    return suggestion, indicators


def default_target(base_rate: float, lift: float) -> float:
    """A cut-off's default conversion target: `lift` times the base rate, or, when that is
    lower, the point (1 - 1/lift) of the way from the base rate to 100% (3 times a 37% base
    rate is no rate at all; two thirds of the way to 100% is 79%)."""
    return min(lift * base_rate, base_rate + (1 - base_rate) * (1 - 1 / lift))


def cutoff(scores: np.ndarray, outcomes: np.ndarray, target: float, min_share=0.01) -> int:
    """The lowest whole score whose leads (that score or more) convert at `target` or more,
    among cut-offs that keep at least `min_share` of the leads; the highest score if none."""
    minimum = max(1, math.ceil(min_share * len(scores)))
    for threshold in range(0, 101):
        above = scores >= threshold
        if above.sum() < minimum:
            break
        if outcomes[above].mean() >= target:
            return threshold
    return int(min(100, math.ceil(scores.max(initial=0))))


def _rule_rows(suggestion: Suggestion) -> tuple[list[dict], list[dict]]:
    fit_rows, behaviour_rows = [], []
    for number, rule in enumerate(suggestion.rules, start=1):
        indicator: Indicator = rule["indicator"]
        slug = re.sub(r"[^a-z0-9]+", "_", indicator.description.lower()).strip("_")[:40]
        row = {
            "rule_id": f"learned_{number:02d}_{slug}",
            "points": str(rule["points"]),
            "customer_scope": "all",
            "description": indicator.description,
        }
        if indicator.part == "fit":
            fit_rows.append({**row, **indicator.rule, "score_part": "fit"})
        else:
            behaviour_rows.append({**row, **indicator.rule})
    return fit_rows, behaviour_rows


def _write_csv(path: Path, fields: list[str], rows: list[dict]) -> None:
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields, restval="", lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def write_rules_folder(suggestion: Suggestion, seeds_dir: Path, out_dir: Path) -> Path:
    """The candidate rules folder: seed CSVs to copy into seeds/scoring/ (fit and behaviour rules,
    weights with the base score, thresholds with the learned cut-offs) and where each point
    came from (provenance/rules.csv, README.md, suggestion.json)."""
    out_dir.mkdir(parents=True, exist_ok=False)
    fit_rows, behaviour_rows = _rule_rows(suggestion)
    _write_csv(out_dir / "scoring_fit_rules.csv", FIT_FIELDS, fit_rows)
    _write_csv(out_dir / "scoring_behavior_rules.csv", BEHAVIOUR_FIELDS, behaviour_rows)
    _write_csv(
        out_dir / "scoring_weights.csv",
        ["score_part", "weight", "min_points", "max_points", "points", "description"],
        [
            {"score_part": part, "weight": "1", "min_points": str(-PART_LIMIT),
             "max_points": str(PART_LIMIT),
             "description": "Learned points are not capped per part"}
            for part in ("fit", "behavior")
        ]
        + [
            {"score_part": "lead", "weight": "1", "min_points": "0", "max_points": "100",
             "description": "Combined lead score on a 0-100 scale"},
            {"score_part": "base", "points": str(suggestion.base_points),
             "description": "The learned model's intercept, in points"},
        ],
    )  # fmt: skip
    with seed_path("scoring_thresholds", seeds_dir).open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields, thresholds = list(reader.fieldnames or []), list(reader)
    stages = sorted(
        (row for row in thresholds if row["band_type"] == "stage" and row["min_score"]),
        key=lambda row: float(row["min_score"]),
    )
    if len(stages) >= 2:
        stages[-2]["min_score"] = str(suggestion.mql_threshold)
        stages[-2]["description"] = (
            f"Learned: leads from {suggestion.mql_threshold} convert at "
            f"{suggestion.metrics['mql_target_precision']:.0%} or more"
        )
    if stages:
        stages[-1]["min_score"] = str(suggestion.sql_threshold)
        stages[-1]["description"] = (
            f"Learned: leads from {suggestion.sql_threshold} convert at "
            f"{suggestion.metrics['sql_target_precision']:.0%} or more"
        )
    _write_csv(out_dir / "scoring_thresholds.csv", fields, thresholds)

    provenance = out_dir / "provenance"
    provenance.mkdir()
    fit_ids = iter(row["rule_id"] for row in fit_rows)
    behaviour_ids = iter(row["rule_id"] for row in behaviour_rows)
    rows = []
    for rule in suggestion.rules:
        indicator = rule["indicator"]
        rows.append(
            {
                "rule_id": next(fit_ids if indicator.part == "fit" else behaviour_ids),
                "seed": "scoring_fit_rules"
                if indicator.part == "fit"
                else "scoring_behavior_rules",
                "condition": indicator.description,
                "coefficient": f"{rule['coefficient']:.4f}",
                "points": rule["points"],
                "training_leads_with_it": rule["train_leads"],
                "conversion_with": _percent(rule["conversion_with"]),
                "conversion_without": _percent(rule["conversion_without"]),
            }
        )
    _write_csv(provenance / "rules.csv", list(rows[0]) if rows else ["rule_id"], rows)
    (out_dir / "suggestion.json").write_text(
        json.dumps(
            {
                "evaluation_date": suggestion.evaluation_date.isoformat(),
                "window_days": suggestion.window_days,
                "base_points": suggestion.base_points,
                "mql_threshold": suggestion.mql_threshold,
                "sql_threshold": suggestion.sql_threshold,
                "metrics": suggestion.metrics,
                "excluded_attributes": suggestion.excluded,
            },
            indent=2,
            default=str,
        )
        + "\n"
    )
    (out_dir / "README.md").write_text(_readme(suggestion, out_dir))
    return out_dir


def _percent(value: float | None) -> str:
    return "" if value is None else f"{value:.1%}"


def _readme(suggestion: Suggestion, out_dir: Path) -> str:
    m = suggestion.metrics
    lines = [
        f"# Suggested rules, learned as of {suggestion.evaluation_date}",
        "",
        f"Written by `leadscore suggest-rules` on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC from "
        f"{m['leads']:,} leads that were open on {suggestion.evaluation_date}; a lead "
        + (
            "converted when it had won a deal by then (a snapshot)."
            if suggestion.window_days == 0
            else f"converted when it won a deal in the {suggestion.window_days} days after."
        ),
        f"{m['holdout_leads']:,} leads ({suggestion.settings.holdout_share:.0%}, by a hash of "
        "their id) were held out of the fit to judge it.",
        "",
        "Each point comes from an L1-regularised logistic regression on the conditions the "
        "seed rules can state: a rule's points are its coefficient times "
        f"{suggestion.settings.score_range:g} / (the spread of the leads' log-odds between "
        "their 1st and 99th percentile), rounded; the base score (scoring_weights.csv, row "
        "base) is the intercept on the same scale. `provenance/rules.csv` lists every rule "
        "with its coefficient and the conversion rate of the training leads with and "
        "without it. The MQL and SQL cut-offs (scoring_thresholds.csv) are the lowest scores "
        f"whose leads converted at {m['mql_target_precision']:.0%} and "
        f"{m['sql_target_precision']:.0%} or more (seeds/scoring/rule_learning_settings.csv).",
        "",
        "Nothing here is in production. To adopt it, review and edit the CSVs (rename, round, "
        "drop rules), then copy them over the seeds and run again:",
        "",
        "```sh",
        f"cp {out_dir}/*.csv seeds/scoring/",
        ".venv/bin/leadscore run",
        "```",
        "",
        "The fit and behaviour rule files replace the current ones whole; keep a copy of "
        "seeds/scoring/ (git does) to go back.",
    ]
    if suggestion.excluded:
        lines += ["", "Attributes left out:", ""] + [f"- {why}" for why in suggestion.excluded]
    return "\n".join(lines) + "\n"
