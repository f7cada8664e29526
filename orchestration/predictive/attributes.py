"""The lead's own columns as model inputs.

`int_predictive__lead_attributes` holds, per lead, every column of the raw contact row its
attributes come from and of its company's raw row (`contact__<column>`, `company__<column>`),
as lower-case trimmed text. This module decides which of them the model reads and how:

* by name (before reading): the contract's ids, names, e-mail, dates and lifecycle stage, the
  columns that repeat a fixed feature, the `exclude_columns` setting; then at most
  `max_attribute_columns` of the best-filled columns (a connector's table has hundreds);
* by value (on the leads known at the as-of date): empty or single-valued columns, e-mail
  addresses, dates, identifiers (a value unique to nearly every lead), names and free text
  (more distinct values than half the leads that have one) are left out; Yes/No columns are
  categories (`yes` / `no`), numeric columns numbers, the rest categories;
* by outcome: a column whose values alone nearly decide whether a lead converted (the
  export's own `Converted` column, a field sales fill in after the deal) is left out.

Every column left out is listed with the reason, for the model card. Categories enter one-hot
(values rarer than `MIN_CATEGORY_EXAMPLES` pooled, missing a category of its own), numbers as
sign(x) * log(1 + |x|) with a missing indicator.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

MISSING = "(missing)"
MIN_CATEGORY_EXAMPLES = 20  # rarer categories share one "infrequent" column
MAX_CATEGORIES = 30  # per attribute column, the infrequent one included
SOURCES = {"contact__": "contact", "company__": "company"}
# Profiling thresholds, as shares of the leads that have a value.
NUMBER_SHARE = 0.95  # values that read as numbers: a numeric column
DATE_SHARE = 0.9
EMAIL_SHARE = 0.5
ID_SHARE = 0.95  # distinct values per lead with a value: an identifier
ID_MIN_LEADS = 20
FREE_TEXT_SHARE = 0.5
FREE_TEXT_MIN_VALUES = 50
# Leakage: leads whose value has a conversion rate of 0% or 100% (values held by at least
# LEAK_MIN_LEADS leads) make up more than LEAK_SHARE of the leads, and the 100% values hold
# most conversions (so a rare outcome in small data does not flag every column).
LEAK_SHARE = 0.95
LEAK_MIN_LEADS = 5

BOOLEAN_WORDS = {
    "true": "yes",
    "t": "yes",
    "yes": "yes",
    "y": "yes",
    "false": "no",
    "f": "no",
    "no": "no",
    "n": "no",
}
_DATE = re.compile(
    r"^(\d{4}-\d{1,2}-\d{1,2}([ t]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?z?"
    r"|\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}( \d{1,2}:\d{2}(:\d{2})?( ?[ap]m)?)?)$"
)
PERSON_NAMES = (  # a person's name: personal data, and no signal
    "name",
    "contact_name",
    "lead_name",
    "first_name",
    "last_name",
    "full_name",
    "middle_name",
    "firstname",
    "lastname",
    "fullname",
    "surname",
)
_SMALL_WORDS = {"a", "an", "and", "at", "by", "for", "in", "of", "on", "or", "per", "the", "to"}

# Columns of the raw contract never read as attributes, with why.
NAMED_EXCLUSIONS = {
    "contact.contact_id": "an identifier",
    "contact.company_id": "an identifier",
    "contact.email": "personal data (an e-mail address); its domain type is a feature",
    "contact.first_name": "a name",
    "contact.last_name": "a name",
    "contact.lifecycle_stage": "records the outcome (lifecycle stage)",
    "contact.lead_source": "already a feature (Lead source)",
    "contact.created_at": "a date (the lead's age is a feature)",
    "contact.updated_at": "a date",
    "company.company_id": "an identifier",
    "company.name": "a name",
    "company.domain": "identifies the company",
    "company.industry": "already a feature (Industry)",
    "company.employee_count": "already a feature (Company employees)",
    "company.created_at": "a date",
    "company.updated_at": "a date",
}
# Current values that change over time and arrive as dated behaviour: in point-in-time mode
# today's value would tell the model about a past date's future.
POINT_IN_TIME_EXCLUSIONS = {
    "contact.unsubscribed": "changes over time (point-in-time mode reads unsubscribes as dated "
    "behaviour)",
}


def attribute_name(column: str) -> str:
    """`contact__total_visits` -> `contact.total_visits`."""
    for prefix, source in SOURCES.items():
        if column.startswith(prefix):
            return f"{source}.{column[len(prefix) :]}"
    return column


def attribute_label(name: str) -> str:
    """How a factor names the column: `contact.total_time_spent_on_website` -> `Total Time
    Spent on Website`; company columns start with `Company`."""
    source, _, raw = name.partition(".")
    words = [word for word in raw.split("_") if word]
    if source == "company" and (not words or words[0] != "company"):
        words = ["company", *words]
    return " ".join(
        word if index and word in _SMALL_WORDS else word[:1].upper() + word[1:]
        for index, word in enumerate(words)
    )


def normalise_name(text: str) -> str:
    """A column name as an analyst writes it (`Lead Quality`, `contact.Lead Quality`) in the
    raw tables' form: lower case, runs of anything but letters, digits, `_` and `.` as `_`."""
    return re.sub(r"[^a-z0-9_.]+", "_", text.strip().lower()).strip("_")


