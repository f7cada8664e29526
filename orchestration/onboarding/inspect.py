"""Profile an export file and draft its mapping (``leadscore inspect``).

The profile says, per column, what the values look like: the inferred type (boolean, number,
date with its format, text), how many distinct values, the share missing, the most common
values and the placeholders found ("Select", "N/A", ...). The draft is a ``mapping.yml`` an
analytics engineer reviews: the guesses are marked with comments, and the draft is checked to
validate before it is written (commented-out examples included).
"""

from __future__ import annotations

import re
import textwrap
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from orchestration.ingest.contract import RAW_CONTRACT, normalise_column_name
from orchestration.onboarding.mapping import (
    DEFAULT_FALSE,
    DEFAULT_MISSING,
    DEFAULT_TRUE,
    parse_mapping,
)
from orchestration.onboarding.transform import read_raw
from orchestration.onboarding.values import is_plain_number, parse_date, slash_date_parts

DEFAULT_SAMPLE_ROWS = 100_000
TOP_VALUES = 3
SHORT_VALUE = 30
LINE_WIDTH = 96  # of the draft, before it is commented out
# Values that stand for "nothing entered" in CRM exports (compared trimmed, lower-case).
PLACEHOLDER_WORDS = frozenset(
    {
        "select",
        "please select",
        "n/a",
        "na",
        "#n/a",
        "-",
        "--",
        "?",
        "none",
        "null",
        "nan",
        "unknown",
        "(not set)",
        "not set",
        "(none)",
        "(blank)",
        "not specified",
    }
)
BOOLEAN_WORDS = frozenset(DEFAULT_TRUE) | frozenset(DEFAULT_FALSE)
# Epoch values that fall in the years 2000 to 2100.
EPOCH_SECONDS_RANGE = (946_684_800, 4_102_444_800)

DATE_NAME_WORDS = ("date", "time", "created", "updated")
CREATED_WORDS = (
    "created",
    "creation",
    "create",
    "first",
    "signup",
    "sign_up",
    "registered",
    "registration",
    "added",
    "submitted",
    "acquired",
)
UPDATED_WORDS = ("last", "updated", "modified", "changed")
UNSUBSCRIBED_WORDS = (
    "do_not_email",
    "donotemail",
    "unsubscribed",
    "unsubscribe",
    "opt_out",
    "optout",
    "opted_out",
)
OUTCOME_WORDS = ("converted", "is_customer", "closed_won", "purchased")
OUTCOME_TOKENS = ("won", "outcome", "target")
COUNT_WORDS = ("visit", "view", "click", "open", "session")
TIME_WORDS = ("time", "duration", "minutes", "seconds")
RATIO_TOKENS = ("per", "avg", "average", "rate", "ratio", "pct", "percent")
# contract column -> (exact or contained names, in order of preference)
CONTACT_NAME_GUESSES = {
    "lead_source": ("lead_source", "source", "origin"),
    "country": ("country",),
    "job_title": ("job_title", "title"),
    "first_name": ("first_name", "firstname", "given_name"),
    "last_name": ("last_name", "lastname", "surname", "family_name"),
    "company_id": ("company_id",),
}
ID_TOKENS = ("id", "uuid", "guid")
ENTITY_ID = r"(lead|contact|prospect|customer|person|user|record|account)id"
NUMBER_TOKENS = ("number", "num", "no", "nr")


@dataclass
class ColumnProfile:
    name: str
    type: str  # text | number | date | boolean
    date_format: str | None = None
    ambiguous_order: bool = False  # a/b/YYYY with no part above 12: M/D/YYYY is a guess
    distinct: int = 0
    missing_share: float = 0.0  # 0..1
    top_values: list[tuple[str, int]] = field(default_factory=list)
    placeholders: list[str] = field(default_factory=list)
    unique: bool = False  # at least one value, and no value twice
    at_share: float = 0.0  # share of present values that contain '@'

    @property
    def normalised(self) -> str:
        return normalise_column_name(self.name)


@dataclass
class FileProfile:
    path: Path
    rows: int
    sampled: bool  # True when the file has more rows than were profiled
    columns: list[ColumnProfile]

    def column(self, name: str) -> ColumnProfile:
        return next(column for column in self.columns if column.name == name)


def shorten(value: str, width: int = SHORT_VALUE) -> str:
    return value if len(value) <= width else value[: width - 3] + "..."


