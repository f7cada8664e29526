"""One Dagster asset per sync destination (group `sync`).

Each depends directly on the published mart `mart_lead_segments`, so a failing blocking check
on it (a bad batch) stops every sync, and on its payload model. A destination whose
connection variables are not set is skipped with a log line saying which to set; a dry run
records an observation with the counts and a sample instead of a materialization."""

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
        "invalid": dg.MetadataValue.int(report.rows_invalid),
        "deferred": dg.MetadataValue.int(report.rows_deferred),
        "api_calls": dg.MetadataValue.int(report.api_calls),
        "mode": dg.MetadataValue.text(report.mode),
        "status": dg.MetadataValue.text(report.status),
        "sync_run_id": dg.MetadataValue.text(report.run_id),
    }


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
                log=context.log,
            )
        except NotConfiguredError as reason:
            context.log.info(f"sync skipped: {reason}")
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