def _excluded_by_setting(name: str, exclude: Sequence[str]) -> bool:
    raw = name.partition(".")[2]
    return any(entry in (name, raw) for entry in exclude)


@dataclass(frozen=True)
class AttributeColumn:
    column: str  # in the frame: contact__total_visits
    name: str  # contact.total_visits
    label: str  # Total Visits
    kind: str  # category | boolean | number


@dataclass
class AttributePlan:
    columns: list[AttributeColumn] = field(default_factory=list)
    excluded: list[dict[str, str]] = field(default_factory=list)


def choose_columns(
    columns: Sequence[str],
    filled: Mapping[str, int],
    *,
    exclude: Sequence[str],
    limit: int,
) -> tuple[list[str], list[dict[str, str]]]:
    """Which columns of the attribute view to read, by name and fill: those not excluded by
    name, at most `limit` of them, the best filled first. Returns them and the exclusions."""
    excluded: list[dict[str, str]] = []
    candidates = []
    names = {attribute_name(column) for column in columns}
    for column in columns:
        if not column.startswith(tuple(SOURCES)):
            continue
        name = attribute_name(column)
        if name in NAMED_EXCLUSIONS:
            excluded.append({"feature": name, "reason": NAMED_EXCLUSIONS[name]})
        elif _excluded_by_setting(name, exclude):
            excluded.append({"feature": name, "reason": "listed in the exclude_columns setting"})
        elif not filled.get(column):
            excluded.append({"feature": name, "reason": "empty"})
        else:
            candidates.append(column)
    for entry in exclude:
        if not any(_excluded_by_setting(name, [entry]) for name in names):
            reason = "listed in the exclude_columns setting: no such column"
            excluded.append({"feature": entry, "reason": reason})
    candidates.sort(key=lambda column: (-filled[column], column))
    for column in candidates[limit:]:
        excluded.append(
            {
                "feature": attribute_name(column),
                "reason": f"beyond max_attribute_columns ({limit}); fewer leads have a value",
            }
        )
    return candidates[:limit], excluded


def _number_values(categories: pd.Index) -> np.ndarray:
    return pd.to_numeric(pd.Series(np.asarray(categories, dtype=object)), errors="coerce").to_numpy(
        dtype=float
    )


def _profile(name: str, values: pd.Series) -> tuple[str | None, str | None]:
    """(kind, None) for a usable column, (None, reason) for one left out. `values` is a
    categorical Series of lower-case text, NaN when missing."""
    counts = values.value_counts(sort=False)
    counts = counts[counts > 0]
    present = int(counts.sum())
    if present == 0:
        return None, "empty"
    categories = pd.Index(counts.index.astype(str))
    weights = counts.to_numpy(dtype=float)
    distinct = len(categories)

    def share(mask: np.ndarray) -> float:
        return float(weights[mask].sum() / present)

    if distinct == 1 and present == len(values):
        return None, "the same value for every lead"
    raw = name.partition(".")[2]
    if raw in PERSON_NAMES or raw.endswith(tuple(f"_{word}" for word in PERSON_NAMES[1:])):
        return None, "a name"
    if share(np.asarray(categories.str.contains("@", regex=False), dtype=bool)) >= EMAIL_SHARE:
        return None, "e-mail addresses"
    if share(np.asarray(categories.str.match(_DATE), dtype=bool)) >= DATE_SHARE:
        return None, "a date"
    if set(categories) <= set(BOOLEAN_WORDS):
        return "boolean", None
    numbers = _number_values(categories)
    unique = distinct >= ID_SHARE * present and present >= ID_MIN_LEADS
    if share(~np.isnan(numbers)) >= NUMBER_SHARE:
        whole = np.all(np.isnan(numbers) | (numbers == np.round(numbers)))
        if unique and whole:
            return None, "an identifier (a different value for nearly every lead)"
        return ("category" if distinct <= 2 else "number"), None
    if unique:
        return None, "an identifier (a different value for nearly every lead)"
    if distinct > FREE_TEXT_SHARE * present and distinct > FREE_TEXT_MIN_VALUES:
        return None, f"free text ({distinct:,} different values)"
    return "category", None


