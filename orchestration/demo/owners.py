"""The ``crm_owners`` rows: sales and marketing owners with distinct names."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.arrays import _choice, _ids, _join, _shares, _take
from orchestration.demo.output import _table
from orchestration.demo.people import FIRST_NAMES, LAST_NAMES

# fmt: off
OWNER_ID_WIDTH = 4
CONTACTS_PER_OWNER = 2000
OWNERS_RANGE = (6, 60)
OWNER_TEAMS = (("SDR", 55), ("AE", 35), ("Marketing", 10))
OWNER_REGIONS = (("NA", 45), ("EMEA", 30), ("APAC", 15), ("LATAM", 10))
COMPANY_EMAIL_DOMAIN = "example-saas.com"
# fmt: on


def _make_owners(rng: np.random.Generator, contacts: int) -> pa.Table:
    """Sales and marketing owners with distinct names; every team is staffed."""
    n = int(np.clip(contacts // CONTACTS_PER_OWNER, *OWNERS_RANGE))
    names = rng.choice(len(FIRST_NAMES) * len(LAST_NAMES), size=n, replace=False)
    first = _take(FIRST_NAMES, names // len(LAST_NAMES))
    last = _take(LAST_NAMES, names % len(LAST_NAMES))
    teams, team_weights = _shares(OWNER_TEAMS)
    per_team = np.maximum(1, np.rint(n * team_weights / team_weights.sum())).astype(np.int64)
    per_team[0] = n - per_team[1:].sum()
    regions, region_weights = _shares(OWNER_REGIONS)
    return _table(
        "crm_owners",
        {
            "owner_id": _ids("O", np.arange(1, n + 1), OWNER_ID_WIDTH),
            "name": _join(first, " ", last),
            "email": _join(
                pc.utf8_lower(first), ".", pc.utf8_lower(last), "@", COMPANY_EMAIL_DOMAIN
            ),
            "team": _take(teams, rng.permutation(np.repeat(np.arange(len(teams)), per_team))),
            "region": _take(regions, _choice(rng, region_weights, n)),
        },
    )
