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
"""

from __future__ import annotations

import datetime
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from tqdm import tqdm

from orchestration.ingest.contract import RAW_CONTRACT

# --- Output contract -------------------------------------------------------------------------

# The generator writes exactly the raw contract the loader expects.
TABLE_COLUMNS = RAW_CONTRACT
FORMATS = ("csv", "parquet")
TRUTH_FILE = "contacts_truth.csv"
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

# Id widths; the unknown-contact ids ``C9xxxxxx`` stay unused while real ids stay below 9M.
COMPANY_ID_WIDTH = 6
CONTACT_ID_WIDTH = 7
EVENT_ID_WIDTH = 11
DEAL_ID_WIDTH = 6
OWNER_ID_WIDTH = 4
CAMPAIGN_ID_WIDTH = 3
MAX_CONTACTS = 8_000_000
MAX_EVENTS = 10**EVENT_ID_WIDTH - 1

SECONDS_PER_DAY = 86_400
EPOCH = datetime.date(1970, 1, 1)
MIN_AS_OF = datetime.date(2000, 1, 1)  # keeps two years of history well after the epoch

# Independent random streams: adding draws to one table never changes another.
(
    STREAM_COMPANIES,
    STREAM_COMPANY_ROWS,
    STREAM_PEOPLE,
    STREAM_CONTACT_ROWS,
    STREAM_DEALS,
    STREAM_OWNERS,
    STREAM_EVENTS,
) = range(7)
# Events are generated in batches of at most this many rows (several per file when chunk_size
# is larger), which bounds memory and keeps every string column far below 2 GiB of offsets.
EVENT_BATCH_ROWS = 500_000

# Reference data below is laid out as tables, one record per item, not one token per line.
# fmt: off
# --- Companies -------------------------------------------------------------------------------

# Lognormal fitted so that ~70% are SMB (<200), ~22% Mid-Market (200-999), ~8% Enterprise.
EMPLOYEES_LOG_MU = 4.34
EMPLOYEES_LOG_SIGMA = 1.83
MAX_EMPLOYEES = 300_000
REVENUE_PER_EMPLOYEE_LOG_MU = math.log(180_000)
REVENUE_PER_EMPLOYEE_LOG_SIGMA = 0.45
COMPANY_HISTORY_DAYS = 730
CONTACTS_PER_COMPANY = 8
MIN_COMPANIES = 50
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

# --- Contacts --------------------------------------------------------------------------------

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
LIFECYCLE_STAGES = (
    "subscriber", "lead", "marketingqualifiedlead", "salesqualifiedlead", "opportunity",
    "customer",
)
# Cumulative rank cut-offs for subscriber / lead / MQL; the rest are SQL.
LIFECYCLE_RANK_CUTS = (0.46, 0.84, 0.95)
UNSUBSCRIBED_SHARE = 0.04
DUPLICATE_LEAD_SHARE = 0.3  # a re-sign-up starts as subscriber, sometimes as lead
SAME_COUNTRY_SHARE = 0.9
CONTACT_HISTORY_DAYS = 365
CONTACTS_PER_COMPANY_SIZE_POWER = 0.5

# --- Hidden propensity -----------------------------------------------------------------------

PROPENSITY_INTERCEPT = -4.4
LATENT_SD = 1.3
ICP_EMPLOYEES = (100, 1000)
ICP_LIFT = 0.6
TARGET_INDUSTRY_LIFT = 0.4
FREEMAIL_LIFT = -0.8

# --- Deals -----------------------------------------------------------------------------------

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

# --- Owners ----------------------------------------------------------------------------------

CONTACTS_PER_OWNER = 2000
OWNERS_RANGE = (6, 60)
OWNER_TEAMS = (("SDR", 55), ("AE", 35), ("Marketing", 10))
OWNER_REGIONS = (("NA", 45), ("EMEA", 30), ("APAC", 15), ("LATAM", 10))
COMPANY_EMAIL_DOMAIN = "example-saas.com"

# --- Events ----------------------------------------------------------------------------------

SITE = "https://www.example-saas.com"
PAGE_PATHS = {
    "home": ("/",),
    "blog": tuple(f"/blog/{slug}" for slug in (
        "what-is-lead-scoring", "b2b-funnel-metrics", "marketing-attribution-101",
        "email-nurture-playbook", "intent-data-explained", "abm-for-startups",
        "crm-hygiene-checklist", "pipeline-forecasting", "webinar-best-practices",
        "sales-and-marketing-alignment", "customer-journey-mapping", "saas-pricing-strategy",
        "data-warehouse-for-marketers", "churn-signals", "seo-for-b2b", "content-calendar-template",
        "demand-gen-vs-lead-gen", "scoring-model-calibration", "gdpr-for-marketers",
        "product-led-growth",
    )),
    "product": ("/product", "/product/scoring", "/product/segments", "/product/integrations",
                "/product/reporting"),
    "pricing": ("/pricing",),
    "docs": ("/docs", "/docs/getting-started", "/docs/api", "/docs/connectors", "/docs/security"),
    "case_study": ("/customers", "/customers/acme-analytics", "/customers/northwind-logistics",
                   "/customers/globex-health"),
    "careers": ("/careers",),
}
EMAIL_CAMPAIGNS = 16
WEBINAR_CAMPAIGNS = 8
# (event_type, page_category, share for a typical contact, slope per unit of propensity logit).
# Positive slopes are bottom-of-funnel actions that high-propensity contacts do far more often.
ACTIONS = (
    ("page_view", "home", 0.150, 0.00),
    ("page_view", "blog", 0.250, -0.15),
    ("page_view", "product", 0.060, 0.25),
    ("page_view", "pricing", 0.025, 0.70),
    ("page_view", "docs", 0.040, 0.15),
    ("page_view", "case_study", 0.020, 0.35),
    ("page_view", "careers", 0.015, -0.20),
    ("email_open", None, 0.280, -0.05),
    ("email_click", None, 0.070, 0.15),
    ("content_download", None, 0.025, 0.20),
    ("webinar_registered", None, 0.012, 0.30),
    ("webinar_attended", None, 0.006, 0.45),
    ("form_submit", None, 0.010, 0.45),
    ("demo_request", None, 0.0015, 1.00),
    ("email_bounce", None, 0.005, -0.10),
    ("unsubscribe", None, 0.0, 0.0),  # only unsubscribed contacts, see UNSUBSCRIBE_SHARE
)
EMAIL_CAMPAIGN_EVENTS = ("email_open", "email_click", "email_bounce", "unsubscribe")
WEBINAR_CAMPAIGN_EVENTS = ("webinar_registered", "webinar_attended")
UNSUBSCRIBE_SHARE = 0.02  # of an unsubscribed contact's events
REFERENCE_LOGIT = -3.5  # propensity logit of a typical contact, where ACTIONS shares hold
# Behaviour is tabulated on a grid of propensity logits instead of per contact.
LOGIT_GRID = (-9.0, 3.0, 0.25)  # first, last, step
ACTION_RESOLUTION = 2**32  # integer cumulative shares make the per-row draw exact
ACTIVITY_LOG_SIGMA = 0.8
ACTIVITY_LOGIT_SLOPE = 0.6
# Timestamps are as_of - lifetime * u**power: power grows with propensity, pulling activity of
# likely buyers towards as_of.
RECENCY_EXTRA_POWER = 1.0
RECENCY_MIDPOINT_LOGIT = -1.5
RECENCY_STEEPNESS = 2.0
DUPLICATE_ACTIVITY_SHARE = 0.3
# identity of a clean event: contact_id only / email only / both
IDENTITY_SHARES = (0.75, 0.15, 0.10)
EVENT_EMAIL_CASE_SHARE = 0.25

# --- Dirty data ------------------------------------------------------------------------------

MIN_ROWS_FOR_DIRT = 100  # at least one dirty row of each contact/company kind from here on
DUPLICATE_CONTACT_SHARE = 0.02
INVALID_EMAIL_SHARE = 0.01
NULL_CONTACT_ID_SHARE = 0.005
NULL_COMPANY_ID_SHARE = 0.005
NEGATIVE_EMPLOYEE_SHARE = 0.01
# parts per million of event rows, so chunk allocation is exact integer arithmetic
EVENT_DIRT_PPM = {
    "unknown_contact_event": 10_000,
    "unknown_event_type": 5_000,
    "future_event": 3_000,
    "null_event_identity": 5_000,
    "null_event_id": 2_000,
    "unparseable_timestamp": 2_000,
}
UNKNOWN_EVENT_TYPES = ("social_share", "podcast_listen", "chat_started", "video_play")
GARBAGE_TIMESTAMPS = ("not-a-date", "2024-13-45 25:61:00", "yesterday", "31/02/2025")
UNKNOWN_CONTACT_PREFIX = "C9"
UNKNOWN_CONTACT_EMAIL_SHARE = 0.3
UNKNOWN_CONTACT_EMAIL_DOMAIN = "mailinator.com"
FUTURE_DAYS = (2, 365)
# fmt: on


@dataclass(frozen=True)
class GenerationResult:
    """What was written, so callers can log it and tests can check it without re-reading."""

    out_dir: Path
    rows: dict[str, int]  # rows written per table name (incl. dirty rows)
    files: list[Path]  # every file written (the truth file last, when one was asked for)
    dirty: dict[str, int]  # rows injected per dirty-data kind, see DIRTY_KINDS


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


@dataclass(frozen=True)
class _Deals:
    """Planned deals, one row per deal, keyed by clean person index."""

    person: np.ndarray
    stage: np.ndarray
    created: np.ndarray
    closed: np.ndarray  # -1 while open
    amount: np.ndarray


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


@dataclass(frozen=True)
class _EventPlan:
    """Per-record arrays (clean contacts, then duplicates) that every event batch samples."""

    contact_id: pa.Array
    email: pa.Array
    email_ok: np.ndarray
    behaviour_row: np.ndarray
    window: np.ndarray
    recency_power: np.ndarray
    cdf: np.ndarray
    action_cdf: np.ndarray


DEAL_STAGES = (*(stage for stage, _ in OPEN_STAGES), "closedwon", "closedlost")
WON_STAGE = DEAL_STAGES.index("closedwon")
LOST_STAGE = DEAL_STAGES.index("closedlost")
TARGET_INDUSTRY_INDEX = [[name for name, _ in INDUSTRIES].index(t) for t in TARGET_INDUSTRIES]
LEAD_SOURCE_LIFT = np.array([lift for *_, lift in LEAD_SOURCES])
TITLE_SENIORITY = np.array([SENIORITY_LIFT[seniority] for _, seniority, _ in JOB_TITLES])
N_ACTIONS = len(ACTIONS)
PAGE_URLS = tuple(SITE + path for paths in PAGE_PATHS.values() for path in paths)


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


# --- Validation and output plumbing ----------------------------------------------------------


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


def _clear_outputs(out_dir: Path) -> None:
    """Create the table folders and drop old part files, which a rerun would not overwrite."""
    for table in TABLE_COLUMNS:
        folder = out_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("part-*"):
            if old.suffix in {f".{fmt}" for fmt in FORMATS}:
                old.unlink()


def _part_path(out_dir: Path, table: str, index: int, fmt: str) -> Path:
    return out_dir / table / f"part-{index:05d}.{fmt}"


def _schema(table: str) -> pa.Schema:
    return pa.schema([(column, pa.string()) for column in TABLE_COLUMNS[table]])


def _table(table: str, columns: dict[str, pa.Array]) -> pa.Table:
    """Assemble columns in contract order, all strings, failing loudly on a missing column."""
    return pa.Table.from_arrays([columns[c] for c in TABLE_COLUMNS[table]], schema=_schema(table))


def _write(table: pa.Table, out_dir: Path, name: str, fmt: str) -> Path:
    path = _part_path(out_dir, name, 0, fmt)
    if fmt == "csv":
        pa_csv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return path


# --- Small vectorised helpers ----------------------------------------------------------------


def _rng(seed: int, *key: int) -> np.random.Generator:
    """One PCG64 stream per (seed, key): streams never shift each other, so output is stable."""
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence(seed, spawn_key=key)))


def _choice(
    rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int
) -> np.ndarray:
    p = np.asarray(weights, dtype=np.float64)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _shares(pairs: Sequence[tuple]) -> tuple[tuple[str, ...], np.ndarray]:
    """Split (label, weight, ...) constants into labels and weights."""
    return tuple(pair[0] for pair in pairs), np.array([pair[1] for pair in pairs], dtype=float)


def _take(
    values: Sequence[str] | pa.Array, index: np.ndarray, null: np.ndarray | None = None
) -> pa.Array:
    """Look strings up by index; rows flagged in ``null`` become nulls."""
    array = values if isinstance(values, pa.Array) else pa.array(list(values), pa.string())
    return array.take(pa.array(np.asarray(index, dtype=np.int64), mask=null))


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _ints(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(np.asarray(values, dtype=np.int64)), pa.string())


def _ids(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return _join(prefix, pc.utf8_lpad(_ints(numbers), width=width, padding="0"))


def _timestamps(seconds: np.ndarray) -> pa.Array:
    """Format epoch seconds as ``YYYY-MM-DD HH:MM:SS``; negative entries become nulls."""
    seconds = np.asarray(seconds, dtype=np.int64)
    stamps = pa.array(seconds, type=pa.timestamp("s"), mask=seconds < 0)
    return stamps.cast(pa.string())


def _bools(values: np.ndarray) -> pa.Array:
    return _take(("false", "true"), np.asarray(values, dtype=np.int64))


def _where(mask: np.ndarray, then: pa.Array | str, otherwise: pa.Array | str) -> pa.Array:
    return pc.if_else(pa.array(mask), then, otherwise)


def _null_where(array: pa.Array, mask: np.ndarray) -> pa.Array:
    return _where(mask, pa.scalar(None, pa.string()), array)


def _replace(array: pa.Array, mask: np.ndarray, replacements: pa.Array) -> pa.Array:
    """Put ``replacements`` (in row order) where ``mask`` is set."""
    if not mask.any():
        return array
    return pc.replace_with_mask(array, pa.array(mask), replacements)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _between(rng: np.random.Generator, low: np.ndarray, high: np.ndarray | int) -> np.ndarray:
    """Uniform integers in [low, high) for arrays of bounds (high > low)."""
    low = np.asarray(low, dtype=np.int64)
    span = np.asarray(high, dtype=np.int64) - low
    return low + np.floor(rng.random(low.shape) * span).astype(np.int64)


def _dirt_count(rows: int, share: float) -> int:
    """Dirty rows of one kind: the share, rounded, but never zero once a table is big enough."""
    count = round(rows * share)
    return max(1, count) if rows >= MIN_ROWS_FOR_DIRT else count


def _pick(rng: np.random.Generator, candidates: np.ndarray, count: int) -> np.ndarray:
    """Sorted random subset; sorted because ``_replace`` fills masked rows in row order."""
    count = min(count, len(candidates))
    return np.sort(rng.choice(candidates, size=count, replace=False))


def _mask(size: int, index: np.ndarray) -> np.ndarray:
    mask = np.zeros(size, dtype=bool)
    mask[index] = True
    return mask


def _first_occurrence(values: pa.Array) -> np.ndarray:
    """True for the first row of every distinct value, False for later repeats."""
    codes = values.dictionary_encode().indices.to_numpy()
    first = np.zeros(len(values), dtype=bool)
    first[np.unique(codes, return_index=True)[1]] = True
    return first


# --- Companies -------------------------------------------------------------------------------


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


# --- People, contacts and their hidden propensity --------------------------------------------


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


def _write_truth(people: _People, contacts: _Contacts, truth_dir: Path) -> Path:
    """One row per clean contact, in id order: the propensity converters were drawn from."""
    n = people.n_clean
    order = pc.sort_indices(contacts.person_id)
    truth = pa.table(
        {
            "contact_id": contacts.person_id.take(order),
            "propensity": pa.array(people.propensity[:n]).take(order),
            "converted": pa.array(people.converted[:n]).take(order),
        }
    )
    truth_dir.mkdir(parents=True, exist_ok=True)
    path = truth_dir / TRUTH_FILE
    pa_csv.write_csv(truth, path)
    return path


# --- Events ----------------------------------------------------------------------------------


def _event_plan(people: _People, contacts: _Contacts, as_of_ts: int) -> _EventPlan:
    """Records events are drawn from: clean contacts plus duplicates, who act like their
    original at a fraction of the volume. Event volume scales with lifetime and propensity."""
    n, src = people.n_clean, contacts.dup_source
    start = np.concatenate([people.created[:n], contacts.dup_created])
    window = as_of_ts - start
    logit = np.concatenate([people.logit[:n], people.logit[src]])
    unsubscribed = np.concatenate([people.unsubscribed[:n], np.zeros(len(src), dtype=bool)])
    activity = (
        np.concatenate([people.activity[:n], DUPLICATE_ACTIVITY_SHARE * people.activity[src]])
        * window
        / SECONDS_PER_DAY
    )
    cdf = np.cumsum(activity)
    first, last, step = LOGIT_GRID
    bucket = np.clip(np.rint((logit - first) / step), 0, round((last - first) / step))
    return _EventPlan(
        contact_id=pa.concat_arrays([contacts.person_id, contacts.dup_id]),
        email=pa.concat_arrays([people.email.slice(0, n), people.email.take(pa.array(src))]),
        email_ok=np.concatenate([contacts.email_ok, np.ones(len(src), dtype=bool)]),
        behaviour_row=(2 * bucket + unsubscribed).astype(np.int64),
        window=window,
        recency_power=1
        + RECENCY_EXTRA_POWER * _sigmoid(RECENCY_STEEPNESS * (logit - RECENCY_MIDPOINT_LOGIT)),
        cdf=cdf / cdf[-1],
        action_cdf=_action_cdf(),
    )


def _action_cdf() -> np.ndarray:
    """Flattened integer CDFs of ACTIONS, one row per (propensity bucket, unsubscribed).

    Row r holds ``r * ACTION_RESOLUTION + cumulative share``, so a single searchsorted draws
    every event's action from its own row, exactly, with zero-share actions never chosen.
    """
    first, last, step = LOGIT_GRID
    centres = np.arange(round((last - first) / step) + 1) * step + first
    shares = np.array([share for *_, share, _ in ACTIONS])
    slopes = np.array([slope for *_, slope in ACTIONS])
    weights = shares * np.exp(np.outer(centres - REFERENCE_LOGIT, slopes))
    weights[:, -1] = 0.0
    weights /= weights.sum(axis=1, keepdims=True)
    unsubscribing = weights * (1 - UNSUBSCRIBE_SHARE)
    unsubscribing[:, -1] = UNSUBSCRIBE_SHARE
    rows = np.stack([weights, unsubscribing], axis=1).reshape(-1, N_ACTIONS)
    cumulative = np.cumsum(rows, axis=1)
    scaled = np.rint(cumulative / cumulative[:, -1:] * ACTION_RESOLUTION).astype(np.int64)
    return (scaled + np.arange(len(rows))[:, None] * ACTION_RESOLUTION).ravel()


def _write_events(
    plan: _EventPlan,
    out_dir: Path,
    fmt: str,
    seed: int,
    events: int,
    chunk_size: int,
    as_of_ts: int,
    progress: bool,
) -> tuple[list[Path], dict[str, int]]:
    """One file per chunk, streamed batch by batch; each batch has its own child seed."""
    dirty = dict.fromkeys(EVENT_DIRT_PPM, 0)
    files = []
    schema = _schema("marketing_events")
    n_files = max(1, -(-events // chunk_size))
    with tqdm(
        total=events, unit="event", unit_scale=True, desc="marketing_events", disable=not progress
    ) as bar:
        for file_index in range(n_files):
            path = _part_path(out_dir, "marketing_events", file_index, fmt)
            writer = (
                pa_csv.CSVWriter(path, schema) if fmt == "csv" else pq.ParquetWriter(path, schema)
            )
            with writer:
                stop = min(events, (file_index + 1) * chunk_size)
                for batch, start in enumerate(
                    range(file_index * chunk_size, stop, EVENT_BATCH_ROWS)
                ):
                    rng = _rng(seed, STREAM_EVENTS, file_index, batch)
                    end = min(stop, start + EVENT_BATCH_ROWS)
                    table, counts = _event_batch(plan, rng, start, end, as_of_ts)
                    writer.write_table(table)
                    for kind, count in counts.items():
                        dirty[kind] += count
                    bar.update(end - start)
            files.append(path)
    return files, dirty


def _event_batch(
    plan: _EventPlan, rng: np.random.Generator, start: int, stop: int, as_of_ts: int
) -> tuple[pa.Table, dict[str, int]]:
    """Events with global positions [start, stop): clean rows first, then dirt injected."""
    m = stop - start
    record = np.searchsorted(plan.cdf, rng.random(m), side="right")
    row = plan.behaviour_row[record]
    action = np.searchsorted(
        plan.action_cdf,
        row * ACTION_RESOLUTION + rng.integers(0, ACTION_RESOLUTION, m),
        side="right",
    )
    action -= row * N_ACTIONS
    offset = np.floor(plan.window[record] * rng.random(m) ** plan.recency_power[record])
    occurred = as_of_ts - 1 - offset.astype(np.int64)
    identity = _choice(rng, IDENTITY_SHARES, m)
    identity[~plan.email_ok[record]] = 0

    kind = _dirty_kinds(rng, start, stop)
    dirt = {name: kind == i for i, name in enumerate(EVENT_DIRT_PPM)}
    unknown_type = dirt["unknown_event_type"]
    unknown_contact = dirt["unknown_contact_event"]
    no_identity = dirt["null_event_identity"] | unknown_contact

    contact_id = _take(plan.contact_id, record, (identity == 1) | no_identity)
    contact_id = _replace(
        contact_id,
        unknown_contact,
        _ids(UNKNOWN_CONTACT_PREFIX, rng.integers(0, 10**6, unknown_contact.sum()), 6),
    )
    email = _event_emails(rng, plan, record, (identity == 0) | no_identity)
    email = _replace(email, unknown_contact, _unknown_emails(rng, int(unknown_contact.sum())))

    page_category, page_url, campaign = _event_details(rng, action, unknown_type)
    event_type = _replace(
        _take([name for name, *_ in ACTIONS], action),
        unknown_type,
        _take(UNKNOWN_EVENT_TYPES, rng.integers(0, len(UNKNOWN_EVENT_TYPES), unknown_type.sum())),
    )
    future = dirt["future_event"]
    occurred[future] = as_of_ts + _between(
        rng,
        np.full(future.sum(), FUTURE_DAYS[0] * SECONDS_PER_DAY),
        FUTURE_DAYS[1] * SECONDS_PER_DAY + 1,
    )
    garbage = dirt["unparseable_timestamp"]
    occurred_at = _replace(
        _timestamps(occurred),
        garbage,
        _take(GARBAGE_TIMESTAMPS, rng.integers(0, len(GARBAGE_TIMESTAMPS), garbage.sum())),
    )
    event_id = _null_where(
        _ids("E", np.arange(start + 1, stop + 1), EVENT_ID_WIDTH), dirt["null_event_id"]
    )
    table = _table(
        "marketing_events",
        {
            "event_id": event_id,
            "contact_id": contact_id,
            "email": email,
            "event_type": event_type,
            "page_url": page_url,
            "page_category": page_category,
            "campaign_id": campaign,
            "occurred_at": occurred_at,
        },
    )
    return table, {name: int(mask.sum()) for name, mask in dirt.items()}


def _dirty_kinds(rng: np.random.Generator, start: int, stop: int) -> np.ndarray:
    """Dirty kind per row (-1 = clean). Counts are the kind's share of the rows up to ``stop``
    minus those up to ``start``, so totals are exact however the rows are chunked."""
    counts = [
        (ppm * stop + 500_000) // 1_000_000 - (ppm * start + 500_000) // 1_000_000
        for ppm in EVENT_DIRT_PPM.values()
    ]
    kind = np.full(stop - start, -1, dtype=np.int64)
    rows = rng.permutation(stop - start)[: sum(counts)]
    kind[rows] = np.repeat(np.arange(len(counts)), counts)
    return kind


def _event_emails(
    rng: np.random.Generator, plan: _EventPlan, record: np.ndarray, null: np.ndarray
) -> pa.Array:
    """The contact's address where the event carries one, sometimes typed in another case."""
    email = _take(plan.email, record, null)
    variant = rng.random(len(record))
    upper = variant < EVENT_EMAIL_CASE_SHARE / 2
    title = (variant >= EVENT_EMAIL_CASE_SHARE / 2) & (variant < EVENT_EMAIL_CASE_SHARE)
    email = _where(upper, pc.utf8_upper(email), email)
    return _where(title, pc.utf8_title(email), email)


