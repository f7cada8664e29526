"""Tests for the synthetic demo data generator, run against real files read back from disk.

Dirty rows are re-measured from the files with independent logic and must match the counts the
generator reports, so both the injection and the bookkeeping are checked.
"""

from __future__ import annotations

import csv
import datetime
import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from orchestration.demo import GenerationResult, generate_demo_data
from orchestration.demo import events as event_module

AS_OF = datetime.date(2025, 6, 30)
CONTACTS = 2_000
EVENTS = 60_000
CHUNK = 25_000

EXPECTED_COLUMNS = {
    "crm_companies": [
        "company_id",
        "name",
        "domain",
        "industry",
        "employee_count",
        "annual_revenue",
        "country",
        "created_at",
        "updated_at",
    ],
    "crm_contacts": [
        "contact_id",
        "email",
        "first_name",
        "last_name",
        "job_title",
        "company_id",
        "country",
        "lead_source",
        "lifecycle_stage",
        "unsubscribed",
        "created_at",
        "updated_at",
    ],
    "marketing_events": [
        "event_id",
        "contact_id",
        "email",
        "event_type",
        "page_url",
        "page_category",
        "campaign_id",
        "occurred_at",
    ],
    "crm_deals": [
        "deal_id",
        "contact_id",
        "company_id",
        "amount",
        "stage",
        "is_closed",
        "is_won",
        "created_at",
        "closed_at",
    ],
    "crm_owners": ["owner_id", "name", "email", "team", "region"],
}
KNOWN_EVENT_TYPES = {
    "page_view",
    "email_open",
    "email_click",
    "content_download",
    "webinar_registered",
    "webinar_attended",
    "form_submit",
    "demo_request",
    "unsubscribe",
    "email_bounce",
}
FREEMAIL = {"gmail.com", "yahoo.com", "hotmail.com", "outlook.com", "aol.com", "icloud.com"}
VALID_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S"
AS_OF_START = pd.Timestamp(AS_OF)


@dataclass(frozen=True)
class Demo:
    result: GenerationResult
    truth: pd.DataFrame
    companies: pd.DataFrame
    contacts: pd.DataFrame
    events: pd.DataFrame
    deals: pd.DataFrame
    owners: pd.DataFrame


def read_table(out_dir: Path, table: str) -> pd.DataFrame:
    """Every part of a table as strings; empty fields are nulls, whitespace is kept."""
    parts = sorted((out_dir / table).glob("part-*"))
    frames = [
        pq.read_table(p).to_pandas()
        if p.suffix == ".parquet"
        else pd.read_csv(p, dtype=str, keep_default_na=False, na_values=[""])
        for p in parts
    ]
    return pd.concat(frames, ignore_index=True)


def parse_ts(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, format=TIMESTAMP_FORMAT, errors="coerce")


def normalise(emails: pd.Series) -> pd.Series:
    return emails.str.strip().str.lower()


def generate(out_dir: Path, **overrides) -> GenerationResult:
    args = {
        "contacts": 1_000,
        "events": 10_000,
        "chunk_size": 4_000,
        "as_of": AS_OF,
        "progress": False,
    }
    return generate_demo_data(out_dir, **{**args, **overrides})


def file_bytes(result: GenerationResult) -> dict[str, bytes]:
    return {f"{p.parent.name}/{p.name}": p.read_bytes() for p in result.files}


def rank_corr(a: pd.Series, b: pd.Series) -> float:
    """Spearman correlation without scipy: Pearson on ranks."""
    return a.rank().corr(b.rank())


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    root = tmp_path_factory.mktemp("demo")
    result = generate_demo_data(
        root / "landing",
        contacts=CONTACTS,
        events=EVENTS,
        chunk_size=CHUNK,
        seed=7,
        as_of=AS_OF,
        progress=False,
        truth_dir=root / "truth",
    )
    out = result.out_dir
    return Demo(
        result=result,
        truth=pd.read_csv(root / "truth" / "contacts_truth.csv", dtype={"contact_id": str}),
        companies=read_table(out, "crm_companies"),
        contacts=read_table(out, "crm_contacts"),
        events=read_table(out, "marketing_events"),
        deals=read_table(out, "crm_deals"),
        owners=read_table(out, "crm_owners"),
    )


