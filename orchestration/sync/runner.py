"""Run one destination's sync: read its row of the ``sync_destinations`` seed, build its
adapter from environment variables, and let the engine diff and send the payload model.
Used by the Dagster sync assets and by ``leadscore sync``.

Only the scores of the current as-of date leave the warehouse: the engine compares the
payload's scoring date with today (UTC) and skips a run for a past date unless
``allow_past_as_of`` is set (see ``engine.current_as_of_dates``)."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from orchestration.lib.dbt_manifest import model_meta, relation_name, relation_parts
from orchestration.lib.settings import Settings, load_settings
from orchestration.lib.warehouse import (
    DuckDBConnection,
    WarehouseConnection,
    connect,
    quote_ident,
    supports_row_changes,
)
from orchestration.sync.destinations import (
    DESTINATIONS,
    DestinationConfig,
    SyncConfigError,
    build_destination,
    is_configured,
    require_configured,
)
from orchestration.sync.destinations import DestinationSpec as DestinationSpec  # for defs/sync
from orchestration.sync.engine import (
    Destination,
    DestinationError,
    RateLimiter,
    RetryPolicy,
    SyncEngine,
    SyncOptions,
    SyncReport,
    current_as_of_dates,
)


def _clock() -> datetime:
    return datetime.now(UTC)


def run_sync(
    name: str,
    settings: Settings | None = None,
    *,
    dry_run: bool = False,
    full_resync: bool = False,
    allow_past_as_of: bool = False,
    run_started_at: datetime | None = None,
    now: datetime | None = None,
    env: Mapping[str, str] | None = None,
    log: logging.Logger | Any | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SyncReport:
    """Sync one destination. Raises NotConfiguredError when its variables are not set,
    SyncConfigError for a bad seed row, DestinationError when the destination cannot be
    reached or lacks fields (after the acknowledged rows were recorded), SyncThresholdError
    (a DestinationError) when more rows failed than the seed's max_rejected_share allows.
    A payload scored for a past date is not sent: the report's status is ``skipped`` with
    the reason, unless ``allow_past_as_of``. ``run_started_at`` (the Dagster run's start)
    keeps a refresh that crosses midnight current. On the spark target the ledger is kept in
    a DuckDB file beside the warehouse (``sync_state_path``)."""
    if name not in DESTINATIONS:
        raise SyncConfigError(f"unknown destination {name!r}; use one of {', '.join(DESTINATIONS)}")
    spec = DESTINATIONS[name]
    settings = settings or load_settings()
    env = os.environ if env is None else env
    log = log or logging.getLogger("leadscore.sync")
    schema, payload_table = relation_parts(spec.payload_model)
    unhashed = tuple((model_meta(spec.payload_model).get("sync") or {}).get("unhashed", ()))
    current_dates, current_note = current_as_of_dates(env, now or _clock(), run_started_at)
    guard = {
        "current_dates": current_dates,
        "current_note": current_note,
        "allow_past_as_of": allow_past_as_of,
    }

    if not supports_row_changes(settings.target):
        # Spark's Parquet tables have no DELETE or UPDATE, which the ledger needs: the ledger
        # lives in a DuckDB file beside the Spark warehouse, and each run copies the payload
        # mart into it (read through the warehouse resource, like every other mart).
        require_configured(name, env)
        with connect(settings, read_only=True) as conn:
            config = _destination_config(conn, name)
            payload = conn.fetch_arrow(f"select * from {relation_name(spec.payload_model)}")
        destination = build_destination(config, settings, env)
        with _sync_state(settings, schema, payload_table, payload) as state:
            return _run_engine(
                state, destination, config, schema, payload_table, unhashed, dry_run,
                full_resync, policy, sleep, log, guard,
            )  # fmt: skip

    with connect(settings) as conn:
        config = _destination_config(conn, name)
        destination = build_destination(config, settings, env)
        return _run_engine(
            conn, destination, config, schema, payload_table, unhashed, dry_run,
            full_resync, policy, sleep, log, guard,
        )  # fmt: skip


def erase_from_destinations(
    conn: WarehouseConnection,
    settings: Settings,
    *,
    contact_ids: Sequence[str],
    emails: Sequence[str],
    env: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Asks every configured destination that can delete (HubSpot's GDPR delete, Salesforce,
    the webhook's erase event, the PostgreSQL table) to remove a person; the files
    destination's files are rewritten by the erasure itself. A destination matched on email
    gets the emails, the others the contact ids. Returns destination -> what happened (counts
    only, never a key). Raises DestinationError or SyncConfigError naming the destination
    that failed; destinations are asked in a fixed order, so a rerun repeats the ones before
    it harmlessly (a delete of what is gone deletes nothing)."""
    env = os.environ if env is None else env
    outcomes: dict[str, str] = {}
    for name in DESTINATIONS:
        if name == "files":
            continue
        if not is_configured(name, env):
            outcomes[name] = "not configured"
            continue
        config = _destination_config(conn, name)
        destination = build_destination(config, settings, env)
        try:
            if not destination.supports_erase:
                outcomes[name] = "cannot delete: remove the person there by hand"
                continue
            keys = sorted(emails) if config.id_property == "email" else sorted(contact_ids)
            try:
                deleted = destination.erase(keys)
            except DestinationError as error:
                raise DestinationError(f"{name}: the deletion failed: {error}") from error
            outcomes[name] = f"deletion sent, {deleted} record(s) deleted or accepted"
        finally:
            destination.close()
    return outcomes


def _destination_config(conn: WarehouseConnection, name: str) -> DestinationConfig:
    rows = conn.fetch_dicts(
        f"select * from {relation_name('sync_destinations')} "
        f"where destination = {conn.placeholder}",
        [name],
    )
    if len(rows) != 1:
        raise SyncConfigError(
            f"the sync_destinations seed has {len(rows)} rows for {name!r}; it needs one"
        )
    return DestinationConfig.from_row(
        rows[0], default_sync_mode=DESTINATIONS[name].default_sync_mode
    )


def sync_state_path(settings: Settings) -> Path:
    """Where the sync ledger of a warehouse without DELETE/UPDATE (spark) is kept."""
    return settings.spark.dir / "sync_state.duckdb"


@contextmanager
def _sync_state(
    settings: Settings, schema: str, payload_table: str, payload: pa.Table
) -> Iterator[WarehouseConnection]:
    import duckdb

    path = sync_state_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = duckdb.connect(str(path))
    try:
        target = f"{quote_ident(schema)}.{quote_ident(payload_table)}"
        raw.execute(f"create schema if not exists {quote_ident(schema)}")
        raw.register("_leadscore_payload", payload)
        raw.execute(f"create or replace table {target} as select * from _leadscore_payload")
        raw.unregister("_leadscore_payload")
        yield DuckDBConnection(raw)
    finally:
        raw.close()


def _run_engine(
    conn: WarehouseConnection,
    destination: Destination,
    config: DestinationConfig,
    schema: str,
    payload_table: str,
    unhashed: tuple[str, ...],
    dry_run: bool,
    full_resync: bool,
    policy: RetryPolicy | None,
    sleep: Callable[[float], None],
    log: Any,
    guard: Mapping[str, Any],
) -> SyncReport:
    limiter = RateLimiter(config.max_requests_per_10s, 10.0, sleep=sleep)
    engine = SyncEngine(
        conn,
        destination,
        schema=schema,
        payload_table=payload_table,
        options=SyncOptions(
            dry_run=dry_run,
            full_resync=full_resync,
            batch_size=config.batch_size,
            unhashed=unhashed,
            max_rejected_share=config.max_rejected_share,
            **guard,
        ),
        policy=policy,
        limiter=limiter,
        log=log,
        sleep=sleep,
    )
    return engine.run()
