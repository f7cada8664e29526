"""The ``crm_contacts`` rows: clean people, duplicate sign-ups and id-less rows, with ids,
lifecycle stages and the malformed addresses the quarantine has to catch.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.arrays import (
    _between,
    _bools,
    _choice,
    _dirt_count,
    _ids,
    _join,
    _mask,
    _null_where,
    _pick,
    _replace,
    _shares,
    _take,
    _timestamps,
)
from orchestration.demo.companies import COUNTRIES
from orchestration.demo.deals import _Deals
from orchestration.demo.output import _table
from orchestration.demo.people import FIRST_NAMES, JOB_TITLES, LAST_NAMES, LEAD_SOURCES, _People

# fmt: off
# The unknown-contact ids ``C9xxxxxx`` stay unused while real ids stay below 9M.
CONTACT_ID_WIDTH = 7
MAX_CONTACTS = 8_000_000
LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
    "customer",
)
# Cumulative rank cut-offs for subscriber / lead / MQL; the rest are SQL.
LIFECYCLE_RANK_CUTS = (0.46, 0.84, 0.95)
DUPLICATE_LEAD_SHARE = 0.3  # a re-sign-up starts as subscriber, sometimes as lead
DUPLICATE_CONTACT_SHARE = 0.02
INVALID_EMAIL_SHARE = 0.01
NULL_CONTACT_ID_SHARE = 0.005
# fmt: on


@dataclass(frozen=True)
class _Contacts:
    """The contacts table plus the ids events and deals need to reference it."""

    table: pa.Table
    person_id: pa.Array  # contact_id per clean person
    dup_source: np.ndarray  # clean person index behind each duplicate row
    dup_id: pa.Array
    dup_created: np.ndarray
    email_ok: np.ndarray  # per clean person: email is well formed, so events may carry it
    dirty: dict[str, int]


def _make_contacts(
    rng: np.random.Generator, people: _People, deals: _Deals, company_ids: pa.Array, as_of_ts: int
) -> _Contacts:
    """Contact rows ordered by creation: clean people, duplicates and id-less rows, with ids."""
    n, total = people.n_clean, len(people.first)
    clean_corporate = np.flatnonzero(~people.freemail[:n])
    invalid = _pick(rng, clean_corporate, _dirt_count(n, INVALID_EMAIL_SHARE))
    dup_source = _pick(
        rng,
        np.flatnonzero(~people.freemail[:n] & ~_mask(n, invalid)),
        _dirt_count(n, DUPLICATE_CONTACT_SHARE),
    )
    n_dup = len(dup_source)
    dup_created = _between(rng, np.minimum(people.created[dup_source] + 1, as_of_ts - 1), as_of_ts)
    source = np.concatenate([np.arange(n), dup_source, np.arange(n, total)])
    has_id = np.arange(len(source)) < n + n_dup

    email = pa.concat_arrays(
        [
            _replace(
                people.email.slice(0, n), _mask(n, invalid), _invalid_emails(rng, people, invalid)
            ),
            _case_variants(rng, people.email.take(pa.array(dup_source))),
            people.email.slice(n),
        ]
    )
    created = np.concatenate([people.created[:n], dup_created, people.created[n:]])
    last_touch = np.full(total, -1, dtype=np.int64)
    np.maximum.at(last_touch, deals.person, np.maximum(deals.created, deals.closed))
    updated = np.maximum(
        _between(rng, created, as_of_ts),
        np.concatenate([last_touch[:n], np.full(len(source) - n, -1)]),
    )
    lifecycle = _lifecycle(rng, people, deals, n_dup)
    unsubscribed = np.concatenate(
        [people.unsubscribed[:n], np.zeros(n_dup, dtype=bool), people.unsubscribed[n:]]
    )
    lead_source = np.concatenate(
        [
            people.lead_source[:n],
            _choice(rng, [s for _, s, _ in LEAD_SOURCES], n_dup),
            people.lead_source[n:],
        ]
    )

    order = np.argsort(created, kind="stable")
    number = np.zeros(len(source), dtype=np.int64)
    number[order] = np.cumsum(has_id[order])
    ids = _ids("C", number, CONTACT_ID_WIDTH)
    countries, _ = _shares(COUNTRIES)
    at = pa.array(order)
    ordered = source[order]
    table = _table(
        "crm_contacts",
        {
            "contact_id": _null_where(ids.take(at), ~has_id[order]),
            "email": email.take(at),
            "first_name": _take(FIRST_NAMES, people.first[ordered]),
            "last_name": _take(LAST_NAMES, people.last[ordered]),
            "job_title": _take([title for title, *_ in JOB_TITLES], people.title[ordered]),
            "company_id": company_ids.take(pa.array(people.company[ordered])),
            "country": _take(countries, people.country[ordered]),
            "lead_source": _take([s for s, *_ in LEAD_SOURCES], lead_source[order]),
            "lifecycle_stage": _take(LIFECYCLE_STAGES, lifecycle[order]),
            "unsubscribed": _bools(unsubscribed[order]),
            "created_at": _timestamps(created[order]),
            "updated_at": _timestamps(updated[order]),
        },
    )
    return _Contacts(
        table=table,
        person_id=ids.slice(0, n),
        dup_source=dup_source,
        dup_id=ids.slice(n, n_dup),
        dup_created=dup_created,
        email_ok=~_mask(n, invalid),
        dirty={
            "duplicate_contact_email": n_dup,
            "invalid_email": len(invalid),
            "freemail_email": int(people.freemail.sum()),
            "null_contact_id": total - n,
        },
    )


def _invalid_emails(rng: np.random.Generator, people: _People, rows: np.ndarray) -> pa.Array:
    """Malformed addresses: no domain, a space, no ``@``, or a doubled ``@``."""
    local = people.local.take(pa.array(rows))
    domain = people.domain.take(pa.array(rows))
    forms = (
        _join(local, "@"),
        _join(pc.replace_substring(local, ".", " ", max_replacements=1), "@", domain),
        _join(local, domain),
        _join(local, "@@", domain),
    )
    return pc.choose(pa.array(rng.integers(0, len(forms), len(rows)), pa.int8()), *forms)


def _case_variants(rng: np.random.Generator, email: pa.Array) -> pa.Array:
    """The same address as typed again: other case and/or stray surrounding whitespace."""
    forms = (
        pc.utf8_title(email),
        pc.utf8_upper(email),
        _join("  ", email, " "),
        _join(" ", pc.utf8_title(email), "  "),
    )
    return pc.choose(pa.array(rng.integers(0, len(forms), len(email)), pa.int8()), *forms)


def _lifecycle(rng: np.random.Generator, people: _People, deals: _Deals, n_dup: int) -> np.ndarray:
    """Stage per row (clean, duplicates, id-less): customers won, opportunities have open deals,
    the rest ranked by propensity plus noise so most stay subscriber or lead."""
    n, total = people.n_clean, len(people.first)
    score = people.logit + rng.logistic(0.0, 1.0, total)
    rank = np.empty(total)
    rank[np.argsort(score, kind="stable")] = (np.arange(total) + 0.5) / total
    stage = np.searchsorted(LIFECYCLE_RANK_CUTS, rank, side="right")
    open_people = deals.person[deals.closed < 0]
    stage[open_people] = LIFECYCLE_STAGES.index("opportunity")
    stage[np.flatnonzero(people.converted[:n])] = LIFECYCLE_STAGES.index("customer")
    dup_stage = (rng.random(n_dup) < DUPLICATE_LEAD_SHARE).astype(np.int64)
    return np.concatenate([stage[:n], dup_stage, stage[n:]])
