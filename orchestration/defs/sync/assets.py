"""One Dagster asset per sync destination (group `sync`).

Each depends directly on the published mart `dim_lead_segments`, so a failing blocking check
on it (a bad batch) stops every sync, and on its payload model. A destination whose
connection variables are not set is skipped with a log line saying which to set; a dry run
records an observation with the counts and a sample instead of a materialization.

Only the current as-of date is synced: in a run that scores a past date (a backfill through
`ops.leadscore_dbt_models.config.as_of_date`, a calibration snapshot through
LEADSCORE_AS_OF_DATE) every sync is skipped, with the reason in the log and in an
observation's metadata, unless the run config sets `allow_past_as_of`. A sync whose rejected
share passes the seed's `max_rejected_share` fails its asset after recording the run, so the
run-failure sensor alerts."""

from datetime import UTC, datetime

import dagster as dg

from orchestration.defs.dbt.assets import dbt_key
from orchestration.defs.quality.checks import GATED_MART
from orchestration.lib.asset_keys import DEFAULT_OWNERS, WAREHOUSE_POOL
from orchestration.sync.destinations import NotConfiguredError
from orchestration.sync.engine import SyncReport
from orchestration.sync.runner import DESTINATIONS, DestinationSpec, run_sync


class SyncConfig(dg.Config):
    dry_run: bool = False
    """Count what would be added, changed, left alone, removed or rejected as invalid, and
    show a sample, without sending anything or touching the ledger."""
    full_resync: bool = False
    """Send every row again, changed or not (e.g. after the destination was restored)."""
    allow_past_as_of: bool = False
    """Send the payload even when it is scored for a past date (a deliberate choice: by
    default a backfill, calibration or backtest run never syncs)."""


def sync_asset_key(destination: str) -> dg.AssetKey:
    return dg.AssetKey(["sync", destination])


def report_metadata(report: SyncReport) -> dict[str, dg.MetadataValue]:
    return {
        "sent": dg.MetadataValue.int(report.rows_sent),
        "unchanged": dg.MetadataValue.int(report.rows_unchanged),
        "failed": dg.MetadataValue.int(report.rows_failed),
        "duration_seconds": dg.MetadataValue.float(round(report.duration_seconds, 3)),
        "added": dg.MetadataValue.int(report.rows_added),
        "changed": dg.MetadataValue.int(report.rows_changed),
        "removed": dg.MetadataValue.int(report.rows_removed),
        "acknowledged": dg.MetadataValue.int(report.rows_acknowledged),
        "rejected": dg.MetadataValue.int(report.rows_rejected),
        "refused": dg.MetadataValue.int(report.rows_refused),
        "invalid": dg.MetadataValue.int(report.rows_invalid),
        "deferred": dg.MetadataValue.int(report.rows_deferred),
        "api_calls": dg.MetadataValue.int(report.api_calls),
        "mode": dg.MetadataValue.text(report.mode),
        "status": dg.MetadataValue.text(report.status),
        "sync_run_id": dg.MetadataValue.text(report.run_id),
        "as_of_date": dg.MetadataValue.text(
            report.as_of_date.isoformat() if report.as_of_date else ""
        ),
        "first_reasons": dg.MetadataValue.text(report.reasons_text()),
    }


def _run_started_at(context: dg.AssetExecutionContext) -> datetime | None:
    """When the Dagster run started (a refresh that crosses midnight stays current)."""
    try:
        record = context.instance.get_run_record_by_id(context.run_id)
    except Exception:  # an instance without run records: fall back to now
        return None
    if record is None or record.start_time is None:
        return None
    return datetime.fromtimestamp(record.start_time, UTC)


def build_sync_asset(spec: DestinationSpec) -> dg.AssetsDefinition:
    key = sync_asset_key(spec.name)

    @dg.multi_asset(
        name=f"sync_{spec.name}",
        specs=[
            dg.AssetSpec(
                key=key,
                deps=[dbt_key(GATED_MART), dbt_key(spec.payload_model)],
                group_name="sync",
                kinds={spec.kind},
                owners=DEFAULT_OWNERS,
                description=spec.description,
                metadata={"payload_model": spec.payload_model},
                skippable=True,
            )
        ],
        pool=WAREHOUSE_POOL,
    )
    def _sync(context: dg.AssetExecutionContext, config: SyncConfig):
        try:
            report = run_sync(
                spec.name,
                dry_run=config.dry_run,
                full_resync=config.full_resync,
                allow_past_as_of=config.allow_past_as_of,
                run_started_at=_run_started_at(context),
                log=context.log,
            )
        except NotConfiguredError as reason:
            context.log.info(f"sync skipped: {reason}")
            return
        if report.status == "skipped":
            # Nothing was sent: an observation (like a dry run), not a materialization.
            context.log.warning(f"sync skipped: {report.skip_reason}")
            context.log_event(
                dg.AssetObservation(
                    asset_key=key,
                    metadata={
                        **report_metadata(report),
                        "skip_reason": dg.MetadataValue.text(report.skip_reason or ""),
                    },
                )
            )
            return
        if report.mode == "dry_run":
            context.log_event(
                dg.AssetObservation(
                    asset_key=key,
                    metadata={
                        **report_metadata(report),
                        "sample": dg.MetadataValue.json(report.sample),
                    },
                )
            )
            return
        yield dg.MaterializeResult(asset_key=key, metadata=report_metadata(report))

    return _sync


SYNC_ASSETS = [build_sync_asset(spec) for spec in DESTINATIONS.values()]
