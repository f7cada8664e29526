"""Deals: won deals for converters, open and lost ones leaning weakly on propensity, and the
``crm_deals`` rows."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from orchestration.demo.arrays import (
    _between,
    _bools,
    _choice,
    _ids,
    _ints,
    _join,
    _shares,
    _take,
    _timestamps,
)
from orchestration.demo.companies import _Companies
from orchestration.demo.output import _table
from orchestration.demo.people import _People
from orchestration.demo.timeline import SECONDS_PER_DAY

if TYPE_CHECKING:
    from orchestration.demo.contacts import _Contacts

# fmt: off
DEAL_ID_WIDTH = 6
OPEN_DEAL_BASE, OPEN_DEAL_SLOPE = 0.012, 0.35
LOST_DEAL_BASE, LOST_DEAL_SLOPE = 0.025, 0.5
# A converter's won deal opens a lognormal buying journey after the contact is created (median
# WON_JOURNEY_MEDIAN_DAYS), so conversions spread over the whole history as they do in a real
# funnel; a journey longer than the contact has lived is squeezed to WON_DEAL_LATEST of it.
WON_JOURNEY_MEDIAN_DAYS = 45
WON_JOURNEY_LOG_SIGMA = 0.7
WON_DEAL_LATEST = 0.9
LOST_DEAL_START = (0.1, 0.7)
OPEN_DEAL_RECENT_DAYS = 120
SALES_CYCLE_LOG_MU = math.log(30)
SALES_CYCLE_LOG_SIGMA = 0.6
LATE_CLOSE_SPAN = (0.3, 0.95)  # a cycle that would end after as_of closes this far into the gap
OPEN_STAGES = (
    ("appointmentscheduled", 40), ("qualifiedtobuy", 30), ("presentationscheduled", 18),
    ("decisionmakerboughtin", 12),
)
AMOUNT_LOG_BASE = math.log(1500)
AMOUNT_SIZE_POWER = 0.55
AMOUNT_LOG_SIGMA = 0.35
AMOUNT_ROUNDING = 50
# fmt: on


@dataclass(frozen=True)
class _Deals:
    """Planned deals, one row per deal, keyed by clean person index."""

    person: np.ndarray
    stage: np.ndarray
    created: np.ndarray
    closed: np.ndarray  # -1 while open
    amount: np.ndarray


DEAL_STAGES = (*(stage for stage, _ in OPEN_STAGES), "closedwon", "closedlost")
WON_STAGE = DEAL_STAGES.index("closedwon")
LOST_STAGE = DEAL_STAGES.index("closedlost")


def _plan_deals(
    rng: np.random.Generator, people: _People, companies: _Companies, as_of_ts: int
) -> _Deals:
    """Won deals for converters; open and lost deals lean only weakly on propensity."""
    n = people.n_clean
    propensity, converted = people.propensity[:n], people.converted[:n]
    created = people.created[:n]
    lifetime = as_of_ts - created
    is_open = ~converted & (rng.random(n) < OPEN_DEAL_BASE + OPEN_DEAL_SLOPE * propensity)
    is_lost = (
        ~converted & ~is_open & (rng.random(n) < LOST_DEAL_BASE + LOST_DEAL_SLOPE * propensity)
    )
    won, open_, lost = (np.flatnonzero(mask) for mask in (converted, is_open, is_lost))

    journey = rng.lognormal(
        math.log(WON_JOURNEY_MEDIAN_DAYS * SECONDS_PER_DAY), WON_JOURNEY_LOG_SIGMA, len(won)
    )
    won_created = created[won] + np.floor(
        np.minimum(journey, WON_DEAL_LATEST * lifetime[won])
    ).astype(np.int64)
    lost_created = created[lost] + np.floor(
        lifetime[lost] * rng.uniform(*LOST_DEAL_START, len(lost))
    ).astype(np.int64)
    open_created = _between(
        rng,
        np.maximum(created[open_], as_of_ts - OPEN_DEAL_RECENT_DAYS * SECONDS_PER_DAY),
        as_of_ts,
    )
    _, stage_weights = _shares(OPEN_STAGES)
    person = np.concatenate([won, open_, lost])
    employees = companies.employees[people.company[person]]
    amount = np.exp(
        AMOUNT_LOG_BASE
        + AMOUNT_SIZE_POWER * np.log(employees)
        + AMOUNT_LOG_SIGMA * rng.standard_normal(len(person))
    )
    return _Deals(
        person=person,
        stage=np.concatenate(
            [
                np.full(len(won), WON_STAGE),
                _choice(rng, stage_weights, len(open_)),
                np.full(len(lost), LOST_STAGE),
            ]
        ),
        created=np.concatenate([won_created, open_created, lost_created]),
        closed=np.concatenate(
            [
                _close(rng, won_created, as_of_ts),
                np.full(len(open_), -1),
                _close(rng, lost_created, as_of_ts),
            ]
        ),
        amount=np.maximum(1, np.rint(amount / AMOUNT_ROUNDING)).astype(np.int64) * AMOUNT_ROUNDING,
    )


def _close(rng: np.random.Generator, created: np.ndarray, as_of_ts: int) -> np.ndarray:
    """Close after a lognormal sales cycle, squeezed to land before as_of."""
    cycle = np.rint(
        rng.lognormal(SALES_CYCLE_LOG_MU, SALES_CYCLE_LOG_SIGMA, len(created)) * SECONDS_PER_DAY
    ).astype(np.int64)
    closed = created + cycle
    late = closed >= as_of_ts
    squeezed = created + np.floor(
        (as_of_ts - created) * rng.uniform(*LATE_CLOSE_SPAN, len(created))
    )
    return np.where(late, squeezed.astype(np.int64), closed)


def _deals_table(
    deals: _Deals, people: _People, contacts: _Contacts, company_ids: pa.Array
) -> pa.Table:
    order = np.argsort(deals.created, kind="stable")
    person = deals.person[order]
    stage = deals.stage[order]
    closed = stage >= WON_STAGE
    return _table(
        "crm_deals",
        {
            "deal_id": _ids("D", np.arange(1, len(order) + 1), DEAL_ID_WIDTH),
            "contact_id": contacts.person_id.take(pa.array(person)),
            "company_id": company_ids.take(pa.array(people.company[person])),
            "amount": _join(_ints(deals.amount[order]), ".00"),
            "stage": _take(DEAL_STAGES, stage),
            "is_closed": _bools(closed),
            "is_won": _bools(stage == WON_STAGE),
            "created_at": _timestamps(deals.created[order]),
            "closed_at": _timestamps(deals.closed[order]),
        },
    )
