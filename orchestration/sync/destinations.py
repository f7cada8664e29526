"""Destination adapters: each one turns a batch of records into its API's request and its
API's response into acknowledged and rejected rows. Everything else (diff, batching, rate
limit, retries, splitting, ledger) is the engine's.

Connections and secrets come from environment variables only; what an analyst changes
(matching key, consent, batch size, rate limit) is the ``sync_destinations`` seed.
"""

from __future__ import annotations

import csv
import email.utils
import hashlib
import hmac
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.files import write_atomically
from orchestration.lib.warehouse import quote_ident
from orchestration.sync.engine import (
    BatchRejectedError,
    Destination,
    DestinationError,
    Rejection,
    RetryableError,
    SyncRecord,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class NotConfiguredError(Exception):
    """The destination's connection variables are not set: the sync is skipped."""


class SyncConfigError(ValueError):
    """The sync_destinations seed asks for something the destination cannot do."""


@dataclass(frozen=True)
class DestinationConfig:
    """One row of the ``sync_destinations`` seed."""

    destination: str
    match_key: str
    id_property: str
    object_type: str
    suppress_outreach_when_unsubscribed: bool
    batch_size: int
    max_requests_per_10s: int | None = None

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DestinationConfig:
        limit = row.get("max_requests_per_10s")
        return cls(
            destination=str(row["destination"]).strip(),
            match_key=str(row["match_key"]).strip(),
            id_property=str(row["id_property"]).strip(),
            object_type=str(row["object_type"]).strip(),
            suppress_outreach_when_unsubscribed=bool(row["suppress_outreach_when_unsubscribed"]),
            batch_size=int(row["batch_size"]),
            max_requests_per_10s=None if limit is None else int(limit),
        )


def _require_match_key(config: DestinationConfig, supported: Sequence[str]) -> None:
    if config.match_key not in supported:
        raise SyncConfigError(
            f"sync_destinations row {config.destination!r}: match_key {config.match_key!r} "
            f"is not supported by {config.destination}; use one of {', '.join(supported)}"
        )


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Retry-After as seconds: either a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    now = now or datetime.now(UTC)
    return max(0.0, (when - now).total_seconds())


class HttpDestination(Destination):
    """Shared HTTP handling: 429, 5xx and network errors are retryable, 401/403 stop the run,
    other 4xx reject the batch (the engine splits it). Error texts name the status and the
    API's error code, never the token."""

    timeout_seconds = 30.0

    def __init__(self, base_url: str, headers: Mapping[str, str]):
        self._client = httpx.Client(
            base_url=base_url.rstrip("/"),
            headers=dict(headers),
            timeout=httpx.Timeout(self.timeout_seconds),
        )

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, path, **kwargs)
        except httpx.TimeoutException as error:
            raise RetryableError(f"timed out after {self.timeout_seconds:.0f}s") from error
        except httpx.TransportError as error:
            raise RetryableError(f"connection failed ({type(error).__name__})") from error
        status = response.status_code
        if status == 429 or status >= 500:
            raise RetryableError(
                f"HTTP {status}{self._error_code(response)}",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if status in (401, 403):
            raise DestinationError(
                f"{self.name}: HTTP {status}{self._error_code(response)}; "
                "check the access token and its scopes"
            )
        if status >= 400:
            raise BatchRejectedError(f"HTTP {status}: {response.text[:2000]}")
        return response

    @staticmethod
    def _error_code(response: httpx.Response) -> str:
        """The API's error category/code (no message: messages may quote personal data)."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if isinstance(body, list) and body and isinstance(body[0], dict):
            body = body[0]
        if not isinstance(body, dict):
            return ""
        code = body.get("errorCode") or body.get("category") or body.get("errorType")
        return f" {code}" if code else ""

    def close(self) -> None:
        self._client.close()


def _hubspot_value(value: Any) -> str:
    """HubSpot property values are strings; an empty string clears the property."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class HubSpotDestination(HttpDestination):
    """HubSpot CRM v3: POST /crm/v3/objects/contacts/batch/upsert, 100 inputs per call, each
    ``{"idProperty": ..., "id": key, "properties": {...}}``. HubSpot answers 200, or 207 with
    ``errors[].context.ids`` naming the inputs it could not write; an invalid value anywhere
    makes it refuse the whole batch with 400 VALIDATION_ERROR (the engine then splits)."""

    name = "hubspot"
    max_batch_size = 100

    def __init__(self, config: DestinationConfig, token: str, base_url: str):
        _require_match_key(config, ("email", "external_id"))
        super().__init__(base_url, {"Authorization": f"Bearer {token}"})
        self.config = config
        self.path = f"/crm/v3/objects/{config.object_type}/batch/upsert"

    def validate(self, record: SyncRecord) -> str | None:
        if self.config.id_property == "email" and not _EMAIL.match(record.key):
            return "the key is not a valid email address, which HubSpot needs to match contacts"
        return None

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        inputs = [
            {
                "idProperty": self.config.id_property,
                "id": record.key,
                "properties": {k: _hubspot_value(v) for k, v in record.values.items()},
            }
            for record in batch
        ]
        response = self.request("POST", self.path, json={"inputs": inputs})
        if response.status_code != 207:
            return []
        rejections = []
        for error in response.json().get("errors", []):
            ids = (error.get("context") or {}).get("ids") or []
            message = f"{error.get('category', 'ERROR')}: {error.get('message', '')}"
            if not ids:
                raise BatchRejectedError(f"HTTP 207 without ids: {message}")
            rejections += [Rejection(str(i), message) for i in ids]
        return rejections


def _salesforce_name(column: str) -> str:
    """dbt column names are lower case; Salesforce API names read Title_Case (it matches
    them case-insensitively): fit_score__c -> Fit_Score__c."""
    base, suffix, rest = column.partition("__")
    return "_".join(part[:1].upper() + part[1:] for part in base.split("_")) + suffix + rest


class SalesforceDestination(HttpDestination):
    """Salesforce sObject Collections, 200 records per call, ``allOrNone: false`` so each
    record succeeds or fails on its own: upsert by an external-id field
    (PATCH /services/data/vXX/composite/sobjects/{SObject}/{Field}) or update by record Id
    (PATCH /services/data/vXX/composite/sobjects). The answer is one result per record, in
    order, with ``success`` and ``errors``."""

    name = "salesforce"
    max_batch_size = 200

    def __init__(self, config: DestinationConfig, token: str, instance_url: str, api_version: str):
        _require_match_key(config, ("external_id", "crm_id"))
        super().__init__(instance_url, {"Authorization": f"Bearer {token}"})
        self.config = config
        base = f"/services/data/{api_version}/composite/sobjects"
        if config.match_key == "crm_id":
            self.path, self.key_field = base, "Id"
        else:
            self.path = f"{base}/{config.object_type}/{config.id_property}"
            self.key_field = config.id_property

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        records = [
            {
                "attributes": {"type": self.config.object_type},
                self.key_field: record.key,
                **{_salesforce_name(k): v for k, v in record.values.items()},
            }
            for record in batch
        ]
        response = self.request("PATCH", self.path, json={"allOrNone": False, "records": records})
        results = response.json()
        if not isinstance(results, list) or len(results) != len(batch):
            raise BatchRejectedError(f"expected a list of {len(batch)} results, got {results!r}")
        rejections = []
        for record, result in zip(batch, results, strict=True):
            if not result.get("success"):
                errors = result.get("errors") or [{}]
                text = "; ".join(
                    f"{e.get('statusCode', 'ERROR')}: {e.get('message', '')}"
                    + (f" ({', '.join(e['fields'])})" if e.get("fields") else "")
                    for e in errors
                )
                rejections.append(Rejection(record.key, text))
        return rejections


class WebhookDestination(HttpDestination):
    """JSON batches POSTed to a URL: ``{"batch_id", "destination", "sent_at", "records":
    [{"key", "data"}]}``, signed with HMAC-SHA256 over the body in ``X-Leadscore-Signature:
    sha256=<hex>``. ``X-Leadscore-Delivery`` (the batch id) is derived from the contents, so a
    batch sent again after a lost answer carries the same id and the receiver can drop it.
    2xx acknowledges the batch, except the keys listed in an optional ``{"rejected": [{"key",
    "error"}]}`` answer."""

    name = "webhook"
    max_batch_size = 10_000

    def __init__(self, config: DestinationConfig, url: str, secret: str):
        super().__init__(url, {"Content-Type": "application/json"})
        self.config = config
        self._secret = secret.encode()

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        digest = hashlib.sha256()
        for record in batch:
            digest.update(f"{record.key}\x1f{record.payload_hash}\x1e".encode())
        batch_id = digest.hexdigest()[:32]
        body = json.dumps(
            {
                "batch_id": batch_id,
                "destination": self.config.destination,
                "sent_at": datetime.now(UTC).isoformat(),
                "records": [{"key": r.key, "data": dict(r.values)} for r in batch],
            },
            separators=(",", ":"),
        ).encode()
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        response = self.request(
            "POST",
            "",
            content=body,
            headers={
                "X-Leadscore-Signature": f"sha256={signature}",
                "X-Leadscore-Delivery": batch_id,
            },
        )
        try:
            answer = response.json()
        except ValueError:
            return []
        rejected = answer.get("rejected", []) if isinstance(answer, dict) else []
        return [Rejection(str(r.get("key")), str(r.get("error", "rejected"))) for r in rejected]


_PG_TYPES = {
    pa.types.is_boolean: "boolean",
    pa.types.is_integer: "bigint",
    pa.types.is_floating: "double precision",
    pa.types.is_decimal: "numeric",
    pa.types.is_date: "date",
    pa.types.is_timestamp: "timestamp",
}


def _pg_type(data_type: pa.DataType) -> str:
    for check, name in _PG_TYPES.items():
        if check(data_type):
            return name
    return "text"


class PostgresDestination(Destination):
    """Upsert into a table of an operational PostgreSQL database (INSERT ... ON CONFLICT on the
    key column), one transaction per batch. The table is created on first use from the payload's
    columns plus ``synced_at``. A batch the database refuses (a constraint, a bad value) is
    rejected as a whole, so the engine splits it down to the rows at fault."""

    name = "postgres"
    max_batch_size = 5_000
    supports_delete = True

    def __init__(self, config: DestinationConfig, conninfo: str):
        import psycopg

        self.config = config
        self._psycopg = psycopg
        schema, _, table = config.object_type.rpartition(".")
        self.table = f"{quote_ident(schema)}.{quote_ident(table)}" if schema else quote_ident(table)
        self.schema = schema
        try:
            self._conn = psycopg.connect(conninfo, autocommit=True)
        except psycopg.OperationalError as error:
            raise DestinationError(
                f"postgres: cannot connect with LEADSCORE_SYNC_PG_CONNINFO ({type(error).__name__})"
            ) from error
        self._columns: list[str] = []

    def prepare(self, schema: pa.Schema) -> None:
        key = self.config.id_property
        self._columns = [n for n in schema.names if not n.startswith("_") and n != "sync_key"]
        definitions = [f"{quote_ident(key)} text primary key"] + [
            f"{quote_ident(n)} {_pg_type(schema.field(n).type)}" for n in self._columns
        ]
        definitions.append("synced_at timestamptz not null default now()")
        with self._conn.cursor() as cur:
            if self.schema:
                cur.execute(f"create schema if not exists {quote_ident(self.schema)}")
            cur.execute(f"create table if not exists {self.table} ({', '.join(definitions)})")

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        errors = self._psycopg.errors
        key = quote_ident(self.config.id_property)
        columns = [key] + [quote_ident(c) for c in self._columns]
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns[1:])
        statement = (
            f"insert into {self.table} ({', '.join(columns)}) values "
            f"({', '.join(['%s'] * len(columns))}) on conflict ({key}) do update set "
            f"{updates}, synced_at = now()"
        )
        rows = [[r.key, *(r.values.get(c) for c in self._columns)] for r in batch]
        try:
            with self._conn.transaction(), self._conn.cursor() as cur:
                cur.executemany(statement, rows)
        except (errors.IntegrityError, errors.DataError) as error:
            raise BatchRejectedError(f"{type(error).__name__}: {error}") from error
        except self._psycopg.OperationalError as error:
            raise RetryableError(f"database error ({type(error).__name__})") from error
        return []

    def delete(self, keys: Sequence[str]) -> None:
        key = quote_ident(self.config.id_property)
        try:
            with self._conn.cursor() as cur:
                cur.execute(f"delete from {self.table} where {key} = any(%s)", [list(keys)])
        except self._psycopg.OperationalError as error:
            raise RetryableError(f"database error ({type(error).__name__})") from error

    def close(self) -> None:
        self._conn.close()