def profile_file(path: Path, *, sample_rows: int | None = DEFAULT_SAMPLE_ROWS) -> FileProfile:
    """Profile the first ``sample_rows`` rows (None: every row) of a CSV or Parquet file."""
    header, batches = read_raw(path, path.name)
    counters: list[Counter[str]] = [Counter() for _ in header]
    empty = [0] * len(header)
    rows = 0
    sampled = False
    for batch in batches:
        if sample_rows is not None and rows >= sample_rows:
            sampled = True
            break
        if sample_rows is not None and rows + batch.num_rows > sample_rows:
            batch = batch.slice(0, sample_rows - rows)
            sampled = True
        for index in range(len(header)):
            counter = counters[index]
            for value in batch.column(index).to_pylist():
                text = "" if value is None else value.strip()
                if text:
                    counter[text] += 1
                else:
                    empty[index] += 1
        rows += batch.num_rows
        if sampled:
            break
    columns = [_profile_column(name, counters[i], empty[i], rows) for i, name in enumerate(header)]
    return FileProfile(path=path, rows=rows, sampled=sampled, columns=columns)


def _profile_column(name: str, counter: Counter[str], empty: int, rows: int) -> ColumnProfile:
    default_missing = {word.lower() for word in DEFAULT_MISSING}
    placeholder_counts: Counter[str] = Counter()
    missing = empty
    present: Counter[str] = Counter()
    for value, count in counter.items():
        lowered = value.lower()
        if lowered in PLACEHOLDER_WORDS:
            placeholder_counts[value] += count
        if lowered in PLACEHOLDER_WORDS or lowered in default_missing:
            missing += count
        else:
            present[value] += count
    kind, date_format, ambiguous = infer_type(name, list(present))
    total_present = sum(present.values())
    return ColumnProfile(
        name=name,
        type=kind,
        date_format=date_format,
        ambiguous_order=ambiguous,
        distinct=len(present),
        missing_share=missing / rows if rows else 0.0,
        top_values=present.most_common(TOP_VALUES),
        placeholders=[value for value, _ in placeholder_counts.most_common()],
        unique=bool(present) and len(present) == total_present,
        at_share=(
            sum(count for value, count in present.items() if "@" in value) / total_present
            if total_present
            else 0.0
        ),
    )


def _tokens(normalised: str) -> list[str]:
    return [token for token in normalised.split("_") if token]


def _suggests(normalised: str, words: tuple[str, ...]) -> bool:
    return any(word in normalised for word in words)


def _suggests_date(normalised: str) -> bool:
    return _suggests(normalised, DATE_NAME_WORDS) or normalised.endswith("_at")


def infer_type(name: str, values: list[str]) -> tuple[str, str | None, bool]:
    """(type, date format, whether the day/month order is a guess) of a column whose distinct
    present values are ``values`` (trimmed)."""
    if not values:
        return "text", None, False
    normalised = normalise_column_name(name)
    lowered = {value.lower() for value in values}
    if lowered <= BOOLEAN_WORDS:
        counts_like = lowered <= {"0", "1"} and _suggests(normalised, (*COUNT_WORDS, "count"))
        if not counts_like:
            return "boolean", None, False
    if all(is_plain_number(value) for value in values):
        if _suggests_date(normalised) and all(re.fullmatch(r"\d+", value) for value in values):
            low, high = EPOCH_SECONDS_RANGE
            numbers = [int(value) for value in values]
            if all(low <= number < high for number in numbers):
                return "date", "epoch_seconds", False
            if all(low * 1000 <= number < high * 1000 for number in numbers):
                return "date", "epoch_milliseconds", False
        return "number", None, False
    date_format, ambiguous = detect_date_format(values)
    if date_format is not None:
        return "date", date_format, ambiguous
    return "text", None, False


def detect_date_format(values: list[str]) -> tuple[str | None, bool]:
    """The one named format every value parses with (or None), and whether it is M/D/YYYY
    only because no value tells the order (no part above 12)."""
    if all(re.match(r"\d{4}-\d{1,2}-\d{1,2}", value) for value in values):
        if all(parse_date(value, "iso") or parse_date(value, "YYYY-MM-DD") for value in values):
            if all(parse_date(value, "iso") for value in values):
                return "iso", False
            return "YYYY-MM-DD", False
        return None, False
    for fmt in ("YYYY/MM/DD", "D.M.YYYY"):
        if all(parse_date(value, fmt) for value in values):
            return fmt, False
    parts = [slash_date_parts(value) for value in values]
    if all(part is not None for part in parts):
        day_first = any(first > 12 for first, _ in parts)
        month_first = any(second > 12 for _, second in parts)
        if day_first and month_first:
            return None, False
        fmt = "D/M/YYYY" if day_first else "M/D/YYYY"
        if all(parse_date(value, fmt) for value in values):
            return fmt, not (day_first or month_first)
    return None, False


