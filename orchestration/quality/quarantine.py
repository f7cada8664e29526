"""Why a raw load was mostly quarantined, in words an analyst can act on.

The blocking check ``raw_rows_are_usable`` (``orchestration/defs/quality/checks.py``) fails a
refresh whose latest load of a raw table is mostly quarantined; this module turns the
numbers of ``audit.audit_quarantine_share`` and a sample of the quarantined values into the
message. Only dates, event types and column names are quoted, never names or emails.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from orchestration.lib.dbt_manifest import relation_name
from orchestration.lib.warehouse import WarehouseConnection

# Timestamp columns of each raw table: the ones `invalid_timestamp` can come from.
TIMESTAMP_COLUMNS: Mapping[str, tuple[str, ...]] = {
    "crm_companies": ("created_at", "updated_at"),
    "crm_contacts": ("created_at", "updated_at"),
    "crm_deals": ("created_at", "closed_at"),
    "crm_owners": (),
    "marketing_events": ("occurred_at",),
}
# The id column whose absence each `missing_*` reason means.
ID_COLUMNS: Mapping[str, str] = {
    "missing_contact_id": "contact_id",
    "missing_company_id": "company_id",
    "missing_deal_id": "deal_id",
    "missing_owner_id": "owner_id",
    "missing_event_id": "event_id",
}
ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([ T]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?)?Z?$")
SLASHED = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{2}|\d{4})\b")
SHAPES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"^\d{1,2}\.\d{1,2}\.\d{4}\b"), "D.M.YYYY"),
    (re.compile(r"^\d{4}/\d{1,2}/\d{1,2}\b"), "YYYY/MM/DD"),
    (re.compile(r"^\d{9,10}(\.\d+)?$"), "epoch_seconds"),
    (re.compile(r"^\d{12,13}$"), "epoch_milliseconds"),
    (
        re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*[+-]\d{2}:?\d{2}$"),
        "iso",
    ),
)


@dataclass(frozen=True)
class LoadShare:
    """One row of audit.audit_quarantine_share."""

    raw_table: str
    loaded_rows: int
    quarantined_rows: int
    top_reason: str | None
    top_reason_rows: int
    share: float
    limit: float
    whole_table: bool

    @property
    def over_limit(self) -> bool:
        return self.loaded_rows > 0 and self.share > self.limit


def date_format_of(values: Iterable[str]) -> tuple[str, str] | None:
    """(format as the mapping names it, an example) when the values have one recognisable
    shape that is not the ISO 8601 staging reads; None otherwise."""
    values = [value.strip() for value in values if value and value.strip()]
    odd = [value for value in values if not ISO.match(value)]
    if not odd:
        return None
    slashed = [SLASHED.match(value) for value in odd]
    if all(slashed):
        firsts = [int(match.group(1)) for match in slashed if match]
        seconds = [int(match.group(2)) for match in slashed if match]
        if any(first > 12 for first in firsts):
            return "D/M/YYYY", odd[0]
        if any(second > 12 for second in seconds):
            return "M/D/YYYY", odd[0]
        return "M/D/YYYY or D/M/YYYY (every day is 12 or less: check which)", odd[0]
    for pattern, name in SHAPES:
        if all(pattern.match(value) for value in odd):
            return name, odd[0]
    return None


def likely_cause(share: LoadShare, samples: Mapping[str, Sequence[str | None]]) -> str | None:
    """What probably went wrong, from the top reason and samples of the quarantined rows'
    columns (`samples`: column -> values, the timestamp columns and event_type)."""
    reason = share.top_reason
    if reason == "invalid_timestamp":
        for column in TIMESTAMP_COLUMNS.get(share.raw_table, ()):
            found = date_format_of(value for value in samples.get(column, ()) if value)
            if found is None:
                continue
            name, example = found
            if name == "iso":
                return (
                    f"{column} values carry a time-zone offset (e.g. '{example}'): read them "
                    "with `read.date_format: iso` in the mapping, which converts them to UTC "
                    "(docs/onboarding.md)"
                )
            return (
                f"{column} values look like {name} (e.g. '{example}'): set the date format in "
                f"the mapping (`read.date_format: {name.split(' ')[0]}` or per column under "
                "`columns:`; docs/onboarding.md), or write ISO 8601 dates (YYYY-MM-DD)"
            )
        return None
    if reason in ID_COLUMNS:
        column = ID_COLUMNS[reason]
        return (
            f"{column} is empty: map the file's id column to it "
            f"(`tables.{share.raw_table}.{column}` in the mapping; docs/onboarding.md)"
        )
    if reason == "unknown_event_type":
        types = sorted({value for value in samples.get("event_type", ()) if value})
        listed = ", ".join(f"'{value}'" for value in types[:5])
        return (
            f"event types not in seeds/reference/event_types.csv ({listed}): add them to the "
            "seed or map them to known types"
        )
    if reason == "unknown_contact":
        return (
            "the events name contacts that were never loaded: load the contacts (or the export's "
            "crm_contacts section) first, or check the contact_id / email mapping"
        )
    if reason == "missing_identity":
        return "the events have neither contact_id nor email: map one of them"
    return None


def over_limit_message(share: LoadShare, cause: str | None) -> str:
    """One line per table over its limit: the table, the counts, the reason, the cause."""
    which = "of the table" if share.whole_table else "of its latest load"
    message = (
        f"{share.raw_table}: {share.quarantined_rows:,} of {share.loaded_rows:,} rows {which} "
        f"({share.share:.0%}) were quarantined, most as {share.top_reason} "
        f"({share.top_reason_rows:,}); the limit is {share.limit:.0%} (max_quarantined_share "
        "in seeds/quality/data_quality_thresholds.csv)."
    )
    return f"{message} Likely cause: {cause}." if cause else message


QUARANTINE_MODELS = {
    "crm_companies": "quarantine_crm__companies",
    "crm_contacts": "quarantine_crm__contacts",
    "crm_deals": "quarantine_crm__deals",
    "crm_owners": "quarantine_crm__owners",
    "marketing_events": "quarantine_marketing__events",
}
SAMPLE_ROWS = 200


def load_shares(conn: WarehouseConnection) -> list[LoadShare]:
    rows = conn.fetchall(
        "select raw_table, loaded_rows, quarantined_rows, top_reason, top_reason_rows, "
        "quarantined_share, max_quarantined_share, is_whole_table "
        f"from {relation_name('audit_quarantine_share')} order by raw_table"
    )
    return [
        LoadShare(table, int(loaded), int(quarantined), reason, int(top), float(share),
                  float(limit), bool(whole))
        for table, loaded, quarantined, reason, top, share, limit, whole in rows
    ]  # fmt: skip


def quarantine_samples(conn: WarehouseConnection, share: LoadShare) -> dict[str, list]:
    """Values of the columns a diagnosis reads (timestamps, event types), from the load's
    rows quarantined for its top reason."""
    columns = [*TIMESTAMP_COLUMNS[share.raw_table]]
    if share.raw_table == "marketing_events":
        columns.append("event_type")
    if not columns:
        return {}
    relation = relation_name(QUARANTINE_MODELS[share.raw_table])
    latest = (
        "" if share.whole_table else f" and _loaded_at = (select max(_loaded_at) from {relation})"
    )
    p = conn.placeholder
    rows = conn.fetchall(
        f"select {', '.join(columns)} from {relation} where quarantine_reason = {p}{latest} "
        f"limit {SAMPLE_ROWS}",
        [share.top_reason],
    )
    return {column: [row[i] for row in rows] for i, column in enumerate(columns)}
