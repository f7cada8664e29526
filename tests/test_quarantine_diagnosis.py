"""The diagnosis of a mostly quarantined load: each kind of bad input gets the cause an
analyst can act on (orchestration/quality/quarantine.py)."""

from __future__ import annotations

import pytest

from orchestration.quality.quarantine import (
    LoadShare,
    date_format_of,
    likely_cause,
    over_limit_message,
)

AMBIGUOUS = "every day is 12 or less: check which"


def share(table: str, reason: str, rows: int = 40) -> LoadShare:
    return LoadShare(table, rows, rows, reason, rows, 1.0, 0.5, False)


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["3/14/2024", "12/1/2024"], ("M/D/YYYY", "3/14/2024")),
        (["14/3/2024", "1/12/2024"], ("D/M/YYYY", "14/3/2024")),
        (["3/4/2024 10:30"], (f"M/D/YYYY or D/M/YYYY ({AMBIGUOUS})", "3/4/2024 10:30")),
        (["14.03.2024", "1.2.2024"], ("D.M.YYYY", "14.03.2024")),
        (["2024/03/14"], ("YYYY/MM/DD", "2024/03/14")),
        (["1710403200", "1710489600"], ("epoch_seconds", "1710403200")),
        (["1710403200000"], ("epoch_milliseconds", "1710403200000")),
        (["2026-11-20T10:00:00+05:30"], ("iso", "2026-11-20T10:00:00+05:30")),
        (["2024-03-14", "2024-03-14 10:00:00Z"], None),
        (["yesterday", "3/14/2024"], None),
    ],
)  # fmt: skip
def test_date_shapes_are_named_as_the_mapping_names_them(values, expected):
    assert date_format_of(values) == expected


def test_a_date_format_cause_names_the_column_and_the_setting():
    cause = likely_cause(
        share("crm_deals", "invalid_timestamp"),
        {"created_at": ["2024-01-02"] * 3, "closed_at": ["31.01.2024", "1.2.2024"]},
    )
    assert cause == (
        "closed_at values look like D.M.YYYY (e.g. '31.01.2024'): set the date format in the "
        "mapping (`read.date_format: D.M.YYYY` or per column under `columns:`; "
        "docs/onboarding.md), or write ISO 8601 dates (YYYY-MM-DD)"
    )
    offset = likely_cause(
        share("marketing_events", "invalid_timestamp"),
        {"occurred_at": ["2026-11-20T10:00:00+05:30"]},
    )
    assert offset is not None and "read.date_format: iso" in offset


def test_other_reasons_get_their_own_cause():
    assert likely_cause(share("crm_contacts", "missing_contact_id"), {}) == (
        "contact_id is empty: map the file's id column to it "
        "(`tables.crm_contacts.contact_id` in the mapping; docs/onboarding.md)"
    )
    types = likely_cause(
        share("marketing_events", "unknown_event_type"),
        {"event_type": ["sms_sent", "site_session", "sms_sent", None]},
    )
    assert types is not None and "('site_session', 'sms_sent')" in types
    assert likely_cause(share("crm_owners", "something_new"), {}) is None


def test_the_message_names_table_counts_reason_limit_and_cause():
    load = LoadShare("crm_contacts", 8000, 7990, "invalid_timestamp", 7985, 0.99875, 0.5, False)
    assert load.over_limit
    assert over_limit_message(load, "it is Tuesday") == (
        "crm_contacts: 7,990 of 8,000 rows of its latest load (100%) were quarantined, most as "
        "invalid_timestamp (7,985); the limit is 50% (max_quarantined_share in "
        "seeds/quality/data_quality_thresholds.csv). Likely cause: it is Tuesday."
    )
    assert not LoadShare("crm_owners", 0, 0, None, 0, 0.0, 0.5, False).over_limit