# --- Determinism -----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_same_arguments_give_identical_bytes(tmp_path: Path, fmt: str) -> None:
    first = generate(tmp_path / "a" / "landing", fmt=fmt, truth_dir=tmp_path / "a" / "truth")
    second = generate(tmp_path / "b" / "landing", fmt=fmt, truth_dir=tmp_path / "b" / "truth")
    assert len(first.files) == 8
    assert file_bytes(first) == file_bytes(second)


def test_different_seed_changes_every_table(tmp_path: Path) -> None:
    base = file_bytes(generate(tmp_path / "a", seed=1))
    other = file_bytes(generate(tmp_path / "b", seed=2))
    assert base.keys() == other.keys()
    for name in base:
        assert base[name] != other[name], name


def test_rerun_with_fewer_chunks_leaves_no_stale_parts(tmp_path: Path) -> None:
    generate(tmp_path, chunk_size=2_000)
    result = generate(tmp_path, chunk_size=5_000)
    written = sorted((tmp_path / "marketing_events").iterdir())
    assert written == sorted(p for p in result.files if p.parent.name == "marketing_events")
    assert len(written) == 2


# --- Layout and contract ---------------------------------------------------------------------


def test_csv_headers_match_contract(demo: Demo) -> None:
    for path in demo.result.files:
        if path.parent.name not in EXPECTED_COLUMNS:
            continue
        with path.open(newline="") as handle:
            header = next(csv.reader(handle))
        assert header == EXPECTED_COLUMNS[path.parent.name], path


def test_parquet_columns_are_strings_and_keep_dirty_values(tmp_path: Path) -> None:
    result = generate(tmp_path / "out", fmt="parquet", events=12_000, chunk_size=5_000)
    for path in result.files:
        schema = pq.read_schema(path)
        assert schema.names == EXPECTED_COLUMNS[path.parent.name], path
        assert all(field.type == pa.string() for field in schema), path
    events = read_table(result.out_dir, "marketing_events")
    garbage = events.occurred_at.notna() & parse_ts(events.occurred_at).isna()
    assert garbage.sum() == result.dirty["unparseable_timestamp"] > 0
    assert events.event_id.isna().sum() == result.dirty["null_event_id"] > 0
    assert len(list((result.out_dir / "marketing_events").glob("*.parquet"))) == 3


def test_contract_matches_the_ingest_contract() -> None:
    from orchestration.ingest.contract import RAW_CONTRACT

    assert {table: list(cols) for table, cols in RAW_CONTRACT.items()} == EXPECTED_COLUMNS


def test_events_are_split_into_chunks_and_row_counts_match(demo: Demo) -> None:
    event_files = sorted((demo.result.out_dir / "marketing_events").iterdir())
    assert [p.name for p in event_files] == [
        f"part-{i:05d}.csv" for i in range(math.ceil(EVENTS / CHUNK))
    ]
    frames = {
        "crm_companies": demo.companies,
        "crm_contacts": demo.contacts,
        "marketing_events": demo.events,
        "crm_deals": demo.deals,
        "crm_owners": demo.owners,
    }
    assert {name: len(frame) for name, frame in frames.items()} == demo.result.rows
    assert demo.result.rows["marketing_events"] == EVENTS
    assert all(p.exists() for p in demo.result.files)


def test_truth_file_is_outside_the_landing_folder(demo: Demo) -> None:
    truth_files = [p for p in demo.result.files if p.name == "contacts_truth.csv"]
    assert len(truth_files) == 1
    assert demo.result.out_dir not in truth_files[0].parents
    assert not list(demo.result.out_dir.rglob("*truth*"))
    assert list(demo.truth.columns) == ["contact_id", "propensity", "converted"]
    assert len(demo.truth) == CONTACTS
    assert demo.truth.propensity.between(0, 1).all()


def test_ids_are_formatted_and_unique(demo: Demo) -> None:
    patterns = [
        (demo.companies, "company_id", r"CO\d{6}"),
        (demo.contacts, "contact_id", r"C\d{7}"),
        (demo.events, "event_id", r"E\d{11}"),
        (demo.deals, "deal_id", r"D\d{6}"),
        (demo.owners, "owner_id", r"O\d{4}"),
        (demo.events, "campaign_id", r"CMP\d{3}"),
    ]
    for frame, column, pattern in patterns:
        ids = frame[column].dropna()
        assert ids.str.fullmatch(pattern).all(), column
        if column != "campaign_id":
            assert ids.is_unique, column