def _unknown_emails(rng: np.random.Generator, count: int) -> pa.Array:
    """Visitors no CRM contact matches: mostly anonymous, some with a throwaway address."""
    address = _join(
        "visitor.", _ints(rng.integers(0, 10**7, count)), "@", UNKNOWN_CONTACT_EMAIL_DOMAIN
    )
    return _null_where(address, rng.random(count) >= UNKNOWN_CONTACT_EMAIL_SHARE)


def _event_details(
    rng: np.random.Generator, action: np.ndarray, unknown_type: np.ndarray
) -> tuple[pa.Array, pa.Array, pa.Array]:
    """page_category and page_url for page views, campaign_id for email and webinar events."""
    categories = list(PAGE_PATHS)
    path_counts = np.array([len(paths) for paths in PAGE_PATHS.values()])
    path_offsets = np.concatenate([[0], np.cumsum(path_counts)[:-1]])
    category_of = np.array([categories.index(c) if c else -1 for _, c, *_ in ACTIONS])
    category = category_of[action]
    is_page = (category >= 0) & ~unknown_type
    safe = np.maximum(category, 0)
    url = path_offsets[safe] + np.floor(rng.random(len(action)) * path_counts[safe]).astype(
        np.int64
    )

    names = [name for name, *_ in ACTIONS]
    email_actions = np.isin(action, [names.index(e) for e in EMAIL_CAMPAIGN_EVENTS])
    webinar_actions = np.isin(action, [names.index(e) for e in WEBINAR_CAMPAIGN_EVENTS])
    campaign = (
        np.where(
            webinar_actions,
            EMAIL_CAMPAIGNS + rng.integers(0, WEBINAR_CAMPAIGNS, len(action)),
            rng.integers(0, EMAIL_CAMPAIGNS, len(action)),
        )
        + 1
    )
    no_campaign = ~(email_actions | webinar_actions) | unknown_type
    return (
        _take(categories, safe, ~is_page),
        _take(PAGE_URLS, url, ~is_page),
        _null_where(_ids("CMP", campaign, CAMPAIGN_ID_WIDTH), no_campaign),
    )
