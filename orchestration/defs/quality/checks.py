"""Dagster asset checks that guard the report, the exports and the syncs.

dbt's own tests already run inside `dbt build`: an error-severity test fails the dbt step, so
nothing downstream of dbt runs (row reconciliation is one of them). These checks add what a
single build cannot see: time and the previous refresh. Limits are data:
seeds/quality/data_quality_thresholds.csv.

Dagster's blocking stops only the assets that depend directly on the checked asset, so the
blocking checks sit on `dim_lead_segments`, the published mart every outward-facing asset
(report, exports, syncs) reads, whatever table they measure. Warning checks sit on the table
they look at and only report.

They sit on dbt models, not on raw tables, so they run only after the dbt step has finished
and read the warehouse read-only, as the report does; DuckDB allows one writer per file."""

from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.dbt.assets import dbt_key
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.asset_keys import WAREHOUSE_POOL
from orchestration.lib.dbt_manifest import crm_source, relation_name
from orchestration.lib.warehouse import WarehouseConnection
from orchestration.quality.quarantine import (
    likely_cause,
    load_shares,
    over_limit_message,
    quarantine_samples,
)


def thresholds(conn: WarehouseConnection) -> dict[str, float]:
    rows = conn.fetchall(f"select threshold, value from {relation_name('data_quality_thresholds')}")
    return {name: float(value) for name, value in rows}


@dg.asset_check(
    pool=WAREHOUSE_POOL,
    asset=dbt_key("stg_marketing__events"),
    name="events_are_fresh",
    description="Warns when the newest loaded event is older than max_event_age_hours.",
)
def events_are_fresh(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as conn:
        limit = thresholds(conn)["max_event_age_hours"]
        events = relation_name("stg_marketing__events")
        newest_load, newest_event = conn.fetchall(
            f"select max(_loaded_at), max(occurred_at) from {events}"
        )[0]
    now = datetime.now(UTC).replace(tzinfo=None)
    age_hours = None if newest_load is None else (now - newest_load).total_seconds() / 3600
    return dg.AssetCheckResult(
        passed=age_hours is not None and age_hours <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "hours_since_last_load": -1.0 if age_hours is None else round(age_hours, 2),
            "newest_event": str(newest_event),
            "limit_hours": limit,
        },
    )


# The gate in front of everything that leaves the warehouse.
GATED_MART = "dim_lead_segments"