# --- Dirty data ------------------------------------------------------------------------------


def test_every_dirty_kind_is_reported(demo: Demo) -> None:
    assert set(demo.result.dirty) == {
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
    }
    assert all(count > 0 for count in demo.result.dirty.values())


def test_contact_dirt_matches_the_files(demo: Demo) -> None:
    contacts, dirty = demo.contacts, demo.result.dirty
    stripped = contacts.email.str.strip()
    valid = stripped.str.fullmatch(VALID_EMAIL.pattern)
    normal = normalise(contacts.email)
    measured = {
        "null_contact_id": contacts.contact_id.isna().sum(),
        "invalid_email": (~valid).sum(),
        "duplicate_contact_email": valid.sum() - normal[valid].nunique(),
        "freemail_email": normal[valid].str.split("@").str[1].isin(FREEMAIL).sum(),
    }
    assert measured == {kind: dirty[kind] for kind in measured}
    targets = {
        "null_contact_id": 0.005,
        "invalid_email": 0.01,
        "duplicate_contact_email": 0.02,
        "freemail_email": 0.08,
    }
    for kind, share in targets.items():
        assert 0.5 * share <= dirty[kind] / CONTACTS <= 1.5 * share, kind


def test_duplicates_are_the_same_person_typed_differently(demo: Demo) -> None:
    contacts = demo.contacts.assign(normal=normalise(demo.contacts.email))
    groups = contacts[
        contacts.normal.duplicated(keep=False)
        & contacts.email.str.strip().str.fullmatch(VALID_EMAIL.pattern)
    ]
    assert groups.normal.nunique() == demo.result.dirty["duplicate_contact_email"]
    for _, group in groups.groupby("normal"):
        assert group.email.nunique() == len(group)
        assert group.contact_id.notna().all() and group.contact_id.is_unique
        assert group.first_name.nunique() == group.last_name.nunique() == 1
        assert group.company_id.nunique() == 1
    duplicate_ids = set(groups.sort_values("created_at").groupby("normal").contact_id.nth(1))
    assert demo.events.contact_id.isin(duplicate_ids).sum() > 0


def test_company_dirt_matches_the_files(demo: Demo) -> None:
    companies, dirty = demo.companies, demo.result.dirty
    assert companies.company_id.isna().sum() == dirty["null_company_id"]
    employees = pd.to_numeric(companies.employee_count)
    assert (employees < 0).sum() == dirty["negative_employee_count"]
    assert 1 <= dirty["null_company_id"] <= 0.02 * len(companies)
    assert 1 <= dirty["negative_employee_count"] <= 0.02 * len(companies)
    assert companies.company_id[employees < 0].notna().all()


def test_event_dirt_matches_the_files(demo: Demo) -> None:
    events, dirty = demo.events, demo.result.dirty
    occurred = parse_ts(events.occurred_at)
    known_ids = set(demo.contacts.contact_id.dropna())
    known_emails = set(normalise(demo.contacts.email))
    unknown_contact = events.contact_id.notna() & ~events.contact_id.isin(known_ids)
    measured = {
        "null_event_id": events.event_id.isna().sum(),
        "unknown_event_type": (~events.event_type.isin(KNOWN_EVENT_TYPES)).sum(),
        "future_event": (occurred >= AS_OF_START + pd.Timedelta(days=1)).sum(),
        "unparseable_timestamp": (events.occurred_at.notna() & occurred.isna()).sum(),
        "null_event_identity": (events.contact_id.isna() & events.email.isna()).sum(),
        "unknown_contact_event": unknown_contact.sum(),
    }
    assert measured == {kind: dirty[kind] for kind in measured}
    targets = {
        "unknown_contact_event": 0.01,
        "unknown_event_type": 0.005,
        "future_event": 0.003,
        "null_event_identity": 0.005,
        "null_event_id": 0.002,
        "unparseable_timestamp": 0.002,
    }
    for kind, share in targets.items():
        assert 0.5 * share <= dirty[kind] / EVENTS <= 1.5 * share, kind

    assert events.event_id.dropna().is_unique
    assert not normalise(events.email[unknown_contact].dropna()).isin(known_emails).any()
    assert (
        occurred[occurred.notna() & (occurred < AS_OF_START)]
        >= AS_OF_START - pd.Timedelta(days=365)
    ).all()
    future = occurred[occurred >= AS_OF_START]
    assert (future >= AS_OF_START + pd.Timedelta(days=2)).all()
    assert (future <= AS_OF_START + pd.Timedelta(days=366)).all()


