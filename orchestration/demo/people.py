"""People and their hidden conversion propensity: names, titles, countries, lead sources and
e-mail addresses, and the propensity that won deals and event volume are drawn from.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.demo.arrays import (
    _between,
    _choice,
    _first_occurrence,
    _ints,
    _join,
    _shares,
    _sigmoid,
    _take,
    _where,
)
from orchestration.demo.companies import COUNTRIES, TARGET_INDUSTRY_INDEX, _Companies
from orchestration.demo.timeline import CONTACT_HISTORY_DAYS, SECONDS_PER_DAY

# fmt: off
FIRST_NAMES = (
    "James", "Mary", "John", "Patricia", "Robert", "Jennifer", "Michael", "Linda", "William",
    "Elizabeth", "David", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Daniel", "Nancy", "Matthew", "Lisa", "Anthony", "Betty", "Mark",
    "Margaret", "Paul", "Sandra", "Steven", "Ashley", "Andrew", "Emily", "Joshua", "Donna",
    "Kevin", "Michelle", "Brian", "Carol", "George", "Amanda", "Edward", "Melissa", "Ronald",
    "Deborah", "Timothy", "Stephanie", "Jason", "Rebecca", "Jeffrey", "Laura", "Ryan", "Sharon",
    "Jacob", "Cynthia", "Gary", "Kathleen", "Nicholas", "Amy", "Eric", "Shirley", "Jonathan",
    "Angela", "Stephen", "Helen", "Larry", "Anna", "Justin", "Brenda", "Scott", "Pamela",
    "Brandon", "Nicole", "Benjamin", "Emma", "Samuel", "Samantha", "Gregory", "Katherine",
    "Alexander", "Christine", "Patrick", "Debra", "Frank", "Rachel", "Raymond", "Catherine",
    "Jack", "Carolyn", "Dennis", "Janet", "Jerry", "Ruth", "Tyler", "Maria", "Aaron", "Heather",
    "Priya", "Arjun", "Lukas", "Sophie", "Mateo", "Camila", "Hiroshi", "Yuki", "Lars", "Ingrid",
    "Pierre", "Chloe", "Rahul", "Ananya", "Felipe", "Lucia", "Oliver", "Amelia", "Noah", "Mia",
)
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor",
    "Moore", "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez",
    "Clark", "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright",
    "Scott", "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall",
    "Rivera", "Campbell", "Mitchell", "Carter", "Roberts", "Gomez", "Phillips", "Evans",
    "Turner", "Diaz", "Parker", "Cruz", "Edwards", "Collins", "Reyes", "Stewart", "Morris",
    "Morales", "Murphy", "Cook", "Rogers", "Gutierrez", "Ortiz", "Morgan", "Cooper", "Peterson",
    "Bailey", "Reed", "Kelly", "Howard", "Ramos", "Kim", "Cox", "Ward", "Richardson", "Watson",
    "Brooks", "Chavez", "Wood", "James", "Bennett", "Gray", "Mendoza", "Ruiz", "Hughes", "Price",
    "Alvarez", "Castillo", "Sanders", "Patel", "Myers", "Long", "Ross", "Foster", "Jimenez",
    "Muller", "Schmidt", "Schneider", "Fischer", "Weber", "Dubois", "Laurent", "Bernard",
    "Sharma", "Gupta", "Singh", "Kumar", "Silva", "Santos", "Oliveira", "Jansen", "Devries",
    "Andersson", "Johansson", "Tanaka", "Suzuki", "Chen", "Wang", "Li", "Zhang", "Okafor",
)
SENIORITY_LIFT = {
    "c_level": 1.0, "vp": 0.9, "director": 0.6, "manager": 0.3, "ic": 0.0, "other": -1.2,
}
# (title, seniority, relative frequency); departments: marketing, sales, HR, IT/engineering,
# finance, operations, executive.
JOB_TITLES = (
    ("Chief Executive Officer", "c_level", 1.2), ("CTO", "c_level", 0.8),
    ("CFO", "c_level", 0.6), ("Chief Marketing Officer", "c_level", 0.6),
    ("COO", "c_level", 0.5), ("Founder", "c_level", 0.8),
    ("VP of Marketing", "vp", 1.4), ("VP of Sales", "vp", 1.3), ("VP of Engineering", "vp", 1.0),
    ("VP of Operations", "vp", 0.6), ("VP of Finance", "vp", 0.5),
    ("Director of Marketing", "director", 2.0), ("Director of Engineering", "director", 1.6),
    ("HR Director", "director", 1.2), ("Sales Director", "director", 1.8),
    ("IT Director", "director", 1.4), ("Finance Director", "director", 1.0),
    ("Director of Operations", "director", 1.0),
    ("Marketing Manager", "manager", 4.0), ("IT Manager", "manager", 3.0),
    ("Sales Manager", "manager", 3.2), ("HR Manager", "manager", 2.2),
    ("Engineering Manager", "manager", 2.4), ("Operations Manager", "manager", 2.6),
    ("Finance Manager", "manager", 1.8), ("Product Manager", "manager", 2.8),
    ("Software Engineer", "ic", 8.0), ("Marketing Specialist", "ic", 6.0),
    ("Sales Representative", "ic", 6.5), ("HR Generalist", "ic", 3.5),
    ("Data Analyst", "ic", 4.5), ("Accountant", "ic", 3.5), ("Operations Analyst", "ic", 3.0),
    ("Marketing Coordinator", "ic", 3.5), ("Account Executive", "ic", 3.5),
    ("Systems Administrator", "ic", 2.5), ("Business Analyst", "ic", 3.5),
    ("Student", "other", 4.0), ("Intern", "other", 3.0), ("Consultant", "other", 3.0),
)
FREEMAIL_DOMAINS = (
    ("gmail.com", 55), ("yahoo.com", 14), ("hotmail.com", 11), ("outlook.com", 12),
    ("aol.com", 3), ("icloud.com", 5),
)
FREEMAIL_SHARE = 0.08
FREEMAIL_NUMBER_SHARE = 0.4
# (source, share, propensity lift)
LEAD_SOURCES = (
    ("organic_search", 30, 0.0), ("paid_search", 15, -0.1), ("paid_social", 11, -0.3),
    ("webinar", 8, 0.3), ("referral", 6, 0.6), ("direct", 12, 0.1), ("email", 9, 0.0),
    ("event", 5, 0.3), ("partner", 4, 0.4),
)
UNSUBSCRIBED_SHARE = 0.04
SAME_COUNTRY_SHARE = 0.9
CONTACTS_PER_COMPANY_SIZE_POWER = 0.5
PROPENSITY_INTERCEPT = -4.4
LATENT_SD = 1.3
ICP_EMPLOYEES = (100, 1000)
ICP_LIFT = 0.6
TARGET_INDUSTRY_LIFT = 0.4
FREEMAIL_LIFT = -0.8
REFERENCE_LOGIT = -3.5  # propensity logit of a typical contact, where ACTIONS shares hold
ACTIVITY_LOG_SIGMA = 0.8
ACTIVITY_LOGIT_SLOPE = 0.6
# fmt: on


@dataclass(frozen=True)
class _People:
    """Person-level arrays: the clean contacts first, then the people whose row lacks an id."""

    n_clean: int
    first: np.ndarray
    last: np.ndarray
    title: np.ndarray
    company: np.ndarray
    country: np.ndarray
    lead_source: np.ndarray
    created: np.ndarray
    freemail: np.ndarray
    local: pa.Array
    domain: pa.Array
    email: pa.Array
    logit: np.ndarray
    propensity: np.ndarray
    converted: np.ndarray
    unsubscribed: np.ndarray
    activity: np.ndarray


LEAD_SOURCE_LIFT = np.array([lift for *_, lift in LEAD_SOURCES])
TITLE_SENIORITY = np.array([SENIORITY_LIFT[seniority] for _, seniority, _ in JOB_TITLES])


def _make_people(
    rng: np.random.Generator, n_clean: int, n_null: int, companies: _Companies, as_of_ts: int
) -> _People:
    """Draw every person (clean contacts, then id-less ones) with a hidden propensity."""
    total = n_clean + n_null
    eligible = np.flatnonzero(companies.has_id)
    company = eligible[
        _choice(rng, companies.employees[eligible] ** CONTACTS_PER_COMPANY_SIZE_POWER, total)
    ]
    first = rng.integers(0, len(FIRST_NAMES), total)
    last = rng.integers(0, len(LAST_NAMES), total)
    title = _choice(rng, [weight for *_, weight in JOB_TITLES], total)
    _, country_weights = _shares(COUNTRIES)
    country = np.where(
        rng.random(total) < SAME_COUNTRY_SHARE,
        companies.country[company],
        _choice(rng, country_weights, total),
    )
    lead_source = _choice(rng, [share for _, share, _ in LEAD_SOURCES], total)
    created = _between(
        rng, np.full(total, as_of_ts - CONTACT_HISTORY_DAYS * SECONDS_PER_DAY), as_of_ts
    )
    # Id-less rows must carry no second dirty kind, so they never get a free-mail address.
    freemail = (rng.random(total) < FREEMAIL_SHARE) & (np.arange(total) < n_clean)
    local, domain, email = _emails(rng, first, last, freemail, company, companies)

    employees = companies.employees[company]
    logit = (
        PROPENSITY_INTERCEPT
        + LATENT_SD * rng.standard_normal(total)
        + TITLE_SENIORITY[title]
        + ICP_LIFT * ((employees >= ICP_EMPLOYEES[0]) & (employees <= ICP_EMPLOYEES[1]))
        + TARGET_INDUSTRY_LIFT * np.isin(companies.industry[company], TARGET_INDUSTRY_INDEX)
        + FREEMAIL_LIFT * freemail
        + LEAD_SOURCE_LIFT[lead_source]
    )
    propensity = _sigmoid(logit)
    converted = rng.random(total) < propensity
    unsubscribed = rng.random(total) < UNSUBSCRIBED_SHARE
    activity = np.exp(
        ACTIVITY_LOG_SIGMA * rng.standard_normal(total)
        + ACTIVITY_LOGIT_SLOPE * (logit - REFERENCE_LOGIT)
    )
    return _People(
        n_clean=n_clean,
        first=first,
        last=last,
        title=title,
        company=company,
        country=country,
        lead_source=lead_source,
        created=created,
        freemail=freemail,
        local=local,
        domain=domain,
        email=email,
        logit=logit,
        propensity=propensity,
        converted=converted,
        unsubscribed=unsubscribed,
        activity=activity,
    )


def _emails(
    rng: np.random.Generator,
    first: np.ndarray,
    last: np.ndarray,
    freemail: np.ndarray,
    company: np.ndarray,
    companies: _Companies,
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """``first.last@company-domain`` (or free-mail), made unique with a ``.N`` suffix."""
    n = len(first)
    local = _join(
        pc.utf8_lower(_take(FIRST_NAMES, first)), ".", pc.utf8_lower(_take(LAST_NAMES, last))
    )
    numbered = freemail & (rng.random(n) < FREEMAIL_NUMBER_SHARE)
    local = _join(local, _where(numbered, _ints(rng.integers(10, 100, n)), ""))
    free_domains, free_weights = _shares(FREEMAIL_DOMAINS)
    domain = _where(
        freemail,
        _take(free_domains, _choice(rng, free_weights, n)),
        companies.domain.take(pa.array(company)),
    )
    repeat = ~_first_occurrence(_join(local, "@", domain))
    local = _where(repeat, _join(local, ".", _ints(np.arange(n))), local)
    return local, domain, _join(local, "@", domain)
