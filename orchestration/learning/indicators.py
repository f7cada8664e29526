"""Candidate indicators: conditions a seed rule can state, evaluated on every lead of a
dataset exactly as the scoring models would evaluate the rule.

Each indicator is one row of `scoring_fit_rules.csv` (a value of an attribute, a missing
attribute, a number at or above a threshold, a yes/no flag, a lead created recently) or of
`scoring_behavior_rules.csv` (at least k events of a type in the last 7 or 30 days, any
engagement in a window). The values are read as the rule engine reads them: text lower-case
and trimmed, numbers in plain decimal notation, yes/no words as booleans, dates as their
age in days at the evaluation date, behaviour windows as whole days ending with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from orchestration.learning.dataset import MIN_COUNTS, LeadDataset

NUMBER = re.compile(r"^[+-]?[0-9]{1,15}([.][0-9]+)?$")
TRUE_WORDS = {"true", "t", "1", "yes", "y"}
FALSE_WORDS = {"false", "f", "0", "no", "n"}
QUANTILES = (0.25, 0.5, 0.75, 0.9)
NEW_LEAD_DAYS = (7, 30, 90)
ID_LIKE_SHARE = 0.9  # an attribute unique for more of its leads than this is an id, not a trait


@dataclass(frozen=True)
class Indicator:
    """A condition a seed rule can state, and whether each lead of the dataset meets it."""

    key: str
    description: str
    values: np.ndarray  # bool per lead, in the dataset's order
    # scoring_fit_rules.csv (part "fit") or scoring_behavior_rules.csv (part "behavior")
    part: str
    rule: dict[str, str]

    @property
    def share(self) -> float:
        return float(self.values.mean())


def _label(name: str) -> str:
    """`contact.current_occupation` -> `Current occupation`."""
    return name.split(".", 1)[-1].replace("_", " ").strip().capitalize()


def _format_number(value: float) -> str:
    text = f"{round(value, 2):.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _kept(values: np.ndarray, min_share: float) -> bool:
    share = float(values.mean())
    return min_share <= share <= 1 - min_share


def attribute_indicators(
    dataset: LeadDataset, max_values: int, min_share: float
) -> list[Indicator]:
    frame = dataset.frame
    found: list[Indicator] = []

    def add(key: str, description: str, values: np.ndarray, **rule: str) -> None:
        if _kept(values, min_share):
            found.append(Indicator(key, description, values, "fit", rule))

    for name, kind in dataset.attributes.items():
        text = frame[name]
        present = text.notna().to_numpy()
        label = _label(name)
        add(
            f"{name}:missing",
            f"{label} not given",
            ~present,
            attribute=name,
            attribute_type="text",
            operator="is_missing",
        )
        values = text.dropna()
        if values.empty:
            continue
        distinct = values.nunique()
        numeric = values.map(lambda v: bool(NUMBER.match(v.strip()))).mean() >= 0.95
        if distinct > ID_LIKE_SHARE * len(values) and len(values) > 50:
            continue  # an id or free text: no value says anything about other leads
        if kind == "number" or numeric:
            numbers = pd.to_numeric(
                text.where(text.map(lambda v: bool(NUMBER.match(v.strip())), na_action="ignore")),
                errors="coerce",
            )
            number_values = numbers.to_numpy(dtype=float)
            thresholds = sorted({round(float(q), 2) for q in numbers.quantile(QUANTILES)})
            for threshold in thresholds:
                add(
                    f"{name}:gte:{threshold}",
                    f"{label} {_format_number(threshold)} or more",
                    np.nan_to_num(number_values >= threshold, nan=False).astype(bool),
                    attribute=name,
                    attribute_type="number",
                    operator="gte",
                    value=_format_number(threshold),
                )
            if 0.0 not in thresholds:
                add(
                    f"{name}:gt:0",
                    f"{label} above 0",
                    np.nan_to_num(number_values > 0, nan=False).astype(bool),
                    attribute=name,
                    attribute_type="number",
                    operator="gt",
                    value="0",
                )
            continue
        words = set(values.unique())
        if words <= TRUE_WORDS | FALSE_WORDS:
            add(
                f"{name}:true",
                f"{label}: yes",
                text.map(lambda v: v in TRUE_WORDS, na_action="ignore")
                .fillna(False)
                .to_numpy(bool),
                attribute=name,
                attribute_type="boolean",
                operator="equals",
                value="true",
            )
            continue
        for value, _ in values.value_counts().head(max_values).items():
            add(
                f"{name}:equals:{value}",
                f"{label}: {value}",
                (text == value).to_numpy(bool),
                attribute=name,
                attribute_type="text",
                operator="equals",
                value=str(value),
            )
    age = frame["lead_age_days"].to_numpy(dtype=float)
    for days in NEW_LEAD_DAYS:
        add(
            f"created_at:lte:{days - 1}",
            f"Created in the last {days} days",
            age <= days - 1,
            attribute="created_at",
            attribute_type="date",
            operator="lte",
            value=str(days - 1),
        )
    return found


def behaviour_indicators(dataset: LeadDataset, min_share: float) -> list[Indicator]:
    frame = dataset.frame
    found: list[Indicator] = []
    for column, (event_type, category, days) in dataset.behaviour.items():
        counts = frame[column].to_numpy(dtype=float)
        what = event_type.replace("_", " ") + (f" ({category})" if category else "")
        for minimum in MIN_COUNTS:
            values = counts >= minimum
            if not _kept(values, min_share):
                continue
            times = "once" if minimum == 1 else f"{minimum} times"
            found.append(
                Indicator(
                    f"{column}:{minimum}",
                    f"{what.capitalize()} at least {times} in {days} days",
                    values,
                    "behavior",
                    {
                        "rule_type": "frequency",
                        "event_type": event_type,
                        "page_category": category or "",
                        "min_count": str(minimum),
                        "window_days": str(days),
                    },
                )
            )
    for column, days in dataset.engagement.items():
        values = frame[column].to_numpy(dtype=float) >= 1
        if _kept(values, min_share):
            found.append(
                Indicator(
                    column,
                    f"Active in the last {days} days",
                    values,
                    "behavior",
                    {"rule_type": "recency", "window_days": str(days)},
                )
            )
    return found


def candidate_indicators(
    dataset: LeadDataset, max_values: int, min_share: float
) -> list[Indicator]:
    """Every candidate, the same indicator never twice (two conditions true for exactly the
    same leads keep the first)."""
    seen: set[bytes] = set()
    unique = []
    for indicator in attribute_indicators(dataset, max_values, min_share) + behaviour_indicators(
        dataset, min_share
    ):
        fingerprint = np.packbits(indicator.values).tobytes()
        if fingerprint in seen:
            continue
        seen.add(fingerprint)
        unique.append(indicator)
    return unique


def matrix(indicators: list[Indicator]) -> np.ndarray:
    """Leads x indicators, 0/1."""
    if not indicators:
        return np.zeros((0, 0))
    return np.column_stack([indicator.values for indicator in indicators]).astype(float)