# -- the draft ----------------------------------------------------------------------------------


def yaml_scalar(value: object) -> str:
    """A scalar as YAML that reads back as the same value, in block and in flow context."""
    text = yaml.safe_dump([value], default_flow_style=True, width=1 << 20, allow_unicode=True)
    return text.strip()[1:-1]


def _flow(items: dict[str, object]) -> str:
    return "{" + ", ".join(f"{key}: {yaml_scalar(value)}" for key, value in items.items()) + "}"


def _line(indent: int, key: str, value: str, comment: str | None = None) -> str:
    """``key: value``, with the comment at the end of the line, or on lines of its own above
    it when the line would grow past LINE_WIDTH."""
    pad = "  " * indent
    text = f"{pad}{key}: {value}" if value else f"{pad}{key}:"
    if not comment:
        return text
    if len(text) + len(comment) + 4 <= LINE_WIDTH:
        return f"{text}  # {comment}"
    wrapped = textwrap.wrap(comment, width=LINE_WIDTH - len(pad) - 2)
    return "\n".join([*(f"{pad}# {part}" for part in wrapped), text])


@dataclass
class _Guess:
    """What a drafted contract column reads: a file column, or a template (with why)."""

    column: str | None = None
    template: str | None = None
    comment: str | None = None

    def yaml(self) -> str:
        if self.column is not None:
            return yaml_scalar(self.column)
        return _flow({"template": self.template})


def _find(
    profile: FileProfile, used: set[str], test, *, types: tuple[str, ...] | None = None
) -> ColumnProfile | None:
    for column in profile.columns:
        if column.name in used or (types and column.type not in types):
            continue
        if "{" in column.name or "}" in column.name:  # cannot be named in a template
            continue
        if test(column):
            return column
    return None


def _id_like(normalised: str) -> bool:
    return any(
        token in ID_TOKENS or re.fullmatch(ENTITY_ID, token) for token in _tokens(normalised)
    )


def _number_like(normalised: str) -> bool:
    return any(token in NUMBER_TOKENS for token in _tokens(normalised))


def _guess_contact_id(profile: FileProfile) -> _Guess:
    for looks_like in (_id_like, _number_like):
        found = _find(
            profile,
            set(),
            lambda column, looks_like=looks_like: (
                column.unique and column.missing_share < 0.5 and looks_like(column.normalised)
            ),
        )
        if found:
            return _Guess(column=found.name)
    first = next(
        (c.name for c in profile.columns if c.name and "{" not in c.name and "}" not in c.name),
        profile.columns[0].name,
    )
    return _Guess(
        template=f"{{{first}}}",
        comment="check: no column of unique values named like an id was found; "
        "a contact id must be unique and stable across exports",
    )


def _guess_by_name(
    profile: FileProfile, used: set[str], names: tuple[str, ...]
) -> ColumnProfile | None:
    for name in names:  # exact first, then contained, in order of preference
        found = _find(profile, used, lambda column, name=name: column.normalised == name)
        found = found or _find(profile, used, lambda column, name=name: name in column.normalised)
        if found:
            return found
    return None


def _auto_conflicts(profile: FileProfile, table: str, mapped: set[str]) -> dict[str, str]:
    """Contract columns two file columns would fill automatically: map the first of them."""
    chosen: dict[str, str] = {}
    for contract_column in RAW_CONTRACT[table]:
        if contract_column in mapped:
            continue
        names = [c.name for c in profile.columns if c.normalised == contract_column]
        if len(names) > 1:
            chosen[contract_column] = names[0]
    return chosen


def _keep_rest(profile: FileProfile, mapped_columns: set[str]) -> tuple[str, str | None]:
    """``rest``, or an explicit list when two kept columns would share a raw column name or
    one has no usable name."""
    kept = [c for c in profile.columns if c.name not in mapped_columns]
    names = [c.normalised for c in kept]
    if all(names) and len(set(names)) == len(names):
        return "rest", "every other column of the file, as an extra column of the raw table"
    seen: set[str] = set()
    chosen = []
    for column in kept:
        if column.normalised and column.normalised not in seen:
            seen.add(column.normalised)
            chosen.append(column.name)
    return (
        "[" + ", ".join(yaml_scalar(name) for name in chosen) + "]",
        "check: some columns share a raw column name or have none; only these are kept",
    )


