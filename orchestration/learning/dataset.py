"""The leads as they stood on an evaluation date, with what rules can say about them and
whether they converted afterwards: what `leadscore suggest-rules` learns from.

A lead is in the dataset when it was created by the end of the evaluation date E and was not
a customer yet (no deal won by then), as the calibration marts count them; it converted when
it has a deal won in the `window_days` days after E. With `window_days` 0 the data is a
snapshot whose outcomes are known on E (a one-off export, where every lead was created and
every deal won "on the export day"): every lead created by the end of E is in, and it
converted when it won a deal by then. Its attributes are read the way the
scoring models read them (``macros/scoring/lead_attribute_catalog.sql``): the profile's derived
attributes, and every raw column of its contact and company rows, as lower-case trimmed
text. Its behaviour is counted from the staged events up to the end of E, in the windows the
candidate behaviour rules use. Everything is computed in the warehouse and read back as one
row per lead, so the size of the event history does not matter here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

import pandas as pd

from orchestration.lib.warehouse import WarehouseConnection, quote_ident

# The profile's attributes a learned rule may use, as the catalog names them, and their type.
PROFILE_ATTRIBUTES: dict[str, str] = {
    "seniority": "text",
    "department": "text",
    "industry": "text",
    "country": "text",
    "size_band": "text",
    "email_domain_type": "text",
    "lead_source": "text",
    "persona": "text",
    "employee_count": "number",
    "annual_revenue": "number",
}
# Raw contract columns never offered as attributes: ids, personal data, what the profile
# already reads, and what records the outcome or its timing.
SKIPPED_RAW_COLUMNS = {
    "crm_contacts": {
        "contact_id", "email", "first_name", "last_name", "job_title", "company_id",
        "country", "lead_source", "lifecycle_stage", "created_at", "updated_at",
    },
    "crm_companies": {
        "company_id", "name", "domain", "industry", "employee_count", "annual_revenue",
        "country", "created_at", "updated_at",
    },
}  # fmt: skip
# Windows (days ending with E) in which behaviour is counted, and the counts tried.
BEHAVIOUR_WINDOWS = (7, 30)
MIN_COUNTS = (1, 3)


@dataclass
class LeadDataset:
    """One row per lead on the evaluation date: `contact_id`, `converted`, `holdout`, the
    attribute columns (catalog names, text) and the behaviour count columns."""

    frame: pd.DataFrame
    evaluation_date: date
    window_days: int
    attributes: dict[str, str]  # catalog name -> type read as (text; number for the profile's)
    behaviour: dict[str, tuple[str, str | None, int]]  # column -> (event type, category, window)
    engagement: dict[str, int]  # column -> window (any engagement event)

    @property
    def conversions(self) -> int:
        return int(self.frame["converted"].sum())


def holdout_flag(contact_id: str, share: float) -> bool:
    """Held out of the fit: a stable hash of the id, so the split is fixed before fitting and
    the same on every engine and run."""
    return int(hashlib.md5(contact_id.encode()).hexdigest()[:8], 16) % 10_000 < share * 10_000


def _literal(moment: datetime) -> str:
    return f"cast('{moment.isoformat(sep=' ')}' as timestamp)"


def _raw_columns(conn: WarehouseConnection, relation: str, table: str) -> list[str]:
    rows = conn.fetch_arrow(f"select * from {relation} where 1 = 0").schema.names
    return [
        name
        for name in rows
        if not name.startswith("_") and name.lower() not in SKIPPED_RAW_COLUMNS[table]
    ]


def build_dataset(
    conn: WarehouseConnection,
    relation: Callable[[str], str],
    raw_relation: Callable[[str], str],
    evaluation_date: date,
    window_days: int,
    holdout_share: float,
) -> LeadDataset:
    """The dataset of `evaluation_date` (E): `relation(model)` names a dbt model's relation,
    `raw_relation(table)` a raw contract table's (an adapter view for a Fivetran source)."""
    end = datetime.combine(evaluation_date + timedelta(days=1), time())
    outcome_end = end + timedelta(days=window_days)
    snapshot = window_days == 0
    # A snapshot's outcome is what is known on E; otherwise what is won after it.
    outcome_start = datetime.min.replace(year=1900) if snapshot else end
    customers_before = datetime.min.replace(year=1900) if snapshot else end
    contact_raw = raw_relation("crm_contacts")
    company_raw = raw_relation("crm_companies")
    contact_columns = _raw_columns(conn, contact_raw, "crm_contacts")
    company_columns = _raw_columns(conn, company_raw, "crm_companies")
    attributes = {name: kind for name, kind in PROFILE_ATTRIBUTES.items()}
    selects = [f"profile.{name} as {quote_ident(name)}" for name in PROFILE_ATTRIBUTES]
    for source, alias, columns in (
        ("contact", "contact_rows", contact_columns),
        ("company", "company_rows", company_columns),
    ):
        for column in columns:
            name = f"{source}.{column.lower()}"
            attributes[name] = "text"
            selects.append(
                f"nullif(trim(cast({alias}.{quote_ident(column)} as {conn.text_type})), '') "
                f"as {quote_ident(name)}"
            )
    deals = relation("stg_crm__deals")
    leads_sql = f"""
        with won as (
            select
                contact_id,
                max(
                    case when closed_at < {_literal(customers_before)} then 1 else 0 end
                ) as was_customer,
                max(
                    case
                        when closed_at >= {_literal(outcome_start)}
                            and closed_at < {_literal(max(outcome_end, end))}
                            then 1 else 0
                    end
                ) as converted
            from {deals}
            where is_won and contact_id is not null and closed_at is not null
            group by contact_id
        )
        select
            contacts.contact_id,
            cast(coalesce(won.converted, 0) as integer) as converted,
            cast(contacts.created_at as date) as created_on,
            {", ".join(selects)}
        from {relation("stg_crm__contacts")} as contacts
        inner join {relation("int_scoring__contact_profile")} as profile
            on contacts.contact_id = profile.contact_id
        left join {relation("stg_crm__companies")} as companies
            on contacts.company_id = companies.company_id
        left join {contact_raw} as contact_rows
            on contacts._file_id = contact_rows._file_id
            and contacts._source_row = contact_rows._source_row
        left join {company_raw} as company_rows
            on companies._file_id = company_rows._file_id
            and companies._source_row = company_rows._source_row
        left join won
            on contacts.contact_id = won.contact_id
        where contacts.created_at < {_literal(end)} and coalesce(won.was_customer, 0) = 0
    """
    frame = conn.fetch_arrow(leads_sql).to_pandas()
    frame = frame[["contact_id", "converted", "created_on", *attributes]]
    for name, kind in attributes.items():
        if kind == "text":
            frame[name] = frame[name].map(_text, na_action="ignore")
        else:
            frame[name] = frame[name].astype(str).where(frame[name].notna(), None)
    frame["lead_age_days"] = (
        pd.Timestamp(evaluation_date) - pd.to_datetime(frame["created_on"])
    ).dt.days

    behaviour, engagement, counts = _behaviour(conn, relation, end)
    if len(counts):
        frame = frame.merge(counts, on="contact_id", how="left")
        frame[[*behaviour, *engagement]] = frame[[*behaviour, *engagement]].fillna(0)
    frame["holdout"] = frame["contact_id"].map(lambda lead: holdout_flag(lead, holdout_share))
    frame = frame.sort_values("contact_id", ignore_index=True)
    return LeadDataset(frame, evaluation_date, window_days, attributes, behaviour, engagement)


