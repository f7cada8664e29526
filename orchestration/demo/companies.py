"""Companies: size, revenue, industry and country draws, unique names and web domains, and the
``crm_companies`` rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.arrays import (
    _between,
    _choice,
    _dirt_count,
    _ids,
    _ints,
    _join,
    _mask,
    _null_where,
    _pick,
    _shares,
    _take,
    _timestamps,
    _where,
)
from orchestration.demo.output import _table
from orchestration.demo.timeline import COMPANY_HISTORY_DAYS, CONTACT_HISTORY_DAYS, SECONDS_PER_DAY

if TYPE_CHECKING:
    from orchestration.demo.people import _People

# fmt: off
COMPANY_ID_WIDTH = 6
CONTACTS_PER_COMPANY = 8
MIN_COMPANIES = 50
# Lognormal fitted so that ~70% are SMB (<200), ~22% Mid-Market (200-999), ~8% Enterprise.
EMPLOYEES_LOG_MU = 4.34
EMPLOYEES_LOG_SIGMA = 1.83
MAX_EMPLOYEES = 300_000
REVENUE_PER_EMPLOYEE_LOG_MU = math.log(180_000)
REVENUE_PER_EMPLOYEE_LOG_SIGMA = 0.45
INDUSTRIES = (
    ("Technology", 24), ("Healthcare", 11), ("Financial Services", 12), ("Manufacturing", 11),
    ("Retail", 9), ("Education", 7), ("Professional Services", 11), ("Media", 6),
    ("Government", 4), ("Non-profit", 5),
)
TARGET_INDUSTRIES = ("Technology", "Financial Services", "Professional Services")
COUNTRIES = (
    ("US", 44), ("GB", 11), ("DE", 8), ("FR", 6), ("CA", 7), ("AU", 5), ("NL", 4), ("IN", 6),
    ("BR", 4), ("ES", 3), ("SE", 2),
)
LOCAL_TLDS = {
    "GB": ".co.uk", "DE": ".de", "FR": ".fr", "CA": ".ca", "AU": ".com.au", "NL": ".nl",
    "IN": ".in", "BR": ".com.br", "ES": ".es", "SE": ".se",
}
LOCAL_TLD_SHARE = 0.35
GENERIC_TLDS = ((".com", 82), (".io", 7), (".co", 4), (".ai", 3), (".net", 4))
COMPANY_BRANDS = (
    "Acme", "Northwind", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Cobalt", "Bluefin",
    "Brightwave", "Summit", "Pinnacle", "Redwood", "Silverline", "Ironclad", "Evergreen", "Apex",
    "Vertex", "Horizon", "Keystone", "Lighthouse", "Meridian", "Nimbus", "Orchid", "Polaris",
    "Quantum", "Riverstone", "Sapphire", "Tidewater", "Upland", "Vanguard", "Willow", "Zenith",
    "Aurora", "Beacon", "Cascade", "Driftwood", "Ember", "Falcon", "Granite", "Harbor", "Indigo",
    "Juniper", "Kestrel", "Lumen", "Maple", "Nova", "Oakridge", "Pioneer", "Quarry", "Rainier",
    "Sequoia", "Trident", "Unity", "Vista", "Westbrook", "Yellowstone", "Atlas", "Bramble",
    "Cedar", "Delta", "Everest", "Fjord", "Glacier", "Helix", "Ivory", "Jetstream", "Kinetic",
    "Lattice", "Monarch", "Northstar", "Onyx", "Prism", "Radiant", "Solstice", "Tandem",
    "Ultra", "Velocity", "Wavelength", "Xenon", "Yarrow", "Zephyr", "Amber", "Birch", "Copper",
    "Dune", "Echo", "Flint", "Garnet", "Hawthorn", "Iris", "Jade", "Kite", "Lunar", "Mosaic",
    "Nectar", "Opal", "Pebble", "Quill", "Roost", "Slate", "Thistle", "Umber", "Verdant",
)
COMPANY_DESCRIPTORS = (
    "Analytics", "Systems", "Labs", "Software", "Health", "Logistics", "Partners", "Foods",
    "Capital", "Media", "Robotics", "Energy", "Networks", "Solutions", "Dynamics", "Consulting",
    "Technologies", "Financial", "Manufacturing", "Retail", "Learning", "Cloud", "Data",
    "Security", "Biotech", "Pharma", "Insurance", "Studios", "Works", "Industries", "Digital",
    "Ventures", "Advisors", "Supply", "Outfitters", "Brands", "Clinics", "Academy", "Mobility",
    "Logic", "Interactive", "Engineering", "Materials", "Payments", "Travel", "Foundry",
    "Marine", "Aerospace", "Agritech", "Commerce",
)
COMPANY_FORMS = ("", " Inc", " Group", " Holdings", " International", " Co", " Global", " LLC")
NULL_COMPANY_ID_SHARE = 0.005
NEGATIVE_EMPLOYEE_SHARE = 0.01
# fmt: on


@dataclass(frozen=True)
class _Companies:
    """Company draws (index = company); rows with ``has_id`` are the ones contacts join."""

    has_id: np.ndarray
    employees: np.ndarray  # true size; ``negative`` rows are only written negated
    revenue: np.ndarray
    industry: np.ndarray
    country: np.ndarray
    name: pa.Array
    domain: pa.Array
    negative: np.ndarray
    created: np.ndarray  # a first draw, moved earlier if a contact predates it


TARGET_INDUSTRY_INDEX = [[name for name, _ in INDUSTRIES].index(t) for t in TARGET_INDUSTRIES]


def _make_companies(rng: np.random.Generator, n: int, as_of_ts: int) -> _Companies:
    """Draw the companies (plus the id-less extra rows) that contacts will belong to."""
    n_null = _dirt_count(n, NULL_COMPANY_ID_SHARE)
    total = n + n_null
    employees = np.clip(
        np.rint(rng.lognormal(EMPLOYEES_LOG_MU, EMPLOYEES_LOG_SIGMA, total)), 1, MAX_EMPLOYEES
    ).astype(np.int64)
    revenue = np.rint(
        employees
        * rng.lognormal(REVENUE_PER_EMPLOYEE_LOG_MU, REVENUE_PER_EMPLOYEE_LOG_SIGMA, total)
        / 1000
    )
    _, industry_weights = _shares(INDUSTRIES)
    _, country_weights = _shares(COUNTRIES)
    country = _choice(rng, country_weights, total)
    name, domain = _company_names(rng, total, country)
    has_id = ~_mask(total, _pick(rng, np.arange(total), n_null))
    return _Companies(
        has_id=has_id,
        employees=employees,
        revenue=revenue.astype(np.int64) * 1000,
        industry=_choice(rng, industry_weights, total),
        country=country,
        name=name,
        domain=domain,
        negative=_pick(rng, np.flatnonzero(has_id), _dirt_count(n, NEGATIVE_EMPLOYEE_SHARE)),
        created=as_of_ts - _between(rng, np.ones(total), COMPANY_HISTORY_DAYS * SECONDS_PER_DAY),
    )


def _company_rows(
    rng: np.random.Generator, companies: _Companies, people: _People, as_of_ts: int
) -> tuple[pa.Array, pa.Table, dict[str, int]]:
    """Ids (in draw order) and the table, ordered by creation.

    A company record is created no later than its first contact, as a CRM would, so creation
    dates are settled only once the people exist.
    """
    first_contact = np.full(len(companies.created), as_of_ts, dtype=np.int64)
    np.minimum.at(first_contact, people.company, people.created)
    lead_time = rng.integers(0, CONTACT_HISTORY_DAYS * SECONDS_PER_DAY, len(first_contact))
    created = np.minimum(companies.created, first_contact - lead_time)
    updated = _between(rng, created, as_of_ts)
    order = np.argsort(created, kind="stable")
    has_id = companies.has_id[order]
    number = np.zeros(len(order), dtype=np.int64)
    number[order] = np.cumsum(has_id)
    ids = _null_where(_ids("CO", number, COMPANY_ID_WIDTH), ~companies.has_id)
    signed = companies.employees.copy()
    signed[companies.negative] *= -1
    industries, _ = _shares(INDUSTRIES)
    countries, _ = _shares(COUNTRIES)
    at = pa.array(order)
    table = _table(
        "crm_companies",
        {
            "company_id": ids.take(at),
            "name": companies.name.take(at),
            "domain": companies.domain.take(at),
            "industry": _take(industries, companies.industry[order]),
            "employee_count": _ints(signed[order]),
            "annual_revenue": _ints(companies.revenue[order]),
            "country": _take(countries, companies.country[order]),
            "created_at": _timestamps(created[order]),
            "updated_at": _timestamps(updated[order]),
        },
    )
    dirty = {
        "null_company_id": int((~has_id).sum()),
        "negative_employee_count": len(companies.negative),
    }
    return ids, table, dirty


def _company_names(
    rng: np.random.Generator, n: int, country: np.ndarray
) -> tuple[pa.Array, pa.Array]:
    """Unique names from word combinations (numbered once exhausted) and domains from them."""
    n_forms, n_desc = len(COMPANY_FORMS), len(COMPANY_DESCRIPTORS)
    space = len(COMPANY_BRANDS) * n_desc * n_forms
    codes = np.concatenate([rng.permutation(space) for _ in range(-(-n // space))])[:n]
    generation = np.arange(n) // space
    name = _join(
        _take(COMPANY_BRANDS, codes // (n_desc * n_forms)),
        " ",
        _take(COMPANY_DESCRIPTORS, codes // n_forms % n_desc),
        _take(COMPANY_FORMS, codes % n_forms),
    )
    if generation.any():
        name = _join(name, _where(generation > 0, _join(" ", _ints(generation + 1)), ""))
    slug = pc.utf8_lower(pc.replace_substring(name, " ", "-"))

    countries, _ = _shares(COUNTRIES)
    generic, generic_weights = _shares(GENERIC_TLDS)
    local_tlds = tuple(LOCAL_TLDS.get(code, ".com") for code in countries)
    use_local = (rng.random(n) < LOCAL_TLD_SHARE) & np.isin(
        country, [countries.index(code) for code in LOCAL_TLDS]
    )
    tld = np.where(use_local, len(generic) + country, _choice(rng, generic_weights, n))
    return name, _join(slug, _take(generic + local_tlds, tld))