def _section_lines(indent: int, entries: list[tuple[str, str, str | None]]) -> list[str]:
    return [_line(indent, key, value, comment) for key, value, comment in entries]


def draft_mapping(profile: FileProfile, *, snapshot_date: date | None = None) -> str:
    """The text of a draft ``mapping.yml`` for the profiled file. Raises ``MappingError``
    should the draft not validate (a bug: drafts are meant to)."""
    snapshot = (snapshot_date or datetime.now(UTC).date()).isoformat()
    columns = profile.columns
    placeholders: list[str] = []
    missing = list(DEFAULT_MISSING)
    known = {word.lower() for word in missing}
    for column in columns:
        for value in column.placeholders:
            if value.lower() not in known:
                known.add(value.lower())
                missing.append(value)
                placeholders.append(value)
    date_columns = [c for c in columns if c.type == "date"]
    formats = Counter(c.date_format for c in date_columns)
    date_format = formats.most_common(1)[0][0] if formats else "iso"
    rows = f"{profile.rows:,} rows" + (" (a sample)" if profile.sampled else "")

    lines = [
        f"# {profile.path.name}: draft mapping written by `leadscore inspect` from {rows}.",
        "# Review it before loading: comments starting with `check` mark guesses. The reference",
        "# of this file is docs/onboarding.md. To load: put the export and this file, named",
        "# mapping.yml, in a folder of the landing folder (e.g. data/landing/<export name>/).",
        "version: 1",
        "read:",
        _line(
            1,
            "missing",
            "[" + ", ".join(yaml_scalar(word) for word in missing) + "]",
            (
                f"check: placeholders found in the file: {', '.join(placeholders)}"
                if placeholders
                else "read as missing (trimmed, case-insensitive)"
            ),
        ),
        _line(
            1,
            "date_format",
            yaml_scalar(date_format),
            "the most common date format of the file" if date_columns else None,
        ),
        _line(1, "snapshot_date", yaml_scalar(snapshot), "check: the day the export was taken"),
        "columns:",
    ]
    for column in columns:
        if not column.name:  # a column without a name (e.g. an index) cannot be named here
            continue
        comment = None
        if column.type == "date" and column.date_format != date_format:
            value = _flow({"type": "date", "format": column.date_format})
        else:
            value = column.type
        if column.ambiguous_order:
            comment = (
                "check: no value has a part above 12, so the order (M/D/YYYY or D/M/YYYY) "
                "is ambiguous"
            )
        lines.append(_line(1, yaml_scalar(column.name), value, comment))

    # crm_contacts
    used: set[str] = set()
    contact_id = _guess_contact_id(profile)
    if contact_id.column:
        used.add(contact_id.column)
    entries: list[tuple[str, str, str | None]] = [
        ("contact_id", contact_id.yaml(), contact_id.comment)
    ]
    email = _find(profile, used, lambda c: c.at_share >= 0.9, types=("text",))
    if email:
        used.add(email.name)
        entries.append(("email", yaml_scalar(email.name), None))
    created = _find(
        profile, used, lambda c: _suggests(c.normalised, CREATED_WORDS), types=("date",)
    )
    if created:
        used.add(created.name)
        created_guess = _Guess(column=created.name)
    else:
        created_guess = _Guess(
            template="{snapshot_date}",
            comment="check: no creation date column found, so every lead counts as created on "
            "the export day (recency and age rules read this)",
        )
    entries.append(("created_at", created_guess.yaml(), created_guess.comment))
    updated = _find(
        profile, used, lambda c: _suggests(c.normalised, UPDATED_WORDS), types=("date",)
    )
    if updated:
        used.add(updated.name)
        entries.append(("updated_at", yaml_scalar(updated.name), None))
    for contract_column, names in CONTACT_NAME_GUESSES.items():
        found = _guess_by_name(profile, used, names)
        if found:
            used.add(found.name)
            entries.append((contract_column, yaml_scalar(found.name), None))
    unsubscribed = _find(
        profile, used, lambda c: _suggests(c.normalised, UNSUBSCRIBED_WORDS), types=("boolean",)
    )
    if unsubscribed:
        used.add(unsubscribed.name)
        entries.append(("unsubscribed", yaml_scalar(unsubscribed.name), None))
    mapped = {key for key, _, _ in entries}
    for contract_column, name in _auto_conflicts(profile, "crm_contacts", mapped).items():
        used.add(name)
        entries.append((contract_column, yaml_scalar(name), "check: two columns match"))
    order = {name: position for position, name in enumerate(RAW_CONTRACT["crm_contacts"])}
    entries.sort(key=lambda entry: order[entry[0]])
    auto = {c.name for c in columns if c.normalised in RAW_CONTRACT["crm_contacts"]}
    keep, keep_comment = _keep_rest(profile, used | auto)
    entries.append(("keep", keep, keep_comment))
    lines += ["tables:", "  crm_contacts:", *_section_lines(2, entries)]

    # crm_deals: the outcome
    outcome = _find(
        profile,
        used,
        lambda c: (
            _suggests(c.normalised, OUTCOME_WORDS)
            or any(token in OUTCOME_TOKENS for token in _tokens(c.normalised))
        ),
        types=("boolean",),
    )
    contact_ref = contact_id.column or contact_id.template.strip("{}")
    id_yaml = contact_id.yaml()
    if outcome:
        deal_entries = [
            ("when", _flow({"column": outcome.name, "is": True}), None),
            ("deal_id", _flow({"template": f"{{{contact_ref}}}-won"}), None),
            ("contact_id", id_yaml, None),
            ("is_won", _flow({"value": "true"}), None),
            ("is_closed", _flow({"value": "true"}), None),
            ("created_at", created_guess.yaml(), None),
            ("closed_at", _flow({"template": "{snapshot_date}"}), "check: the day it was won"),
        ]
        mapped = {key for key, _, _ in deal_entries}
        for contract_column, name in _auto_conflicts(profile, "crm_deals", mapped).items():
            deal_entries.append((contract_column, yaml_scalar(name), "check: two columns match"))
        deal_entries.append(("keep", "none", None))
        lines += [
            f"  # {outcome.name} looks like the outcome: a lead whose {outcome.name} is true",
            "  # becomes a won deal. Won deals feed the score calibration and the learned",
            "  # rules (conversion rates per rule), so check this section.",
            "  crm_deals:",
            *_section_lines(2, deal_entries),
        ]

    # marketing_events: a commented-out example from activity columns
    activity = [
        c
        for c in columns
        if c.type == "number"
        and c.name not in used
        and "{" not in c.name
        and "}" not in c.name
        and _suggests(c.normalised, (*COUNT_WORDS, *TIME_WORDS))
        and not any(token in RATIO_TOKENS for token in _tokens(c.normalised))
    ]
    event_lines: list[str] = []  # as they read once uncommented
    if activity:
        occurred = updated or created
        occurred_yaml = (
            yaml_scalar(occurred.name) if occurred else _flow({"template": "{snapshot_date}"})
        )
        event_lines.append("  marketing_events:")
        for column in activity:
            counts = _suggests(column.normalised, COUNT_WORDS) and "per" not in _tokens(
                column.normalised
            )
            slug = column.normalised.replace("_", "-")
            section = [("when", _flow({"column": column.name, "gt": 0}), None)]
            if counts:
                section += [
                    ("repeat", yaml_scalar(column.name), "one page view per unit"),
                    ("event_id", _flow({"template": f"{{{contact_ref}}}-{slug}-{{n}}"}), None),
                    ("contact_id", id_yaml, None),
                    ("event_type", _flow({"value": "page_view"}), None),
                    ("occurred_at", occurred_yaml, None),
                    ("keep", "none", None),
                ]
            else:
                section += [
                    ("event_id", _flow({"template": f"{{{contact_ref}}}-{slug}"}), None),
                    ("contact_id", id_yaml, None),
                    (
                        "event_type",
                        _flow({"value": "site_session"}),
                        "not an event type yet: add it to seeds/reference/event_types.csv",
                    ),
                    ("occurred_at", occurred_yaml, None),
                    ("keep", "[" + yaml_scalar(column.name) + "]", None),
                ]
            first, *rest = _section_lines(3, section)
            event_lines += ["    - " + first.lstrip(), *rest]
    comment_lines = []
    if event_lines:
        comment_lines = [
            "  # Activity columns of the export can become marketing events, which the behaviour",
            "  # score reads. Uncomment and adapt (event types: seeds/reference/event_types.csv):",
            *(f"  # {part[2:]}" for line in event_lines for part in line.split("\n")),
        ]
    text = "\n".join(lines + comment_lines) + "\n"
    label = f"draft mapping for {profile.path.name}"
    parse_mapping(yaml.safe_load(text), label)
    if event_lines:  # the example must validate once uncommented too
        parse_mapping(yaml.safe_load("\n".join(lines + event_lines) + "\n"), label)
    return text