def test_clean_events_identify_real_contacts(demo: Demo) -> None:
    events = demo.events
    email_only = events[events.contact_id.isna() & events.email.notna()]
    assert 0.10 <= len(email_only) / len(events) <= 0.20
    assert normalise(email_only.email).isin(set(normalise(demo.contacts.email))).all()
    assert (email_only.email != email_only.email.str.lower()).any()
    both = events.contact_id.notna() & events.email.notna()
    assert both.sum() > 0


# --- Realism ---------------------------------------------------------------------------------


def test_converters_show_bottom_of_funnel_behaviour(demo: Demo) -> None:
    events, contacts, truth = demo.events, demo.contacts, demo.truth
    by_email = (
        contacts.dropna(subset=["contact_id"])
        .assign(normal=normalise(contacts.email))
        .drop_duplicates("normal")
        .set_index("normal")
        .contact_id
    )
    resolved = events.contact_id.fillna(normalise(events.email).map(by_email))
    bottom = (events.event_type == "demo_request") | (events.page_category == "pricing")
    per_contact = resolved[bottom].value_counts().reindex(truth.contact_id, fill_value=0)

    won = set(demo.deals.contact_id[demo.deals.stage == "closedwon"])
    is_won = truth.contact_id.isin(won).to_numpy()
    assert (truth.converted.to_numpy() == is_won).all()
    assert 0.03 <= is_won.mean() <= 0.08
    assert per_contact[is_won].mean() >= 3 * per_contact[~is_won].mean()
    assert truth.propensity[is_won].mean() >= 2 * truth.propensity[~is_won].mean()

    last_seen = parse_ts(events.occurred_at).groupby(resolved).max()
    last_seen = last_seen.reindex(truth.contact_id)
    assert last_seen[is_won].median() > last_seen[~is_won].median()


def test_event_mix_looks_like_a_funnel(demo: Demo) -> None:
    events = demo.events[demo.events.event_type.isin(KNOWN_EVENT_TYPES)]
    shares = events.event_type.value_counts(normalize=True)
    assert shares.index[0] == "page_view" and shares["page_view"] > 0.4
    assert shares["email_open"] > shares["email_click"] > shares["form_submit"]
    assert shares["demo_request"] < 0.02 and shares["unsubscribe"] < 0.01
    categories = events.page_category.value_counts(normalize=True)
    assert set(categories.index[:2]) == {"blog", "home"}

    pages = events.event_type == "page_view"
    assert events.page_url.notna().eq(pages).all()
    assert events.page_category.notna().eq(pages).all()
    paths = events.page_url[pages].str.removeprefix("https://www.example-saas.com")
    pricing = events.page_category[pages] == "pricing"
    assert (paths[pricing] == "/pricing").all()
    assert paths[events.page_category[pages] == "blog"].str.startswith("/blog/").all()
    with_campaign = events.event_type.str.startswith(("email_", "webinar_", "unsubscribe"))
    assert events.campaign_id.notna().eq(with_campaign).all()

    unsubscribed = set(demo.contacts.contact_id[demo.contacts.unsubscribed == "true"])
    known = events.contact_id.isin(set(demo.contacts.contact_id.dropna()))
    unsubscribe = events[(events.event_type == "unsubscribe") & known]
    assert len(unsubscribe) > 0 and unsubscribe.contact_id.isin(unsubscribed).all()


def test_companies_and_contacts_look_like_b2b(demo: Demo) -> None:
    companies, contacts = demo.companies, demo.contacts
    size = pd.to_numeric(companies.employee_count).abs()
    assert 0.6 <= (size < 200).mean() <= 0.8
    assert 0.03 <= (size >= 1000).mean() <= 0.15
    assert companies.domain.is_unique
    assert companies.domain.str.fullmatch(r"[a-z0-9-]+(\.[a-z]+)+").all()
    revenue = pd.to_numeric(companies.annual_revenue)
    assert rank_corr(size, revenue) > 0.6

    assert contacts.lifecycle_stage.isin(["subscriber", "lead"]).mean() > 0.6
    assert 0.02 <= (contacts.unsubscribed == "true").mean() <= 0.06
    created, updated = parse_ts(contacts.created_at), parse_ts(contacts.updated_at)
    assert (updated >= created).all()
    assert created.min() >= AS_OF_START - pd.Timedelta(days=365)
    assert updated.max() < AS_OF_START
    joined = contacts.merge(companies, on="company_id", suffixes=("", "_company"))
    assert len(joined) == len(contacts)
    assert (joined.country == joined.country_company).mean() > 0.8
    assert (parse_ts(joined.created_at_company) <= created).all()
    titles = set(contacts.job_title)
    assert {"Chief Executive Officer", "VP of Marketing", "Software Engineer", "Student"} <= titles


