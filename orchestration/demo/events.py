"""Marketing events, streamed into one file per ``chunk_size`` rows in batches of at most
``EVENT_BATCH_ROWS`` rows, each batch from its own child seed, with dirty rows injected at exact
rates however the rows are chunked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq
from tqdm import tqdm

from orchestration.demo.arrays import (
    STREAM_EVENTS,
    _between,
    _choice,
    _ids,
    _ints,
    _join,
    _null_where,
    _replace,
    _rng,
    _sigmoid,
    _take,
    _timestamps,
    _where,
)
from orchestration.demo.contacts import _Contacts
from orchestration.demo.output import _part_path, _schema, _table
from orchestration.demo.people import REFERENCE_LOGIT, _People
from orchestration.demo.timeline import SECONDS_PER_DAY

# fmt: off
EVENT_ID_WIDTH = 11
MAX_EVENTS = 10**EVENT_ID_WIDTH - 1
CAMPAIGN_ID_WIDTH = 3
# Events are generated in batches of at most this many rows (several per file when chunk_size
# is larger), which bounds memory and keeps every string column far below 2 GiB of offsets.
EVENT_BATCH_ROWS = 500_000
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
# Behaviour is tabulated on a grid of propensity logits instead of per contact.
LOGIT_GRID = (-9.0, 3.0, 0.25)  # first, last, step
ACTION_RESOLUTION = 2**32  # integer cumulative shares make the per-row draw exact
# Timestamps are as_of - lifetime * u**power: power grows with propensity, pulling activity of
# likely buyers towards as_of.
RECENCY_EXTRA_POWER = 1.0
RECENCY_MIDPOINT_LOGIT = -1.5
RECENCY_STEEPNESS = 2.0
DUPLICATE_ACTIVITY_SHARE = 0.3
# identity of a clean event: contact_id only / email only / both
IDENTITY_SHARES = (0.75, 0.15, 0.10)
EVENT_EMAIL_CASE_SHARE = 0.25
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


N_ACTIONS = len(ACTIONS)
PAGE_URLS = tuple(SITE + path for paths in PAGE_PATHS.values() for path in paths)


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
