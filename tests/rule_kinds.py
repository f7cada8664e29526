"""Rules of every kind the scoring seeds can state, beyond the shipped ones, and the extra
landing-file columns they read: tests that compare two ways of building the same warehouse
(incremental against full refresh, Spark against DuckDB) score with these too, so each rule
kind is covered by each comparison.

The rules read an extra column of the contact files (`occupation`, missing for a third of
the contacts) and two of the event files (`duration_seconds`, some values not numbers, and
`utm_source`), decided by the row's id so that a re-sent row carries the same values.
"""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Callable
from pathlib import Path

from orchestration.lib.seeds import seed_path

NEW_FIT_RULES = [
    # an AND group: both rows are conditions of one rule
    {"rule_id": "fit_senior_at_200", "attribute": "seniority", "operator": "in",
     "value": "c_level|vp|director", "points": "7"},
    {"rule_id": "fit_senior_at_200", "attribute": "employee_count", "operator": "gte",
     "value": "200", "points": "7"},
    {"rule_id": "fit_no_occupation", "attribute": "occupation", "operator": "is_missing",
     "points": "-3"},
    {"rule_id": "fit_occupation_not_student", "attribute": "contact.Occupation",
     "operator": "not_equals", "value": "Student", "missing_matches": "true", "points": "2"},
    {"rule_id": "fit_recent_lead", "attribute": "created_at", "attribute_type": "date",
     "operator": "lte", "value": "60", "points": "2"},
    {"rule_id": "fit_not_student", "attribute": "seniority", "operator": "not_equals",
     "value": "entry", "missing_matches": "true", "points": "1"},
]  # fmt: skip
NEW_BEHAVIOUR_RULES = [
    {"rule_id": "beh_time_on_site", "rule_type": "value", "event_type": "page_view",
     "value_attribute": "duration_seconds", "aggregate": "sum", "per_unit": "60",
     "points": "1", "half_life_days": "14", "max_points": "20"},
    {"rule_id": "beh_long_week", "rule_type": "value", "event_type": "page_view",
     "value_attribute": "duration_seconds", "threshold": "600", "window_days": "7",
     "points": "5"},
    {"rule_id": "beh_longest_visit", "rule_type": "value", "event_type": "page_view",
     "value_attribute": "duration_seconds", "aggregate": "max", "per_unit": "100",
     "points": "1", "half_life_days": "30", "max_points": "9"},
    {"rule_id": "beh_google", "rule_type": "event", "event_type": "page_view",
     "filter_attribute": "utm_source", "filter_operator": "equals", "filter_value": "google",
     "points": "2", "half_life_days": "30", "max_points": "10"},
    {"rule_id": "beh_bofu_any", "rule_type": "event", "filter_attribute": "funnel_stage",
     "filter_operator": "equals", "filter_value": "bofu", "points": "3",
     "half_life_days": "30", "max_points": "12"},
    {"rule_id": "beh_last_was_a_visit", "rule_type": "last_activity", "event_type": "page_view",
     "points": "2", "half_life_days": "20"},
    {"rule_id": "beh_last_click_recent", "rule_type": "last_activity",
     "event_type": "email_click", "window_days": "14", "points": "4"},
]  # fmt: skip


def add_rules(seeds: Path) -> None:
    """Append NEW_FIT_RULES and NEW_BEHAVIOUR_RULES to the seeds in `seeds`."""
    for name, rules in (
        ("scoring_fit_rules", NEW_FIT_RULES),
        ("scoring_behavior_rules", NEW_BEHAVIOUR_RULES),
    ):
        path = seed_path(name, seeds)
        with path.open(newline="") as handle:
            reader = csv.DictReader(handle)
            fields, rows = reader.fieldnames, list(reader)
        with path.open("w", newline="") as handle:
            writer = csv.DictWriter(handle, fieldnames=fields, restval="")
            writer.writeheader()
            writer.writerows(rows + [{"customer_scope": "all", **rule} for rule in rules])


def _draw(value: str | None, salt: str = "") -> int:
    return int(hashlib.md5(((value or "") + salt).encode()).hexdigest()[:8], 16)


def occupation(contact_id: str | None) -> str | None:
    return (None, "Working Professional", "Student")[_draw(contact_id) % 3]


def duration_seconds(event_id: str | None, event_type: str | None) -> str | None:
    if _draw(event_id) % 53 == 0:
        return "n/a"
    return str(_draw(event_id) % 900) if event_type == "page_view" else None


def utm_source(event_id: str | None) -> str | None:
    return ("google", "bing", None)[_draw(event_id, "utm") % 3]


def _add_columns(path: Path, extra: dict[str, Callable[[dict], str | None]]) -> None:
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        fields, rows = reader.fieldnames, list(reader)
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=[*fields, *extra])
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **{name: make(row) for name, make in extra.items()}})


def add_extra_columns(landing: Path) -> None:
    """Give the CSV files of a generated landing folder the extra columns the rules read."""
    for path in sorted((landing / "crm_contacts").glob("*.csv")):
        _add_columns(path, {"occupation": lambda row: occupation(row["contact_id"])})
    for path in sorted((landing / "marketing_events").glob("*.csv")):
        _add_columns(
            path,
            {
                "duration_seconds": lambda row: duration_seconds(
                    row["event_id"], row["event_type"]
                ),
                "utm_source": lambda row: utm_source(row["event_id"]),
            },
        )