@dg.asset_check(
    pool=WAREHOUSE_POOL,
    asset=dbt_key(GATED_MART),
    name="event_volume_is_normal",
    blocking=True,
    description="Blocks when the latest load grew the usable events by more than "
    "max_event_volume_growth (a batch that doubles every event), compared with before it.",
)
def event_volume_is_normal(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    if crm_source() != "generic":
        # A connector stamps each row with its own sync time: there are no loads to compare
        # (and Fivetran deduplicates re-synced rows by id itself).
        return dg.AssetCheckResult(
            passed=True,
            description=f"not applicable: the events are a {crm_source()} connector's tables",
            metadata={"crm_source": crm_source()},
        )
    events = relation_name("stg_marketing__events")
    with warehouse.connect(read_only=True) as conn:
        limit = thresholds(conn)["max_event_volume_growth"]
        total, before = conn.fetchall(
            "select count(*), "
            f"sum(case when _loaded_at < (select max(_loaded_at) from {events}) then 1 else 0 end) "
            f"from {events}"
        )[0]
    before = int(before or 0)
    growth = None if before == 0 else total / before
    return dg.AssetCheckResult(
        passed=growth is None or growth <= limit,
        metadata={
            "events": int(total),
            "events_before_latest_load": before,
            "growth": -1.0 if growth is None else round(growth, 4),
            "limit": limit,
        },
    )


@dg.asset_check(
    pool=WAREHOUSE_POOL,
    asset=dbt_key(GATED_MART),
    name="sql_share_is_stable",
    blocking=True,
    description="Blocks when the share of leads in the top stage (SQL) moved more than "
    "max_sql_share_change_points since the previous snapshot.",
)
def sql_share_is_stable(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    history = relation_name("fct_lead_score_history")
    bands = relation_name("stg_scoring__score_bands")
    with warehouse.connect(read_only=True) as conn:
        limit = thresholds(conn)["max_sql_share_change_points"]
        top = conn.fetchall(
            f"select label from {bands} where band_type = 'stage' order by band_rank desc limit 1"
        )[0][0]
        shares = conn.fetchall(
            "select as_of_date, "
            f"avg(case when lead_stage = {conn.placeholder} then 100.0 else 0 end) "
            f"from {history} group by as_of_date order by as_of_date desc limit 2",
            [top],
        )
    current = float(shares[0][1]) if shares else 0.0
    previous = float(shares[1][1]) if len(shares) > 1 else None
    change = None if previous is None else current - previous
    return dg.AssetCheckResult(
        passed=change is None or abs(change) <= limit,
        metadata={
            "sql_share_percent": round(current, 2),
            "previous_sql_share_percent": -1.0 if previous is None else round(previous, 2),
            "change_points": 0.0 if change is None else round(change, 2),
            "limit_points": limit,
        },
    )


@dg.asset_check(
    pool=WAREHOUSE_POOL,
    asset=dbt_key("fct_segment_summary"),
    name="segment_shares_within_bounds",
    description="Warns when one matrix segment holds more than max_segment_share of the leads.",
)
def segment_shares_within_bounds(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as conn:
        limit = thresholds(conn)["max_segment_share"]
        shares = conn.fetchall(
            f"select segment, share_of_leads from {relation_name('fct_segment_summary')}"
        )
    largest_segment, largest = max(shares, key=lambda row: row[1] or 0.0, default=("", 0.0))
    return dg.AssetCheckResult(
        passed=(largest or 0.0) <= limit,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "largest_segment": str(largest_segment),
            "largest_share": round(float(largest or 0.0), 4),
            "limit": limit,
        },
    )


@dg.asset_check(
    pool=WAREHOUSE_POOL,
    asset=dbt_key(GATED_MART),
    name="raw_rows_are_usable",
    blocking=True,
    description="Blocks when staging quarantined more than max_quarantined_share of a raw "
    "table's latest load (dates it cannot read, an id column not mapped), naming the table, "
    "the reason, the count and the likely cause.",
)
def raw_rows_are_usable(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as conn:
        shares = load_shares(conn)
        problems = [
            over_limit_message(share, likely_cause(share, quarantine_samples(conn, share)))
            for share in shares
            if share.over_limit
        ]
    return dg.AssetCheckResult(
        passed=not problems,
        description="\n".join(problems) if problems else "every raw load is mostly usable",
        metadata={
            **{f"{share.raw_table}_quarantined_share": round(share.share, 4) for share in shares},
            "tables_over_limit": len(problems),
        },
    )


@dg.asset_check(
    pool=WAREHOUSE_POOL,
    asset=dbt_key(GATED_MART),
    name="leads_were_scored",
    blocking=True,
    description="Blocks when the refresh scored no lead at all: a run that scored nothing is "
    "a failure, not a success.",
)
def leads_were_scored(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.connect(read_only=True) as conn:
        [(leads,)] = conn.fetchall(f"select count(*) from {relation_name('dim_leads')}")
        staged = conn.fetchall(
            f"select count(*), min(created_at) from {relation_name('stg_crm__contacts')}"
        )[0]
    if leads:
        description = f"{int(leads):,} leads scored"
    elif staged[0]:
        description = (
            f"No lead was scored: {int(staged[0]):,} contacts are staged, none created before "
            f"the end of the as-of date (the earliest was created {staged[1]}); score a later "
            "date (`leadscore run --as-of YYYY-MM-DD`)"
        )
    else:
        description = (
            "No lead was scored: no contact was staged (see the quarantine counts of "
            "`leadscore summary` and audit.audit_quarantine_share)"
        )
    return dg.AssetCheckResult(
        passed=bool(leads),
        description=description,
        metadata={"leads": int(leads), "staged_contacts": int(staged[0])},
    )


QUALITY_CHECKS = [
    events_are_fresh,
    event_volume_is_normal,
    sql_share_is_stable,
    segment_shares_within_bounds,
    raw_rows_are_usable,
    leads_were_scored,
]