class FilesDestination(Destination):
    """Changed rows as files for tools that read files: one file per batch, named by time and
    run, in ``<dir>/<object_type>/``, with the key column and ``_change`` (added / changed);
    removed keys go to a ``removed-*.csv`` file. Files are written to a temporary name and
    renamed, so a reader never sees half a file. The demo's default destination."""

    name = "files"
    max_batch_size = 1_000_000
    supports_delete = True

    def __init__(self, config: DestinationConfig, directory: Path, file_format: str):
        if file_format not in ("parquet", "csv"):
            raise SyncConfigError(
                f"LEADSCORE_SYNC_FILES_FORMAT={file_format!r}: use parquet or csv"
            )
        self.config = config
        self.directory = directory / config.object_type
        self.format = file_format
        self._stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self._batches = 0
        self.written: list[Path] = []

    def _path(self, prefix: str, suffix: str) -> Path:
        self._batches += 1
        return self.directory / f"{prefix}-{self._stamp}-{self._batches:05d}.{suffix}"

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        key = self.config.id_property
        rows = [{key: r.key, **r.values, "_change": r.change} for r in batch]
        table = pa.Table.from_pylist(rows)
        path = self._path("changes", self.format)
        if self.format == "parquet":
            write_atomically(path, lambda p: pq.write_table(table, p))
        else:
            import pyarrow.csv as pa_csv

            write_atomically(path, lambda p: pa_csv.write_csv(table, p))
        self.written.append(path)
        return []

    def delete(self, keys: Sequence[str]) -> None:
        path = self._path("removed", "csv")

        def write(target: Path) -> None:
            with target.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([self.config.id_property])
                writer.writerows([k] for k in keys)

        write_atomically(path, write)
        self.written.append(path)