def _text(value: object) -> str | None:
    text = str(value).strip().lower()
    return text or None


def _behaviour(
    conn: WarehouseConnection, relation: Callable[[str], str], end: datetime
) -> tuple[dict[str, tuple[str, str | None, int]], dict[str, int], pd.DataFrame]:
    """Per lead, events of each type (and page category) and engagement events in each
    window ending with E, counted in the warehouse."""
    events = relation("stg_marketing__events")
    types = relation("event_types")
    longest = max(BEHAVIOUR_WINDOWS)
    start = end - timedelta(days=longest)
    window_sums = ", ".join(
        f"sum(case when events.occurred_at >= {_literal(end - timedelta(days=days))} "
        f"then 1 else 0 end) as n_{days}"
        for days in BEHAVIOUR_WINDOWS
    )
    rows = conn.fetch_arrow(
        f"""
        select
            events.contact_id,
            events.event_type,
            events.page_category,
            max(case when event_types.is_engagement then 1 else 0 end) as is_engagement,
            {window_sums}
        from {events} as events
        inner join {types} as event_types
            on events.event_type = event_types.event_type
        where events.occurred_at < {_literal(end)} and events.occurred_at >= {_literal(start)}
        group by events.contact_id, events.event_type, events.page_category
        """
    ).to_pandas()
    behaviour: dict[str, tuple[str, str | None, int]] = {}
    engagement: dict[str, int] = {}
    if rows.empty:
        return behaviour, engagement, pd.DataFrame()
    columns: dict[str, pd.Series] = {}
    rows["page_category"] = rows["page_category"].where(rows["page_category"].notna(), None)
    keyed = rows.set_index("contact_id")
    for days in BEHAVIOUR_WINDOWS:
        name = f"engagement:{days}d"
        engaged = keyed[keyed["is_engagement"] == 1]
        columns[name] = engaged.groupby(level=0)[f"n_{days}"].sum()
        engagement[name] = days
    for event_type in sorted(rows["event_type"].unique()):
        typed = keyed[keyed["event_type"] == event_type]
        found = sorted(value for value in typed["page_category"].dropna().unique() if value)
        categories = [None, *found]
        for category in categories:
            subset = typed if category is None else typed[typed["page_category"] == category]
            for days in BEHAVIOUR_WINDOWS:
                name = f"events:{event_type}:{category or ''}:{days}d"
                columns[name] = subset.groupby(level=0)[f"n_{days}"].sum()
                behaviour[name] = (event_type, category, days)
    counts = pd.DataFrame(columns).fillna(0).rename_axis("contact_id").reset_index()
    return behaviour, engagement, counts
