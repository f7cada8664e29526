"""Deterministic synthetic CRM + marketing landing files for the lead-scoring demo.

The demo needs data that behaves like a real B2B funnel, so that scores computed downstream are
meaningful and can be checked: every contact carries a hidden conversion propensity (written to
an optional ground-truth file, never to the landing folder), won deals are drawn from it, and
event volume, event mix and recency tilt with it. Dirty rows are injected on purpose, one kind
per row and counted exactly, so the quarantine logic downstream has something to catch.

Scale drives the design: contact-level arrays (up to a few million rows) live in memory, while
events are streamed into one file per ``chunk_size`` rows, generated in batches of at most
``EVENT_BATCH_ROWS`` rows with vectorised numpy and pyarrow compute only, each batch from its
own child seed. Memory therefore stays flat whatever the event count, and identical arguments
always give byte-identical files.

This module checks the arguments and runs the steps in order; each table's draws live in
its own module beside it (``companies``, ``people``, ``contacts``, ``deals``, ``owners``,
``events``), on the helpers in ``arrays`` and the file layout in ``output``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from orchestration.demo.arrays import (
    STREAM_COMPANIES,
    STREAM_COMPANY_ROWS,
    STREAM_CONTACT_ROWS,
    STREAM_DEALS,
    STREAM_OWNERS,
    STREAM_PEOPLE,
    _dirt_count,
    _rng,
)
from orchestration.demo.companies import (
    CONTACTS_PER_COMPANY,
    MIN_COMPANIES,
    _company_rows,
    _make_companies,
)
from orchestration.demo.contacts import MAX_CONTACTS, NULL_CONTACT_ID_SHARE, _make_contacts
from orchestration.demo.deals import _deals_table, _plan_deals
from orchestration.demo.events import MAX_EVENTS, _event_plan, _write_events
from orchestration.demo.output import FORMATS, TRUTH_FILE, _clear_outputs, _write, _write_truth
from orchestration.demo.owners import _make_owners
from orchestration.demo.people import _make_people
from orchestration.demo.timeline import EPOCH, MIN_AS_OF, SECONDS_PER_DAY

__all__ = ["DIRTY_KINDS", "TRUTH_FILE", "GenerationResult", "generate_demo_data"]

DIRTY_KINDS = (
    "duplicate_contact_email",
    "invalid_email",
    "freemail_email",
    "null_contact_id",
    "null_company_id",
    "negative_employee_count",
    "unknown_contact_event",
    "unknown_event_type",
    "future_event",
    "null_event_identity",
    "null_event_id",
    "unparseable_timestamp",
)


@dataclass(frozen=True)
class GenerationResult:
    """What was written, so callers can log it and tests can check it without re-reading."""

    out_dir: Path
    rows: dict[str, int]  # rows written per table name (incl. dirty rows)
    files: list[Path]  # every file written (the truth file last, when one was asked for)
    dirty: dict[str, int]  # rows injected per dirty-data kind, see DIRTY_KINDS


def generate_demo_data(
    out_dir: Path,
    *,
    contacts: int = 20_000,
    events: int = 1_000_000,
    companies: int | None = None,
    seed: int = 42,
    as_of: datetime.date,
    fmt: str = "csv",
    chunk_size: int = 1_000_000,
    progress: bool = True,
    truth_dir: Path | None = None,
) -> GenerationResult:
    """Write the five landing tables under ``out_dir`` and the ground truth to ``truth_dir``.

    ``contacts`` counts clean contacts (duplicate and id-less rows come on top); ``events``
    is the exact number of event rows, dirty ones included. Clean timestamps fall before
    midnight at the start of ``as_of``. Existing ``part-*`` files of the five tables are
    removed first so that a smaller rerun leaves no stale chunk behind.
    """
    out_dir = Path(out_dir)
    as_of = _validate(out_dir, contacts, events, companies, seed, as_of, fmt, chunk_size, truth_dir)
    n_companies = (
        companies if companies is not None else max(MIN_COMPANIES, contacts // CONTACTS_PER_COMPANY)
    )
    as_of_ts = (as_of - EPOCH).days * SECONDS_PER_DAY
    _clear_outputs(out_dir)

    company_draws = _make_companies(_rng(seed, STREAM_COMPANIES), n_companies, as_of_ts)
    n_null = _dirt_count(contacts, NULL_CONTACT_ID_SHARE)
    people = _make_people(_rng(seed, STREAM_PEOPLE), contacts, n_null, company_draws, as_of_ts)
    company_ids, companies_table, company_dirty = _company_rows(
        _rng(seed, STREAM_COMPANY_ROWS), company_draws, people, as_of_ts
    )
    deals = _plan_deals(_rng(seed, STREAM_DEALS), people, company_draws, as_of_ts)
    contact_data = _make_contacts(
        _rng(seed, STREAM_CONTACT_ROWS), people, deals, company_ids, as_of_ts
    )
    deals_table = _deals_table(deals, people, contact_data, company_ids)
    owners_table = _make_owners(_rng(seed, STREAM_OWNERS), contacts)

    files = [
        _write(companies_table, out_dir, "crm_companies", fmt),
        _write(contact_data.table, out_dir, "crm_contacts", fmt),
        _write(deals_table, out_dir, "crm_deals", fmt),
        _write(owners_table, out_dir, "crm_owners", fmt),
    ]
    plan = _event_plan(people, contact_data, as_of_ts)
    event_files, event_dirty = _write_events(
        plan, out_dir, fmt, seed, events, chunk_size, as_of_ts, progress
    )
    files += event_files
    if truth_dir is not None:
        files.append(_write_truth(people, contact_data, Path(truth_dir)))

    dirty = {**company_dirty, **contact_data.dirty, **event_dirty}
    rows = {
        "crm_companies": companies_table.num_rows,
        "crm_contacts": contact_data.table.num_rows,
        "marketing_events": events,
        "crm_deals": deals_table.num_rows,
        "crm_owners": owners_table.num_rows,
    }
    return GenerationResult(
        out_dir=out_dir, rows=rows, files=files, dirty={kind: dirty[kind] for kind in DIRTY_KINDS}
    )


def _validate(
    out_dir: Path,
    contacts: int,
    events: int,
    companies: int | None,
    seed: int,
    as_of: datetime.date,
    fmt: str,
    chunk_size: int,
    truth_dir: Path | None,
) -> datetime.date:
    """Reject bad arguments before anything is written; returns ``as_of`` as a plain date."""
    if fmt not in FORMATS:
        raise ValueError(f"fmt must be one of {FORMATS}, got {fmt!r}")
    _check_int("contacts", contacts, 1, MAX_CONTACTS)
    _check_int("events", events, 0, MAX_EVENTS)
    _check_int("chunk_size", chunk_size, 1, None)
    _check_int("seed", seed, 0, None)
    if companies is not None:
        _check_int("companies", companies, 1, None)
    if isinstance(as_of, datetime.datetime):
        as_of = as_of.date()
    elif not isinstance(as_of, datetime.date):
        raise ValueError(f"as_of must be a datetime.date, got {as_of!r}")
    if as_of < MIN_AS_OF:
        raise ValueError(f"as_of must be on or after {MIN_AS_OF}, got {as_of}")
    if truth_dir is not None:
        truth, out = Path(truth_dir).resolve(), out_dir.resolve()
        if truth == out or out in truth.parents:
            raise ValueError(
                f"truth_dir {truth_dir} must lie outside out_dir {out_dir}: "
                "the loader would ingest the hidden ground truth"
            )
    return as_of


def _check_int(name: str, value: object, low: int, high: int | None) -> None:
    """Raise a ValueError naming the argument when it is not an int within [low, high]."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise ValueError(f"{name} must be an integer, got {value!r}")
    if value < low or (high is not None and value > high):
        bound = f">= {low}" if high is None else f"between {low} and {high}"
        raise ValueError(f"{name} must be {bound}, got {value}")
