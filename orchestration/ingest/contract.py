"""The raw contract: which landing tables exist and the columns every file of each must have.

dbt documents the same contract in ``dbt_project/models/staging/*/_*__sources.yml``; a test
checks the two agree. Files may carry extra columns: they are kept in the raw table.
"""

from __future__ import annotations

import re

RAW_CONTRACT: dict[str, tuple[str, ...]] = {
    "crm_companies": (
        "company_id",
        "name",
        "domain",
        "industry",
        "employee_count",
        "annual_revenue",
        "country",
        "created_at",
        "updated_at",
    ),
    "crm_contacts": (
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
    ),
    "marketing_events": (
        "event_id",
        "contact_id",
        "email",
        "event_type",
        "page_url",
        "page_category",
        "campaign_id",
        "occurred_at",
    ),
    "crm_deals": (
        "deal_id",
        "contact_id",
        "company_id",
        "amount",
        "stage",
        "is_closed",
        "is_won",
        "created_at",
        "closed_at",
    ),
    "crm_owners": ("owner_id", "name", "email", "team", "region"),
}

# The columns of the raw contract that hold timestamps (ISO 8601; staging parses them). The
# loader converts a value with a UTC offset (2026-11-20T10:00:00+05:30, -0800, Z) to UTC text
# (2026-11-20 04:30:00); a value without one is UTC already and stays as it is.
TIMESTAMP_COLUMNS: dict[str, tuple[str, ...]] = {
    "crm_companies": ("created_at", "updated_at"),
    "crm_contacts": ("created_at", "updated_at"),
    "marketing_events": ("occurred_at",),
    "crm_deals": ("created_at", "closed_at"),
    "crm_owners": (),
}

# Lineage columns the loader adds to every raw row. (_file_id, _source_row) identifies a raw
# row for good: quarantine and staging models carry it so any row can be traced to its file.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("_file_id", "bigint"),
    ("_source_file", "varchar"),
    ("_source_row", "bigint"),
    ("_loaded_at", "timestamp"),
)

MANIFEST_TABLE = "_ingest_manifest"
SUPPORTED_SUFFIXES = (".csv", ".parquet")


def normalise_column_name(name: str) -> str:
    """Lower snake case, so `Contact ID` and `contact_id` land in the same raw column."""
    return re.sub(r"[^a-z0-9_]+", "_", name.strip().lower()).strip("_")
