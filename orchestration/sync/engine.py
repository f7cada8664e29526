"""The sync engine: diff a payload model against the ledger, send what changed, record it.

One engine serves every destination; a destination is a small adapter (see ``destinations``)
that knows how to send one batch and how its API reports errors. The engine owns the rest:

* **Diff.** The payload model (``sync_<destination>__*``) is hashed row by row in the
  warehouse and compared with ``sync_ledger``, which holds, per destination and key, the hash
  of what the destination last acknowledged. Only added and changed rows leave the warehouse;
  a run with nothing changed makes no call at all.
* **Delivery.** Batches of the destination's size, a client-side rate limit, retries with
  exponential back-off on 429, 5xx and timeouts (honouring ``Retry-After``), and a batch the
  destination refuses as a whole is split in halves until the bad rows are isolated.
* **Safety.** The ledger advances per batch, in one transaction with the row log, and only
  for rows the destination acknowledged. A crash loses at most the acknowledgement of the batch
  in flight; that batch is sent again on the next run, and every destination upserts by key,
  so sending the same values twice leaves the same state. Rejected rows keep their old ledger
  entry (or none), so later runs retry them.
* **History.** ``sync_runs`` (one row per run) and ``sync_row_log`` (one row per row sent,
  rejected, refused or invalid, with the error) sit next to the payload models for BI.
* **Guards.** Only the scores of the current as-of date are sent: a payload scored for a past
  date (a backfill, a calibration snapshot, a backtest) is skipped with the reason unless the
  run explicitly allows it (``allow_past_as_of``). Destinations that can check their fields
  first (HubSpot, Salesforce) do so once before the first batch and stop with one message
  naming what is missing. A run whose share of rejected and invalid rows passes the
  destination's ``max_rejected_share`` is recorded and then fails.

Log lines carry counts only: keys can be email addresses and API error messages can quote
them, so those go to ``sync_row_log`` in the warehouse, never to the log.
"""

from __future__ import annotations

import logging
import random
import re
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from orchestration.lib.warehouse import WarehouseConnection, quote_ident, supports_row_changes

LEDGER_TABLE = "sync_ledger"
PENDING_TABLE = "sync_ledger_pending"
RUNS_TABLE = "sync_runs"
ROW_LOG_TABLE = "sync_row_log"
KEY_COLUMN = "sync_key"
# Columns the engine adds to the payload while diffing; never sent.
_HASH = "_payload_hash"
_CHANGE = "_change"
_KEY_COUNT = "_key_count"
# The run's diff, computed once (a temporary table: gone with the connection).
_DIFF_TABLE = "_leadscore_sync_diff"