def test_deals_follow_the_pipeline(demo: Demo) -> None:
    deals = demo.deals
    closed = deals.is_closed == "true"
    assert (deals.is_won == "true").eq(deals.stage == "closedwon").all()
    assert closed.eq(deals.stage.isin(["closedwon", "closedlost"])).all()
    assert deals.closed_at.notna().eq(closed).all()
    assert set(deals.stage[~closed]) <= {
        "appointmentscheduled",
        "qualifiedtobuy",
        "presentationscheduled",
        "decisionmakerboughtin",
    }
    created, closed_at = parse_ts(deals.created_at), parse_ts(deals.closed_at)
    assert (closed_at[closed] >= created[closed]).all()
    assert closed_at.max() < AS_OF_START and created.max() < AS_OF_START

    contact_company = demo.contacts.dropna(subset=["contact_id"]).set_index("contact_id")
    assert deals.company_id.eq(deals.contact_id.map(contact_company.company_id)).all()
    size = deals.company_id.map(demo.companies.set_index("company_id").employee_count)
    amount = pd.to_numeric(deals.amount)
    assert rank_corr(pd.to_numeric(size).abs(), amount) > 0.5

    won = deals[deals.stage == "closedwon"]
    first_event = parse_ts(demo.events.occurred_at).groupby(demo.events.contact_id).min()
    active_before = first_event.reindex(won.contact_id).to_numpy() < created[won.index]
    assert active_before.mean() > 0.8


def test_owners_staff_every_team(demo: Demo) -> None:
    owners = demo.owners
    assert len(owners) == 6
    assert {"AE", "SDR", "Marketing"} == set(owners.team)
    assert owners.region.isin(["NA", "EMEA", "APAC", "LATAM"]).all()
    assert owners.email.str.fullmatch(r"[a-z]+\.[a-z]+@example-saas\.com").all()
    assert owners.email.is_unique


def test_batches_stream_into_their_chunk_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_module, "EVENT_BATCH_ROWS", 1_500)
    result = generate(tmp_path, events=10_000, chunk_size=4_000)
    events = read_table(tmp_path, "marketing_events")
    assert len(events) == 10_000
    assert len(list((tmp_path / "marketing_events").iterdir())) == 3
    expected = pd.Series([f"E{i:011d}" for i in range(1, 10_001)])
    present = events.event_id.notna()
    assert events.event_id[present].tolist() == expected[present].tolist()
    assert (~present).sum() == result.dirty["null_event_id"] == 20
    assert result.dirty["unknown_contact_event"] == 100


def test_zero_events_still_writes_a_header(tmp_path: Path) -> None:
    result = generate(tmp_path, events=0)
    events = [p for p in result.files if p.parent.name == "marketing_events"]
    assert len(events) == 1
    assert events[0].read_text().splitlines() == [
        ",".join(f'"{c}"' for c in EXPECTED_COLUMNS["marketing_events"])
    ]


# --- Arguments -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"fmt": "json"}, "json"),
        ({"contacts": 0}, "contacts"),
        ({"events": -1}, "events"),
        ({"chunk_size": 0}, "chunk_size"),
        ({"companies": 0}, "companies"),
        ({"seed": -3}, "seed"),
        ({"contacts": 10.5}, "contacts"),
        ({"as_of": "2025-06-30"}, "as_of"),
    ],
)
def test_bad_arguments_raise(tmp_path: Path, overrides: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        generate(tmp_path / "out", **overrides)
    assert not (tmp_path / "out").exists()


def test_truth_dir_inside_out_dir_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="truth_dir"):
        generate(tmp_path, truth_dir=tmp_path / "truth")