def _pure_share(codes: np.ndarray, outcome: np.ndarray) -> tuple[float, float]:
    """For a grouping of the leads (codes >= 0), the share of leads in groups whose
    conversion rate is 0% or 100%, and the share of conversions in 100% groups."""
    counts = np.bincount(codes)
    positives = np.bincount(codes, weights=outcome.astype(float))
    supported = counts >= LEAK_MIN_LEADS
    pure = supported & ((positives == 0) | (positives == counts))
    covered = counts[pure].sum() / max(len(codes), 1)
    converted = positives[supported & (positives == counts)].sum() / max(outcome.sum(), 1)
    return float(covered), float(converted)


def _leak(values: pd.Series, kind: str, outcome: np.ndarray) -> str | None:
    """Why the column records the outcome, or None: leads whose value alone has a conversion
    rate of 0% or 100% are more than LEAK_SHARE of them, and the 100% values hold most
    conversions. Numbers are looked at by exact value and as missing against present."""
    if outcome.all() or not outcome.any():
        return None
    codes = values.cat.codes.to_numpy() + 1  # 0 = missing
    groupings = [codes]
    if kind == "number":
        groupings.append((codes > 0).astype(int))
    for grouping in groupings:
        covered, converted = _pure_share(grouping, outcome)
        if covered > LEAK_SHARE and converted > 0.5:
            return (
                f"records the outcome: {covered:.0%} of the leads have a value whose conversion "
                "rate is 0% or 100%"
            )
    return None


def plan_attributes(
    frame: pd.DataFrame,
    outcome: np.ndarray,
    *,
    mode: str,
    excluded: Sequence[Mapping[str, str]] = (),
) -> AttributePlan:
    """Profile the chosen columns of `frame` (one row per lead known at the as-of date,
    categorical text columns) against `outcome` (converted by the as-of date, same rows)."""
    plan = AttributePlan(excluded=[dict(entry) for entry in excluded])
    for column in frame.columns:
        name = attribute_name(column)
        if mode == "point_in_time" and name in POINT_IN_TIME_EXCLUSIONS:
            plan.excluded.append({"feature": name, "reason": POINT_IN_TIME_EXCLUSIONS[name]})
            continue
        values = frame[column]
        kind, reason = _profile(name, values)
        if kind is not None:
            reason = _leak(values, kind, outcome)
        if reason is not None:
            plan.excluded.append({"feature": name, "reason": reason})
            continue
        plan.columns.append(AttributeColumn(column, name, attribute_label(name), kind))
    return plan


def as_categorical(values: pd.Series) -> pd.Series:
    """Text values as a pandas categorical (compact for many rows of few values)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return values
    return values.astype("category")


def encode(frame: pd.DataFrame, plan: AttributePlan) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The feature columns of `plan` for the rows of `frame`: a text column per category
    (booleans as yes / no, MISSING when missing) and, per number, `<column>:log` and
    `<column>:missing`. Returns the features and the categorical and numeric column names."""
    features: dict[str, pd.Series | np.ndarray] = {}
    categorical, numeric = [], []
    for item in plan.columns:
        values = as_categorical(frame[item.column]) if item.column in frame else None
        if values is None:
            values = pd.Series(pd.Categorical([None] * len(frame)), index=frame.index)
        categories = pd.Index(values.cat.categories.astype(str))
        codes = values.cat.codes.to_numpy()
        if item.kind == "number":
            numbers = np.append(_number_values(categories), np.nan)[codes]
            missing = np.isnan(numbers)
            magnitude = np.log1p(np.abs(np.nan_to_num(numbers)))
            features[f"{item.column}:log"] = np.sign(np.nan_to_num(numbers)) * magnitude
            features[f"{item.column}:missing"] = missing.astype(float)
            numeric += [f"{item.column}:log", f"{item.column}:missing"]
            continue
        labels = categories.to_numpy(dtype=object)
        if item.kind == "boolean":
            labels = np.array([BOOLEAN_WORDS.get(label, label) for label in labels], dtype=object)
        features[item.column] = np.append(labels, MISSING)[codes]
        categorical.append(item.column)
    return pd.DataFrame(features, index=frame.index), categorical, numeric


def describe_number(log_value: float, missing: float) -> str:
    """A number's value from its log feature, as people write it (1,520; 2.5)."""
    if missing >= 0.5:
        return "unknown"
    value = math.copysign(math.expm1(abs(log_value)), log_value)
    if abs(value - round(value)) < 1e-6 * max(1.0, abs(value)):
        return f"{round(value):,}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")