class RetryableError(Exception):
    """The call failed in a way that may pass later (429, 5xx, timeout, connection lost)."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class BatchRejectedError(Exception):
    """The destination refused the whole batch (a 4xx): split it to find the rows at fault.
    ``code`` names the kind of error (status and the API's error code) without the message,
    which may quote personal data."""

    def __init__(self, message: str, code: str | None = None):
        super().__init__(message)
        self.code = code


class DestinationError(Exception):
    """The sync cannot go on: bad credentials, misconfiguration, or retries exhausted."""


class PreflightError(DestinationError):
    """The destination lacks fields the payload sends (found before any batch was sent)."""


class SyncThresholdError(DestinationError):
    """More rows were rejected or invalid than the destination's ``max_rejected_share``
    allows. Raised after the run and its acknowledged rows were recorded."""


class SyncStateUnsupportedError(DestinationError):
    """The warehouse cannot hold the sync state: the ledger and the run history are
    maintained with DELETE and UPDATE, which Spark's Parquet tables do not have."""


def require_sync_state_support(target: str) -> None:
    """Fail before anything is read or sent when the warehouse cannot keep sync state."""
    if not supports_row_changes(target):
        raise SyncStateUnsupportedError(
            f"syncs are not available on the {target} target: sync state ({LEDGER_TABLE}, "
            f"{PENDING_TABLE}, {RUNS_TABLE}, {ROW_LOG_TABLE}) needs a warehouse with DELETE "
            "and UPDATE (DuckDB, PostgreSQL, or Spark with Delta Lake tables); the spark "
            "target's tables are Parquet files, which have neither"
        )


@dataclass(frozen=True)
class SyncRecord:
    key: str
    values: Mapping[str, Any]
    payload_hash: str
    change: str  # added | changed | unchanged (sent again by a full resync)


@dataclass(frozen=True)
class Rejection:
    """A row the destination did not take. ``code`` is the kind of error for summaries (an
    API error code, never a message that may quote personal data). ``refused`` marks a row
    the sync mode refuses by design (an update of a record the destination does not have, an
    insert of one it has): it is logged with the reason, counts as neither acknowledged nor
    failed, and is sent again only when its values change (or by a full resync)."""

    key: str
    error: str
    code: str | None = None
    refused: bool = False


class Destination:
    """What an adapter implements. ``send`` returns the rows the destination rejected (the
    others count as acknowledged) or raises one of the errors above."""

    name: str = "destination"
    max_batch_size: int = 100
    supports_delete: bool = False
    # True when ``preflight`` calls the destination (then once per run, before the first batch).
    has_preflight: bool = False
    # True when the adapter reports each HTTP request itself through ``on_request`` (one
    # batch may take more than one request); otherwise the engine counts one per call.
    counts_own_requests: bool = False
    # Set by the engine: wait for the rate limiter and count the call.
    on_request: Callable[[], None] | None = None

    def prepare(self, schema: pa.Schema) -> None:
        """Called once per run before the first batch, with the payload's columns."""

    def preflight(self) -> None:
        """Check that the destination has every field the payload sends; raise
        PreflightError naming what is missing and how to create it."""

    def validate(self, record: SyncRecord) -> str | None:
        """Why the row cannot be sent (e.g. the key is not an email address), or None."""
        return None

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        raise NotImplementedError

    def delete(self, keys: Sequence[str]) -> None:
        raise NotImplementedError

    # True when ``erase`` can remove a person from the destination (``leadscore forget``).
    supports_erase: bool = False

    def erase(self, keys: Sequence[str]) -> int:
        """Delete the records of these keys for good (a person asked to be forgotten); returns
        how many records the destination deleted, or accepted for deletion. Raises one of the
        errors above when it cannot."""
        raise NotImplementedError

    def close(self) -> None:
        """Release connections."""


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 60.0
    # A Retry-After longer than this ends the run (the rows are retried by the next run).
    max_retry_after: float = 300.0

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Exponential back-off with full jitter: 0..base*2^(attempt-1), capped."""
        return rng.uniform(0, min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


class RateLimiter:
    """At most ``max_calls`` calls in any window of ``per_seconds`` (a sliding window)."""

    def __init__(
        self,
        max_calls: int | None,
        per_seconds: float = 10.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.max_calls = max_calls
        self.per_seconds = per_seconds
        self._clock = clock
        self._sleep = sleep
        self._calls: deque[float] = deque()
        self.waited_seconds = 0.0

    def acquire(self) -> None:
        if not self.max_calls:
            return
        now = self._clock()
        while self._calls and now - self._calls[0] >= self.per_seconds:
            self._calls.popleft()
        if len(self._calls) >= self.max_calls:
            wait = self.per_seconds - (now - self._calls[0])
            if wait > 0:
                self.waited_seconds += wait
                self._sleep(wait)
            self._calls.popleft()
        self._calls.append(self._clock())


@dataclass(frozen=True)
class SyncOptions:
    dry_run: bool = False
    full_resync: bool = False
    batch_size: int | None = None
    sample_size: int = 5
    unhashed: tuple[str, ...] = ()
    # The scoring dates that count as current (see ``current_as_of_dates``); None: no check.
    current_dates: frozenset[date] | None = None
    # How the current dates were decided, for the skip message.
    current_note: str = ""
    # Send a payload scored for another date anyway (a deliberate choice).
    allow_past_as_of: bool = False
    # Fail the run above this share of rejected + invalid rows; None: never.
    max_rejected_share: float | None = None


AS_OF_ENV = "LEADSCORE_AS_OF_DATE"


def current_as_of_dates(
    env: Mapping[str, str], now: datetime, run_started_at: datetime | None = None
) -> tuple[frozenset[date], str]:
    """The scoring dates a sync may send, and a note saying why.

    Current is today in UTC, and the day before when the run started then (a refresh that
    crosses midnight scored the day it started). ``LEADSCORE_AS_OF_DATE`` pins the scoring
    date of a run; it counts as current only when it is not before the day the run started:
    a past value is exactly how docs/calibration.md backfills a calibration snapshot
    (``LEADSCORE_AS_OF_DATE=$(date -u -d '-90 days' +%F) leadscore run``), which must not
    overwrite the destinations with 90-day-old scores."""
    now = now.astimezone(UTC) if now.tzinfo else now.replace(tzinfo=UTC)
    started = run_started_at or now
    started = started.astimezone(UTC) if started.tzinfo else started.replace(tzinfo=UTC)
    today = now.date()
    first = started.date() if timedelta(0) <= today - started.date() <= timedelta(days=1) else today
    dates = {first, today}
    note = f"today in UTC ({today.isoformat()})"
    pinned = (env.get(AS_OF_ENV) or "").strip()
    if pinned:
        try:
            pinned_date = date.fromisoformat(pinned)
        except ValueError:
            pinned_date = None
        if pinned_date is not None and pinned_date >= first:
            dates.add(pinned_date)
            note += f" or {AS_OF_ENV} ({pinned_date.isoformat()})"
        else:
            note += f"; {AS_OF_ENV}={pinned} is in the past, so it is a backfill"
    return frozenset(dates), note


@dataclass
class SyncReport:
    destination: str
    run_id: str
    mode: str
    status: str = "running"
    rows_total: int = 0
    rows_added: int = 0
    rows_changed: int = 0
    rows_unchanged: int = 0
    rows_removed: int = 0
    rows_invalid: int = 0
    rows_sent: int = 0
    rows_acknowledged: int = 0
    rows_rejected: int = 0
    rows_refused: int = 0
    rows_deferred: int = 0
    api_calls: int = 0
    duration_seconds: float = 0.0
    error: str | None = None
    as_of_date: date | None = None
    skip_reason: str | None = None
    # The most frequent kinds of rejected and invalid rows, with counts (no personal data).
    reasons: list[tuple[str, int]] = field(default_factory=list)
    sample: list[dict[str, Any]] = field(default_factory=list)

    @property
    def rows_failed(self) -> int:
        """Rows that should have reached the destination and did not (yet)."""
        return self.rows_rejected + self.rows_invalid + self.rows_deferred

    def reasons_text(self, limit: int = 3) -> str:
        return "; ".join(f"{reason} ({n:,})" for reason, n in self.reasons[:limit])

    def summary(self) -> str:
        if self.status == "skipped":
            return f"{self.destination}: skipped: {self.skip_reason}"
        if self.mode == "dry_run":
            return (
                f"{self.destination} (dry run): would add {self.rows_added:,}, change "
                f"{self.rows_changed:,}, leave {self.rows_unchanged:,} unchanged, remove "
                f"{self.rows_removed:,}; {self.rows_invalid:,} invalid"
            )
        return (
            f"{self.destination}: sent {self.rows_sent:,} ({self.rows_added:,} added, "
            f"{self.rows_changed:,} changed), {self.rows_unchanged:,} unchanged, "
            f"{self.rows_acknowledged:,} acknowledged, {self.rows_rejected:,} rejected, "
            f"{self.rows_refused:,} refused, {self.rows_invalid:,} invalid, "
            f"{self.rows_deferred:,} deferred, {self.rows_removed:,} removed; "
            f"{self.api_calls:,} calls in {self.duration_seconds:.1f}s"
            + (f"; first reasons: {self.reasons_text()}" if self.reasons else "")
        )


_NUMBERS = re.compile(r"\d+")


def _reason_kind(reason: str) -> str:
    """An invalid-row reason without its numbers, so equal reasons group together."""
    return _NUMBERS.sub("N", reason)


def mask_key(key: str | None) -> str | None:
    """A key fit for a sample shown outside the warehouse: emails keep their domain only."""
    if key is None or "@" not in key:
        return key
    local, _, domain = key.partition("@")
    return f"{local[:1]}***@{domain}"


def _json_ready(value: Any) -> Any:
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def ensure_sync_tables(conn: WarehouseConnection, schema: str) -> None:
    """The ledger, run history and row log (created once, next to the payload models)."""
    require_sync_state_support(conn.dialect)
    s = quote_ident(schema)
    conn.execute(f"create schema if not exists {s}")
    conn.execute(
        f"create table if not exists {s}.{LEDGER_TABLE} ("
        "destination varchar not null, sync_key varchar not null, "
        "payload_hash varchar not null, acknowledged_at timestamp not null, "
        "run_id varchar not null, primary key (destination, sync_key))"
    )
    conn.execute(
        f"create table if not exists {s}.{PENDING_TABLE} ("
        "run_id varchar not null, destination varchar not null, sync_key varchar not null, "
        "payload_hash varchar not null, acknowledged_at timestamp not null)"
    )
    conn.execute(
        f"create table if not exists {s}.{RUNS_TABLE} ("
        "run_id varchar primary key, destination varchar not null, mode varchar not null, "
        "status varchar not null, started_at timestamp not null, finished_at timestamp, "
        "duration_seconds double precision, rows_total bigint, rows_added bigint, "
        "rows_changed bigint, rows_unchanged bigint, rows_removed bigint, "
        "rows_invalid bigint, rows_sent bigint, rows_acknowledged bigint, "
        "rows_rejected bigint, rows_deferred bigint, api_calls bigint, error varchar, "
        "rows_refused bigint, as_of_date date, skip_reason varchar)"
    )
    # Columns added after the first release: tables created earlier get them here.
    present = set(conn.table_columns(schema, RUNS_TABLE))
    conn.add_columns(
        schema,
        RUNS_TABLE,
        [
            (name, kind)
            for name, kind in (
                ("rows_refused", "bigint"),
                ("as_of_date", "date"),
                ("skip_reason", "varchar"),
            )
            if name not in present
        ],
    )
    conn.execute(
        f"create table if not exists {s}.{ROW_LOG_TABLE} ("
        "run_id varchar not null, destination varchar not null, sync_key varchar, "
        "change varchar not null, outcome varchar not null, error varchar, "
        "payload_hash varchar, logged_at timestamp not null)"
    )


def payload_hash_sql(columns: Sequence[str]) -> str:
    """md5 over the columns, each cast to text and tagged so NULL differs from any value."""
    parts = [f"coalesce('v' || cast({quote_ident(column)} as varchar), 'n')" for column in columns]
    return "md5(" + " || chr(31) || ".join(parts) + ")"


class SyncEngine:
    def __init__(
        self,
        conn: WarehouseConnection,
        destination: Destination,
        *,
        schema: str,
        payload_table: str,
        options: SyncOptions | None = None,
        policy: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
        log: logging.Logger | Any | None = None,
        sleep: Callable[[float], None] = time.sleep,
        seed: int | None = None,
    ):
        require_sync_state_support(conn.dialect)
        self.conn = conn
        self.destination = destination
        self.schema = schema
        self.payload_table = payload_table
        self.options = options or SyncOptions()
        self.policy = policy or RetryPolicy()
        self.limiter = limiter or RateLimiter(None)
        self.log = log or logging.getLogger(__name__)
        self._sleep = sleep
        self._rng = random.Random(seed)
        self._s = quote_ident(schema)
        self.payload = f"{self._s}.{quote_ident(payload_table)}"
        self._report: SyncReport | None = None
        self._reasons: Counter[str] = Counter()
        destination.on_request = self._count_request

    # -- public -----------------------------------------------------------------------------

    def run(self) -> SyncReport:
        mode = (
            "dry_run"
            if self.options.dry_run
            else ("full_resync" if self.options.full_resync else "incremental")
        )
        report = SyncReport(self.destination.name, uuid.uuid4().hex, mode)
        self._report = report
        started = time.monotonic()
        started_at = _utcnow()
        ensure_sync_tables(self.conn, self.schema)
        self._start_run(report, started_at)
        try:
            skip_reason = self._as_of_skip_reason(report)
            if skip_reason is None:
                self._run(report)
            else:
                report.status = "skipped"
                report.skip_reason = skip_reason
                self.log.warning(report.summary())
        except BaseException as error:
            report.status = "failed"
            report.error = f"{type(error).__name__}: {error}"[:2000]
            raise
        finally:
            self.conn.execute(f"drop table if exists {_DIFF_TABLE}")
            report.duration_seconds = time.monotonic() - started
            self._finish_run(report)
            self.destination.close()
        return report

    # -- steps ------------------------------------------------------------------------------

    def _run(self, report: SyncReport) -> None:
        name = self.destination.name
        columns = self._payload_columns()
        counts, changed = self._diff(columns)
        report.rows_total = sum(counts.values())
        report.rows_unchanged = counts.get("unchanged", 0)
        removed = self._removed_keys()
        report.rows_removed = len(removed)

        self.destination.prepare(changed.schema.remove(changed.schema.get_field_index(_HASH)))
        valid: list[SyncRecord] = []
        invalid: list[tuple[SyncRecord, str]] = []
        for record, duplicates in self._records(changed):
            reason = self._invalid_reason(record, duplicates)
            if reason is None:
                valid.append(record)
            else:
                invalid.append((record, reason))
        report.rows_invalid = len(invalid)
        report.rows_added = sum(1 for r in valid if r.change == "added")
        report.rows_changed = sum(1 for r in valid if r.change == "changed")
        if self.options.full_resync:
            # Unchanged rows are sent again; they still count as unchanged.
            report.rows_unchanged = sum(1 for r in valid if r.change == "unchanged")

        if self.options.dry_run:
            report.sample = [
                {KEY_COLUMN: mask_key(r.key), "change": r.change, **r.values}
                for r in valid[: self.options.sample_size]
            ]
            report.status = "dry_run"
            self.log.info(report.summary())
            return

        if invalid:
            self._write_row_log(
                report.run_id,
                [(r.key, r.change, "invalid", reason, r.payload_hash) for r, reason in invalid],
            )
            self.log.warning(
                f"{name}: {len(invalid):,} rows are invalid and were not sent "
                f"(reasons per row in {self.schema}.{ROW_LOG_TABLE})"
            )

        self.log.info(
            f"{name}: {len(valid):,} rows to send ({report.rows_added:,} added, "
            f"{report.rows_changed:,} changed), {report.rows_unchanged:,} unchanged"
        )
        if valid and self.destination.has_preflight:
            try:
                self._call(report, self.destination.preflight)
            except DestinationError as error:
                report.rows_deferred = len(valid)
                self.log.error(f"{name}: stopped before sending: {error}")
                raise
        self._send_all(report, valid)
        if report.error is None and removed:
            self._remove(report, removed)
        counted_invalid = self._new_invalid(report.run_id, invalid)
        for reason in counted_invalid:
            self._reasons[f"invalid: {_reason_kind(reason)}"] += 1
        report.reasons = self._reasons.most_common()
        if report.error is not None:
            report.status = "failed"
        elif report.rows_rejected or report.rows_invalid:
            report.status = "partial"
        else:
            report.status = "success"
        if report.error is None:
            self._check_threshold(report, len(counted_invalid))
        self.log.info(report.summary())
        if report.error is not None:
            raise DestinationError(report.error)

    # -- guards -----------------------------------------------------------------------------

    def _as_of_column(self) -> str | None:
        """The payload's scoring date: the date column among ``meta.sync.unhashed``, by its
        declared type (an empty PostgreSQL result carries no types to read)."""
        declared = self.conn.column_types(self.schema, self.payload_table)
        for name in self.options.unhashed:
            if declared.get(name, "").startswith(("date", "timestamp")):
                return name
        return None

    def _as_of_skip_reason(self, report: SyncReport) -> str | None:
        """Why this payload must not be sent (its scores are not of the current date), or
        None. Runs before anything is diffed or sent."""
        if self.options.current_dates is None:
            return None
        columns = self.conn.table_columns(self.schema, self.payload_table)
        if not columns:
            return None  # _run reports the missing model
        column = self._as_of_column()
        if column is None:
            if self.options.allow_past_as_of:
                return None
            return (
                f"cannot tell which date the scores of {self.payload} are for: list its "
                "scoring date column in the model's meta.sync.unhashed (or allow past "
                "as-of dates explicitly)"
            )
        low, high = self.conn.fetchall(
            f"select min({quote_ident(column)}), max({quote_ident(column)}) from {self.payload}"
        )[0]
        if high is None:
            return None  # an empty payload sends nothing
        low, high = (v.date() if isinstance(v, datetime) else v for v in (low, high))
        report.as_of_date = high
        if self.options.allow_past_as_of:
            if high not in self.options.current_dates:
                self.log.warning(
                    f"{self.destination.name}: sending scores as of {high.isoformat()}, not "
                    f"the current date ({self.options.current_note}), because past as-of "
                    "dates are allowed for this run"
                )
            return None
        if low != high:
            return (
                f"the payload mixes scoring dates ({low.isoformat()} to {high.isoformat()}); "
                "nothing is sent until a refresh scores every lead for today"
            )
        if high in self.options.current_dates:
            return None
        return (
            f"the scores are as of {high.isoformat()}, not the current date "
            f"({self.options.current_note}): a run for a past date (backfill, calibration, "
            "backtest) never syncs. The next refresh for today syncs; to send these scores "
            "anyway pass --allow-past-as-of to `leadscore sync` (Dagster: run config "
            "allow_past_as_of: true on the sync assets)"
        )

    def _new_invalid(self, run_id: str, invalid: Sequence[tuple[SyncRecord, str]]) -> list[str]:
        """The reasons of the invalid rows an earlier run did not already report with the same
        key and values: those are a known, unchanged problem, still logged every run but not
        counted again against max_rejected_share."""
        if not invalid:
            return []
        known = {
            (key, payload_hash)
            for key, payload_hash in self.conn.fetchall(
                f"select distinct sync_key, payload_hash from {self._s}.{ROW_LOG_TABLE} "
                f"where destination = {self._literal()} and outcome = 'invalid' "
                f"and run_id <> {self.conn.placeholder}",
                [run_id],
            )
        }
        return [reason for r, reason in invalid if (r.key, r.payload_hash) not in known]

    def _check_threshold(self, report: SyncReport, counted_invalid: int) -> None:
        limit = self.options.max_rejected_share
        attempted = report.rows_sent + counted_invalid
        failed = report.rows_rejected + counted_invalid
        if limit is None or not attempted or failed / attempted <= limit:
            return
        report.status = "failed"
        report.error = (
            f"{report.destination}: {failed:,} of {attempted:,} rows failed "
            f"({failed / attempted:.1%}: {report.rows_rejected:,} rejected by the destination, "
            f"{counted_invalid:,} newly invalid), more than max_rejected_share "
            f"{limit:.0%} of the sync_destinations seed; first reasons: "
            f"{report.reasons_text()}. The acknowledged rows were recorded; the error of each "
            f"row is in {self.schema}.{ROW_LOG_TABLE} (run {report.run_id})"
        )
        self.log.error(report.error)
        raise SyncThresholdError(report.error)

    def _payload_columns(self) -> list[str]:
        columns = self.conn.table_columns(self.schema, self.payload_table)
        if not columns:
            raise DestinationError(f"payload model {self.payload} not found; run dbt build first")
        if KEY_COLUMN not in columns:
            raise DestinationError(f"payload model {self.payload} has no {KEY_COLUMN} column")
        unknown = set(self.options.unhashed) - set(columns)
        if unknown:
            raise DestinationError(
                f"meta.sync.unhashed of {self.payload} names columns it does not have: "
                f"{', '.join(sorted(unknown))}"
            )
        return columns

    def _diff_sql(self, columns: Sequence[str]) -> str:
        hashed = [c for c in columns if c not in self.options.unhashed]
        return (
            f"with payload as (select *, {payload_hash_sql(hashed)} as {_HASH}, "
            f"count(*) over (partition by {KEY_COLUMN}) as {_KEY_COUNT} from {self.payload}), "
            f"ledger as (select sync_key as ledger_key, payload_hash as ledger_hash "
            f"from {self._s}.{LEDGER_TABLE} where destination = {self._literal()}) "
            f"select payload.*, case when ledger.ledger_key is null then 'added' "
            f"when ledger.ledger_hash <> payload.{_HASH} then 'changed' "
            f"else 'unchanged' end as {_CHANGE} "
            f"from payload left join ledger on payload.{KEY_COLUMN} = ledger.ledger_key"
        )

    def _literal(self) -> str:
        return "'" + self.destination.name.replace("'", "''") + "'"

    def _diff(self, columns: Sequence[str]) -> tuple[dict[str, int], pa.Table]:
        """Hash the payload and compare it with the ledger once, into a temporary table that
        the counts, the rows to send and the removed keys are read from."""
        self.conn.execute(f"drop table if exists {_DIFF_TABLE}")
        self.conn.execute(f"create temporary table {_DIFF_TABLE} as {self._diff_sql(columns)}")
        counts = {
            change: int(n)
            for change, n in self.conn.fetchall(
                f"select {_CHANGE}, count(*) from {_DIFF_TABLE} group by {_CHANGE}"
            )
        }
        where = "" if self.options.full_resync else f"where {_CHANGE} <> 'unchanged'"
        changed = self.conn.fetch_arrow(
            f"select * from {_DIFF_TABLE} {where} order by {KEY_COLUMN}"
        )
        return counts, changed

    def _removed_keys(self) -> list[str]:
        rows = self.conn.fetchall(
            f"select sync_key from {self._s}.{LEDGER_TABLE} as ledger "
            f"where destination = {self._literal()} and not exists ("
            f"select 1 from {_DIFF_TABLE} as diff "
            f"where diff.{KEY_COLUMN} = ledger.sync_key) order by sync_key"
        )
        return [key for (key,) in rows]

    def _records(self, table: pa.Table) -> Iterator[tuple[SyncRecord, int]]:
        internal = {KEY_COLUMN, _HASH, _CHANGE, _KEY_COUNT}
        for chunk in table.to_batches(max_chunksize=10_000):
            for row in chunk.to_pylist():
                values = {k: _json_ready(v) for k, v in row.items() if k not in internal}
                key = row[KEY_COLUMN]
                record = SyncRecord(
                    key=None if key is None else str(key),
                    values=values,
                    payload_hash=row[_HASH],
                    change=row[_CHANGE],
                )
                yield record, int(row[_KEY_COUNT])

    def _invalid_reason(self, record: SyncRecord, rows_with_key: int) -> str | None:
        if record.key is None or not record.key.strip():
            return f"no {KEY_COLUMN}: the lead has no value for the destination's matching key"
        if rows_with_key > 1:
            return f"{rows_with_key} rows of the payload share this {KEY_COLUMN}"
        return self.destination.validate(record)

    # -- delivery ---------------------------------------------------------------------------

    def _batch_size(self) -> int:
        size = self.options.batch_size or self.destination.max_batch_size
        return max(1, min(size, self.destination.max_batch_size))

    def _send_all(self, report: SyncReport, records: list[SyncRecord]) -> None:
        size = self._batch_size()
        total = len(records)
        next_progress = 0.0
        for start in range(0, total, size):
            batch = records[start : start + size]
            if report.error is not None:
                report.rows_deferred += len(batch)
                continue
            report.rows_sent += len(batch)
            try:
                rejected = self._deliver(report, batch)
            except DestinationError as error:
                report.error = str(error)
                report.rows_sent -= len(batch)
                report.rows_deferred += len(batch)
                self.log.error(
                    f"{self.destination.name}: stopped: {error}; "
                    f"{total - start:,} rows are left for the next run"
                )
                continue
            self._commit(report, batch, rejected)
            done = start + len(batch)
            if done / total >= next_progress or done == total:
                self.log.info(
                    f"{self.destination.name}: {done:,}/{total:,} rows sent "
                    f"({done / total:.0%}), {report.rows_rejected:,} rejected so far"
                )
                next_progress = done / total + 0.1

    def _deliver(self, report: SyncReport, batch: Sequence[SyncRecord]) -> dict[str, Rejection]:
        """Send a batch; a batch refused as a whole is split until the bad rows stand alone."""
        try:
            rejections = self._call(report, lambda: self.destination.send(batch))
        except BatchRejectedError as error:
            if len(batch) == 1:
                code = error.code or "rejected"
                return {batch[0].key: Rejection(batch[0].key, str(error)[:2000], code)}
            middle = len(batch) // 2
            return {
                **self._deliver(report, batch[:middle]),
                **self._deliver(report, batch[middle:]),
            }
        sent = {record.key for record in batch}
        return {
            r.key: Rejection(r.key, r.error[:2000], r.code, r.refused)
            for r in rejections
            if r.key in sent
        }

    def _count_request(self) -> None:
        """One request to the destination: wait for the rate limiter, count it."""
        self.limiter.acquire()
        if self._report is not None:
            self._report.api_calls += 1

    def _call(self, report: SyncReport, call: Callable[[], Any]) -> Any:
        name = self.destination.name
        for attempt in range(1, self.policy.max_attempts + 1):
            if not self.destination.counts_own_requests:
                self._count_request()
            try:
                return call()
            except RetryableError as error:
                if attempt == self.policy.max_attempts:
                    raise DestinationError(
                        f"{name}: gave up after {attempt} attempts: {error}"
                    ) from error
                if error.retry_after is not None:
                    if error.retry_after > self.policy.max_retry_after:
                        raise DestinationError(
                            f"{name}: asked to retry after {error.retry_after:.0f}s, longer "
                            f"than the {self.policy.max_retry_after:.0f}s this run waits"
                        ) from error
                    delay = error.retry_after
                else:
                    delay = self.policy.backoff(attempt, self._rng)
                self.log.warning(
                    f"{name}: {error}; retry {attempt}/{self.policy.max_attempts - 1} "
                    f"in {delay:.2f}s"
                )
                self._sleep(delay)
        raise AssertionError("unreachable")

    def _remove(self, report: SyncReport, keys: list[str]) -> None:
        if self.destination.supports_delete:
            size = self._batch_size()
            for start in range(0, len(keys), size):
                chunk = keys[start : start + size]
                try:
                    self._call(report, lambda c=chunk: self.destination.delete(c))
                except (DestinationError, BatchRejectedError) as error:
                    report.error = f"removing rows: {error}"
                    return
                self._forget(report, chunk)
        else:
            # CRMs keep their records: the warehouse only forgets it sent them, so a lead that
            # comes back is sent again in full.
            self._forget(report, keys)

    # -- warehouse bookkeeping --------------------------------------------------------------

    def _commit(
        self, report: SyncReport, batch: Sequence[SyncRecord], outcomes: Mapping[str, Rejection]
    ) -> None:
        """Advance the ledger for the acknowledged and refused rows and log every row,
        atomically. Refused rows (the sync mode's choice, e.g. an update of a record the
        destination does not have) enter the ledger too, so they are sent again only when
        their values change; rejected rows keep their old entry and are retried."""
        now = _utcnow()
        rejected = {key: r for key, r in outcomes.items() if not r.refused}
        refused = {key: r for key, r in outcomes.items() if r.refused}
        acknowledged = [r for r in batch if r.key not in rejected]
        report.rows_acknowledged += len(acknowledged) - len(refused)
        report.rows_rejected += len(rejected)
        report.rows_refused += len(refused)
        for rejection in rejected.values():
            self._reasons[rejection.code or "rejected"] += 1

        def outcome(key: str) -> str:
            if key in rejected:
                return "rejected"
            return "refused" if key in refused else "acknowledged"

        log_rows = [
            (
                r.key,
                r.change,
                outcome(r.key),
                outcomes[r.key].error if r.key in outcomes else None,
                r.payload_hash,
            )
            for r in batch
        ]
        name = self.destination.name
        with self.conn.transaction():
            if acknowledged:
                pending = pa.table(
                    {
                        "run_id": [report.run_id] * len(acknowledged),
                        "destination": [name] * len(acknowledged),
                        "sync_key": [r.key for r in acknowledged],
                        "payload_hash": [r.payload_hash for r in acknowledged],
                        "acknowledged_at": pa.array([now] * len(acknowledged), pa.timestamp("us")),
                    }
                )
                self.conn.append_arrow(self.schema, PENDING_TABLE, pending)
                run = f"'{report.run_id}'"
                self.conn.execute(
                    f"delete from {self._s}.{LEDGER_TABLE} where destination = {self._literal()} "
                    f"and sync_key in (select sync_key from {self._s}.{PENDING_TABLE} "
                    f"where run_id = {run})"
                )
                self.conn.execute(
                    f"insert into {self._s}.{LEDGER_TABLE} "
                    "(destination, sync_key, payload_hash, acknowledged_at, run_id) "
                    "select destination, sync_key, payload_hash, acknowledged_at, run_id "
                    f"from {self._s}.{PENDING_TABLE} where run_id = {run}"
                )
                self.conn.execute(f"delete from {self._s}.{PENDING_TABLE} where run_id = {run}")
            self._write_row_log(report.run_id, log_rows, now)
        if rejected:
            self.log.warning(
                f"{name}: the destination rejected {len(rejected):,} rows of a batch of "
                f"{len(batch):,} (errors per row in {self.schema}.{ROW_LOG_TABLE}); they are "
                "retried on the next run"
            )
        if refused:
            self.log.info(
                f"{name}: {len(refused):,} rows of a batch of {len(batch):,} were refused by "
                f"the sync mode (reasons per row in {self.schema}.{ROW_LOG_TABLE}); they are "
                "sent again when their values change"
            )

    def _forget(self, report: SyncReport, keys: Sequence[str]) -> None:
        with self.conn.transaction():
            for start in range(0, len(keys), 1_000):
                chunk = list(keys[start : start + 1_000])
                placeholders = ", ".join([self.conn.placeholder] * len(chunk))
                self.conn.execute(
                    f"delete from {self._s}.{LEDGER_TABLE} "
                    f"where destination = {self._literal()} and sync_key in ({placeholders})",
                    chunk,
                )
            self._write_row_log(
                report.run_id, [(k, "removed", "removed", None, None) for k in keys]
            )

    def _write_row_log(
        self,
        run_id: str,
        rows: Sequence[tuple[str | None, str, str, str | None, str | None]],
        now: datetime | None = None,
    ) -> None:
        if not rows:
            return
        now = now or _utcnow()
        table = pa.table(
            {
                "run_id": [run_id] * len(rows),
                "destination": [self.destination.name] * len(rows),
                "sync_key": pa.array([r[0] for r in rows], pa.string()),
                "change": [r[1] for r in rows],
                "outcome": [r[2] for r in rows],
                "error": pa.array([r[3] for r in rows], pa.string()),
                "payload_hash": pa.array([r[4] for r in rows], pa.string()),
                "logged_at": pa.array([now] * len(rows), pa.timestamp("us")),
            }
        )
        self.conn.append_arrow(self.schema, ROW_LOG_TABLE, table)

    def _start_run(self, report: SyncReport, started_at: datetime) -> None:
        ph = self.conn.placeholder
        # A run that never finished (the process was killed) is marked as such.
        self.conn.execute(
            f"update {self._s}.{RUNS_TABLE} set status = 'interrupted' "
            f"where destination = {ph} and status = 'running'",
            [report.destination],
        )
        self.conn.execute(
            f"insert into {self._s}.{RUNS_TABLE} (run_id, destination, mode, status, started_at) "
            f"values ({ph}, {ph}, {ph}, 'running', {ph})",
            [report.run_id, report.destination, report.mode, started_at],
        )

    def _finish_run(self, report: SyncReport) -> None:
        ph = self.conn.placeholder
        fields = {
            "status": report.status,
            "finished_at": _utcnow(),
            "duration_seconds": report.duration_seconds,
            "rows_total": report.rows_total,
            "rows_added": report.rows_added,
            "rows_changed": report.rows_changed,
            "rows_unchanged": report.rows_unchanged,
            "rows_removed": report.rows_removed,
            "rows_invalid": report.rows_invalid,
            "rows_sent": report.rows_sent,
            "rows_acknowledged": report.rows_acknowledged,
            "rows_rejected": report.rows_rejected,
            "rows_deferred": report.rows_deferred,
            "api_calls": report.api_calls,
            "error": report.error,
            "rows_refused": report.rows_refused,
            "as_of_date": report.as_of_date,
            "skip_reason": report.skip_reason,
        }
        assignments = ", ".join(f"{name} = {ph}" for name in fields)
        self.conn.execute(
            f"update {self._s}.{RUNS_TABLE} set {assignments} where run_id = {ph}",
            [*fields.values(), report.run_id],
        )
