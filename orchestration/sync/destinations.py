"""Destination adapters: each one turns a batch of records into its API's request and its
API's response into acknowledged, rejected and refused rows. Everything else (diff, batching,
rate limit, retries, splitting, ledger) is the engine's.

Connections and secrets come from environment variables only; what an analyst changes
(matching key, sync mode, consent, batch size, rate limit, rejection threshold) is the
``sync_destinations`` seed.

Sync modes (``sync_destinations.sync_mode``), as Hightouch and Census offer them per sync:

* ``update``: only records the destination already has are written; the others are refused
  (logged with the reason, not retried until their values change). The default of the CRMs.
* ``upsert``: update the records the destination has, create the others.
* ``insert``: create the records the destination does not have; the others are refused.

Files, the webhook and the PostgreSQL table always upsert.

No URL, token or query string reaches a log: httpx's own request lines (``HTTP Request: POST
<url>`` at INFO, httpcore's at DEBUG) are dropped for the requests these adapters make.
"""

from __future__ import annotations

import contextvars
import csv
import email.utils
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
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
    PreflightError,
    Rejection,
    RetryableError,
    SyncRecord,
)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

SYNC_MODES = ("update", "upsert", "insert")
# The mode of a destination whose seed row leaves it empty.
DEFAULT_SYNC_MODES = {"hubspot": "update", "salesforce": "update"}
DEFAULT_MAX_REJECTED_SHARE = 0.05


class NotConfiguredError(Exception):
    """The destination's connection variables are not set: the sync is skipped."""


class SyncConfigError(ValueError):
    """The sync_destinations seed asks for something the destination cannot do."""


# -- quiet HTTP logging ----------------------------------------------------------------------

_OUR_REQUEST = contextvars.ContextVar("leadscore_sync_request", default=False)
# httpx logs "HTTP Request: POST <full url> ..." at INFO; httpcore logs connections at DEBUG.
_HTTP_LOGGERS = (
    "httpx",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)


class _DropOurRequests(logging.Filter):
    """Drops httpx / httpcore records emitted while one of our adapters makes a request: their
    lines carry the full URL, which can hold a secret (a webhook's ``?key=``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _OUR_REQUEST.get()


_FILTER = _DropOurRequests()
for _name in _HTTP_LOGGERS:
    _logger = logging.getLogger(_name)
    if not any(isinstance(f, _DropOurRequests) for f in _logger.filters):
        _logger.addFilter(_FILTER)


@contextmanager
def quiet_http() -> Iterator[None]:
    """Mark the requests made inside the block as ours (their httpx log lines are dropped)."""
    token = _OUR_REQUEST.set(True)
    try:
        yield
    finally:
        _OUR_REQUEST.reset(token)


# -- configuration ---------------------------------------------------------------------------


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
    sync_mode: str = "upsert"
    max_rejected_share: float | None = DEFAULT_MAX_REJECTED_SHARE

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> DestinationConfig:
        destination = str(row["destination"]).strip()
        limit = row.get("max_requests_per_10s")
        mode = str(row.get("sync_mode") or "").strip().lower() or DEFAULT_SYNC_MODES.get(
            destination, "upsert"
        )
        if mode not in SYNC_MODES:
            raise SyncConfigError(
                f"sync_destinations row {destination!r}: sync_mode {mode!r} is not one of "
                f"{', '.join(SYNC_MODES)}"
            )
        share = row.get("max_rejected_share")
        share = DEFAULT_MAX_REJECTED_SHARE if share is None else float(share)
        if not 0 <= share <= 1:
            raise SyncConfigError(
                f"sync_destinations row {destination!r}: max_rejected_share {share} is not "
                "between 0 and 1"
            )
        return cls(
            destination=destination,
            match_key=str(row["match_key"]).strip(),
            id_property=str(row["id_property"]).strip(),
            object_type=str(row["object_type"]).strip(),
            suppress_outreach_when_unsubscribed=bool(row["suppress_outreach_when_unsubscribed"]),
            batch_size=int(row["batch_size"]),
            max_requests_per_10s=None if limit is None else int(limit),
            sync_mode=mode,
            max_rejected_share=share,
        )


def _require_match_key(config: DestinationConfig, supported: Sequence[str]) -> None:
    if config.match_key not in supported:
        raise SyncConfigError(
            f"sync_destinations row {config.destination!r}: match_key {config.match_key!r} "
            f"is not supported by {config.destination}; use one of {', '.join(supported)}"
        )


def _require_mode(config: DestinationConfig, supported: Sequence[str]) -> None:
    if config.sync_mode not in supported:
        raise SyncConfigError(
            f"sync_destinations row {config.destination!r}: sync_mode {config.sync_mode!r} "
            f"is not supported by {config.destination}; use {' or '.join(supported)}"
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


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


class HttpDestination(Destination):
    """Shared HTTP handling: 429, 5xx and network errors are retryable, 401/403 stop the run,
    other 4xx reject the batch (the engine splits it). Error texts name the status and the
    API's error code, never the URL or the token. Each request is reported to the engine
    (rate limit and call count), so a batch may take more than one request."""

    timeout_seconds = 30.0
    counts_own_requests = True

    def __init__(self, base_url: str | None, headers: Mapping[str, str]):
        options: dict[str, Any] = {
            "headers": dict(headers),
            "timeout": httpx.Timeout(self.timeout_seconds),
        }
        if base_url is not None:
            options["base_url"] = base_url.rstrip("/")
        self._client = httpx.Client(**options)

    def auth_headers(self) -> dict[str, str]:
        """Headers that authenticate one request (read for every request)."""
        return {}

    def reauthenticate(self, response: httpx.Response) -> bool:
        """After a 401: get new credentials and return True to send the request once more."""
        return False

    def request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = self._send(method, path, **kwargs)
        if response.status_code == 401 and self.reauthenticate(response):
            response = self._send(method, path, **kwargs)
        return self._check(response)

    def _send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        if self.on_request is not None:
            self.on_request()
        headers = {**self.auth_headers(), **kwargs.pop("headers", {})}
        try:
            with quiet_http():
                return self._client.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as error:
            raise RetryableError(f"timed out after {self.timeout_seconds:.0f}s") from error
        except httpx.TransportError as error:
            raise RetryableError(f"connection failed ({type(error).__name__})") from error

    def _check(self, response: httpx.Response) -> httpx.Response:
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
            raise BatchRejectedError(
                f"HTTP {status}: {response.text[:2000]}",
                code=f"HTTP {status}{self._error_code(response)}",
            )
        return response

    @staticmethod
    def _error_code(response: httpx.Response) -> str:
        """The API's error category/code (no message: messages may quote personal data)."""
        body = _json(response)
        if isinstance(body, list) and body and isinstance(body[0], dict):
            body = body[0]
        if not isinstance(body, dict):
            return ""
        code = body.get("errorCode") or body.get("category") or body.get("errorType")
        return f" {code}" if code else ""

    def close(self) -> None:
        self._client.close()


# -- HubSpot ---------------------------------------------------------------------------------


def _hubspot_value(value: Any) -> str:
    """HubSpot property values are strings; an empty string clears the property."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


HUBSPOT_SETUP_HINT = (
    "run `leadscore hubspot-setup` (with LEADSCORE_HUBSPOT_TOKEN of a private app that has "
    "the crm.schemas.contacts.write scope) to create the `leadscore` property group and "
    "these properties, then sync again"
)


class HubSpotDestination(HttpDestination):
    """HubSpot CRM v3 contacts (or another object), 100 inputs per call.

    * ``upsert``: ``POST /crm/v3/objects/{object}/batch/upsert``, each input
      ``{"idProperty", "id": key, "properties"}``: HubSpot creates the missing records.
    * ``update``: ``POST .../batch/read`` by the ``idProperty`` finds the records HubSpot has
      (the missing ones come back as ``OBJECT_NOT_FOUND`` errors and are refused), then
      ``POST .../batch/update`` writes them by record id. Batch update does not accept
      ``email`` as its ``idProperty`` (it must be a property with unique values), hence the
      read first.
    * ``insert``: the same read; records HubSpot has are refused, the others are created with
      ``POST .../batch/create`` (the key set as the ``idProperty`` property).

    HubSpot answers 200/201, or 207 with ``errors[].context.ids`` naming the inputs it could
    not write; an invalid value anywhere makes it refuse the whole batch with 400
    VALIDATION_ERROR (the engine then splits). Before the first batch the preflight lists the
    object's properties (``GET /crm/v3/properties/{object}``) and stops with one message
    naming the ones missing."""

    name = "hubspot"
    max_batch_size = 100
    has_preflight = True

    def __init__(self, config: DestinationConfig, token: str, base_url: str):
        _require_match_key(config, ("email", "external_id"))
        super().__init__(base_url, {})
        self._token = token
        self.config = config
        self.base = f"/crm/v3/objects/{config.object_type}"
        self.properties_path = f"/crm/v3/properties/{config.object_type}"
        self._columns: list[str] = []

    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    def validate(self, record: SyncRecord) -> str | None:
        if self.config.id_property == "email" and not _EMAIL.match(record.key):
            return "the key is not a valid email address, which HubSpot needs to match contacts"
        return None

    def prepare(self, schema: pa.Schema) -> None:
        self._columns = [n for n in schema.names if not n.startswith("_") and n != "sync_key"]

    # -- preflight --------------------------------------------------------------------------

    def list_properties(self) -> dict[str, dict[str, Any]]:
        """Every property of the object, by name."""
        body = _json(self.request("GET", self.properties_path)) or {}
        return {p["name"]: p for p in body.get("results", []) if isinstance(p, dict)}

    def preflight(self) -> None:
        try:
            properties = self.list_properties()
        except BatchRejectedError as error:
            raise PreflightError(
                f"hubspot: cannot list the {self.config.object_type} properties "
                f"({error.code}); check LEADSCORE_HUBSPOT_BASE_URL and the object_type "
                "of the sync_destinations seed"
            ) from error
        missing = [name for name in self._columns if name not in properties]
        problems = []
        id_property = self.config.id_property
        if id_property != "email":
            if id_property not in properties:
                missing.append(id_property)
            elif not properties[id_property].get("hasUniqueValue"):
                problems.append(
                    f"the matching property {id_property} exists but does not require unique "
                    "values, which HubSpot needs to match records by it"
                )
        if missing:
            problems.insert(
                0,
                f"{len(missing)} properties of {self.config.object_type} that the payload "
                f"sends do not exist in HubSpot: {', '.join(missing)}; {HUBSPOT_SETUP_HINT}",
            )
        if problems:
            raise PreflightError("hubspot: " + "; ".join(problems) + ". Nothing was sent.")

    # -- sending ----------------------------------------------------------------------------

    def _properties(self, record: SyncRecord) -> dict[str, str]:
        return {k: _hubspot_value(v) for k, v in record.values.items()}

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        if self.config.sync_mode == "upsert":
            inputs = [
                {
                    "idProperty": self.config.id_property,
                    "id": record.key,
                    "properties": self._properties(record),
                }
                for record in batch
            ]
            response = self.request("POST", f"{self.base}/batch/upsert", json={"inputs": inputs})
            return self._multi_status(response, {r.key: r.key for r in batch})

        existing = self._existing(batch)
        if self.config.sync_mode == "update":
            refused = [
                Rejection(
                    r.key,
                    f"HubSpot has no {self.config.object_type} record with "
                    f"{self.config.id_property} = this key; sync_mode update does not create "
                    "records (upsert or insert does)",
                    "not in HubSpot",
                    refused=True,
                )
                for r in batch
                if r.key not in existing
            ]
            found = [r for r in batch if r.key in existing]
            if not found:
                return refused
            inputs = [{"id": existing[r.key], "properties": self._properties(r)} for r in found]
            response = self.request("POST", f"{self.base}/batch/update", json={"inputs": inputs})
            return refused + self._multi_status(
                response, {existing[r.key]: r.key for r in found}, not_found_refused=True
            )

        refused = [
            Rejection(
                r.key,
                f"HubSpot already has a {self.config.object_type} record with "
                f"{self.config.id_property} = this key; sync_mode insert does not update "
                "records (update or upsert does)",
                "already in HubSpot",
                refused=True,
            )
            for r in batch
            if r.key in existing
        ]
        new = [r for r in batch if r.key not in existing]
        if not new:
            return refused
        inputs = [
            {"properties": {**self._properties(r), self.config.id_property: r.key}} for r in new
        ]
        response = self.request("POST", f"{self.base}/batch/create", json={"inputs": inputs})
        return refused + self._multi_status(response, {r.key: r.key for r in new})

    def _match(self, value: str) -> str:
        # HubSpot stores email addresses in lower case.
        return value.casefold() if self.config.id_property == "email" else value

    def _existing(self, batch: Sequence[SyncRecord]) -> dict[str, str]:
        """Key -> record id of the batch's records HubSpot has (``batch/read`` by the
        idProperty; the missing ones are OBJECT_NOT_FOUND errors of a 207 answer)."""
        return self._existing_keys([r.key for r in batch])

    def _existing_keys(self, keys: Sequence[str]) -> dict[str, str]:
        id_property = self.config.id_property
        response = self.request(
            "POST",
            f"{self.base}/batch/read",
            json={
                "idProperty": id_property,
                "inputs": [{"id": key} for key in keys],
                "properties": [id_property],
            },
        )
        by_value = {self._match(key): key for key in keys}
        found: dict[str, str] = {}
        for result in (_json(response) or {}).get("results", []):
            value = (result.get("properties") or {}).get(id_property)
            key = by_value.get(self._match(str(value))) if value is not None else None
            if key is not None:
                found[key] = str(result["id"])
        return found

    # -- erasure ----------------------------------------------------------------------------

    supports_erase = True

    def erase(self, keys: Sequence[str]) -> int:
        """HubSpot's GDPR delete (``POST /crm/v3/objects/contacts/gdpr-delete``), one call per
        contact: by email (``{"objectId": email, "idProperty": "email"}``; HubSpot also
        blocklists an email it does not hold, so a form cannot re-create the person), or by
        record id, found first with ``batch/read``, when contacts are matched on another
        property. It answers 204. Only contacts have a GDPR delete."""
        if self.config.object_type != "contacts":
            raise SyncConfigError(
                f"hubspot: erasure uses HubSpot's GDPR delete, which exists for contacts only, "
                f"not {self.config.object_type!r}: delete the records in HubSpot"
            )
        if self.config.id_property == "email":
            bodies = [{"objectId": key, "idProperty": "email"} for key in keys]
        else:
            found = self._existing_keys(keys) if keys else {}
            bodies = [{"objectId": object_id} for object_id in found.values()]
        for body in bodies:
            self.request("POST", f"{self.base}/gdpr-delete", json=body)
        return len(bodies)

    @staticmethod
    def _multi_status(
        response: httpx.Response, key_of: Mapping[str, str], *, not_found_refused: bool = False
    ) -> list[Rejection]:
        """The rejections of a 207 answer: ``errors[].context.ids`` are input ids (mapped back
        to keys with ``key_of``)."""
        if response.status_code != 207:
            return []
        rejections = []
        for error in (_json(response) or {}).get("errors", []):
            ids = (error.get("context") or {}).get("ids") or []
            category = error.get("category", "ERROR")
            message = f"{category}: {error.get('message', '')}"
            if not ids:
                raise BatchRejectedError(f"HTTP 207 without ids: {message}", code=category)
            refused = not_found_refused and category == "OBJECT_NOT_FOUND"
            rejections += [
                Rejection(key_of.get(str(i), str(i)), message, category, refused=refused)
                for i in ids
            ]
        return rejections


# -- Salesforce ------------------------------------------------------------------------------


def _salesforce_name(column: str) -> str:
    """dbt column names are lower case; Salesforce API names read Title_Case (it matches
    them case-insensitively): fit_score__c -> Fit_Score__c."""
    base, suffix, rest = column.partition("__")
    return "_".join(part[:1].upper() + part[1:] for part in base.split("_")) + suffix + rest


class SalesforceAuth:
    """The access token of the Salesforce adapter, renewed with OAuth 2.0 when it expires.

    ``POST {instance}/services/oauth2/token`` (form-encoded) with ``grant_type=
    refresh_token``, ``client_id``, ``client_secret`` and ``refresh_token`` (the refresh token
    flow of a connected app), or ``grant_type=client_credentials`` with the client id and
    secret alone (the client credentials flow, which needs the org's My Domain URL). The
    answer's ``access_token`` is used until the API answers 401 ``INVALID_SESSION_ID``; a
    rotated ``refresh_token`` in the answer replaces the old one. Secrets are kept in memory
    only and never put in an error text."""

    token_path = "/services/oauth2/token"

    def __init__(
        self,
        *,
        access_token: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
    ):
        self.access_token = access_token
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token
        self.refreshes = 0

    @property
    def can_refresh(self) -> bool:
        return bool(self._client_id and (self._refresh_token or self._client_secret))

    @property
    def grant_type(self) -> str:
        return "refresh_token" if self._refresh_token else "client_credentials"

    def refresh(self, client: httpx.Client) -> str:
        form = {"grant_type": self.grant_type, "client_id": self._client_id or ""}
        if self._client_secret:
            form["client_secret"] = self._client_secret
        if self._refresh_token:
            form["refresh_token"] = self._refresh_token
        try:
            with quiet_http():
                response = client.post(
                    self.token_path, data=form, headers={"Accept": "application/json"}
                )
        except httpx.TimeoutException as error:
            raise RetryableError("the token endpoint timed out") from error
        except httpx.TransportError as error:
            raise RetryableError(
                f"token endpoint: connection failed ({type(error).__name__})"
            ) from error
        body = _json(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableError(f"token endpoint: HTTP {response.status_code}")
        if (
            response.status_code != 200
            or not isinstance(body, dict)
            or not body.get("access_token")
        ):
            code = body.get("error") if isinstance(body, dict) else None
            raise DestinationError(
                f"salesforce: the OAuth token endpoint refused the {self.grant_type} grant "
                f"(HTTP {response.status_code}{f' {code}' if code else ''}); check "
                "LEADSCORE_SALESFORCE_CLIENT_ID, LEADSCORE_SALESFORCE_CLIENT_SECRET"
                + (
                    " and LEADSCORE_SALESFORCE_REFRESH_TOKEN (a refresh token is revoked when "
                    "the connected app's policy expires it or a user revokes it)"
                    if self._refresh_token
                    else " and that the connected app enables the client credentials flow"
                )
            )
        self.access_token = str(body["access_token"])
        if body.get("refresh_token"):
            self._refresh_token = str(body["refresh_token"])
        self.refreshes += 1
        return self.access_token


# Salesforce's per-record codes for a record Id that does not name a live record.
_SF_NOT_FOUND = {"ENTITY_IS_DELETED", "INVALID_CROSS_REFERENCE_KEY", "INVALID_ID_FIELD"}


def _soql_literal(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


class SalesforceDestination(HttpDestination):
    """Salesforce REST API, sObject Collections of 200 records with ``allOrNone: false``, so
    each record succeeds or fails on its own (one result per record, in order, with
    ``success`` and ``errors``).

    * match by external id (``external_id``): ``upsert`` is ``PATCH .../composite/sobjects/
      {SObject}/{Field}`` (Salesforce creates the missing records); ``update`` finds the
      records Salesforce has with a SOQL query (``GET .../query?q=SELECT Id, {Field} FROM
      {SObject} WHERE {Field} IN (...)``), refuses the others and updates the found ones by
      Id (``PATCH .../composite/sobjects``); ``insert`` refuses the found ones and creates the
      others (``POST .../composite/sobjects``).
    * match by record Id (``crm_id``): ``PATCH .../composite/sobjects`` updates by Id; a
      record that does not exist (``ENTITY_IS_DELETED``, ``INVALID_CROSS_REFERENCE_KEY``)
      is refused. A record Id cannot be created, so ``insert`` is not available and
      ``upsert`` behaves as ``update``.

    The preflight reads ``GET .../sobjects/{SObject}/describe`` and stops with one message
    naming the fields that are missing or not writable. The access token is renewed on 401
    ``INVALID_SESSION_ID`` (see ``SalesforceAuth``) and the request sent once more."""

    name = "salesforce"
    max_batch_size = 200
    has_preflight = True

    def __init__(
        self, config: DestinationConfig, auth: SalesforceAuth, instance_url: str, api_version: str
    ):
        _require_match_key(config, ("external_id", "crm_id"))
        if config.match_key == "crm_id":
            _require_mode(config, ("update", "upsert"))
        super().__init__(instance_url, {})
        self.auth = auth
        self.config = config
        self.api = f"/services/data/{api_version}"
        self.collections = f"{self.api}/composite/sobjects"
        self.key_field = "Id" if config.match_key == "crm_id" else config.id_property
        self._columns: list[str] = []

    # -- auth -------------------------------------------------------------------------------

    def auth_headers(self) -> dict[str, str]:
        token = self.auth.access_token
        if token is None:
            if not self.auth.can_refresh:
                raise DestinationError("salesforce: no access token and no OAuth client to get one")
            token = self.auth.refresh(self._client)
        return {"Authorization": f"Bearer {token}"}

    def reauthenticate(self, response: httpx.Response) -> bool:
        if not self.auth.can_refresh or "INVALID_SESSION_ID" not in self._error_code(response):
            return False
        self.auth.refresh(self._client)
        return True

    # -- preflight --------------------------------------------------------------------------

    def prepare(self, schema: pa.Schema) -> None:
        self._columns = [
            _salesforce_name(n) for n in schema.names if not n.startswith("_") and n != "sync_key"
        ]

    def preflight(self) -> None:
        sobject = self.config.object_type
        try:
            describe = _json(self.request("GET", f"{self.api}/sobjects/{sobject}/describe")) or {}
        except BatchRejectedError as error:
            raise PreflightError(
                f"salesforce: cannot describe the {sobject} object ({error.code}); check the "
                "object_type of the sync_destinations seed and that the integration user can "
                "read it"
            ) from error
        fields = {
            str(f.get("name", "")).lower(): f
            for f in describe.get("fields", [])
            if isinstance(f, dict)
        }
        writable = "createable" if self.config.sync_mode == "insert" else "updateable"
        missing = [name for name in self._columns if name.lower() not in fields]
        locked = [
            name
            for name in self._columns
            if name.lower() in fields and not fields[name.lower()].get(writable)
        ]
        problems = []
        if missing:
            problems.append(
                f"the {sobject} object has no field {', '.join(missing)}: create them in Setup "
                f"> Object Manager > {sobject} > Fields & Relationships with these API names"
            )
        if locked:
            problems.append(
                f"the integration user cannot write {', '.join(locked)} (not {writable}): give "
                "it edit access in the field-level security of its profile or permission set"
            )
        if self.config.match_key == "external_id":
            key = fields.get(self.key_field.lower())
            if key is None:
                problems.append(
                    f"the matching field {self.key_field} does not exist: create it as a Text "
                    "field with the External ID and Unique attributes"
                )
            elif not key.get("externalId"):
                problems.append(
                    f"the matching field {self.key_field} is not an External ID field: tick "
                    "External ID (and Unique) in its definition"
                )
        if problems:
            raise PreflightError("salesforce: " + "; ".join(problems) + ". Nothing was sent.")

    # -- sending ----------------------------------------------------------------------------

    def _fields(self, record: SyncRecord) -> dict[str, Any]:
        return {_salesforce_name(k): v for k, v in record.values.items()}

    def _record(self, record: SyncRecord, **identity: Any) -> dict[str, Any]:
        return {"attributes": {"type": self.config.object_type}, **identity, **self._fields(record)}

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        mode = self.config.sync_mode
        if self.config.match_key == "crm_id":
            records = [self._record(r, Id=r.key) for r in batch]
            return self._save("PATCH", self.collections, batch, records, not_found_refused=True)
        if mode == "upsert":
            records = [self._record(r, **{self.key_field: r.key}) for r in batch]
            path = f"{self.collections}/{self.config.object_type}/{self.key_field}"
            return self._save("PATCH", path, batch, records)

        existing = self._existing(batch)
        if mode == "update":
            refused = [
                Rejection(
                    r.key,
                    f"Salesforce has no {self.config.object_type} with {self.key_field} = this "
                    "key; sync_mode update does not create records (upsert or insert does)",
                    "not in Salesforce",
                    refused=True,
                )
                for r in batch
                if r.key not in existing
            ]
            found = [r for r in batch if r.key in existing]
            records = [self._record(r, Id=existing[r.key]) for r in found]
            if not found:
                return refused
            return refused + self._save(
                "PATCH", self.collections, found, records, not_found_refused=True
            )

        refused = [
            Rejection(
                r.key,
                f"Salesforce already has a {self.config.object_type} with {self.key_field} = "
                "this key; sync_mode insert does not update records (update or upsert does)",
                "already in Salesforce",
                refused=True,
            )
            for r in batch
            if r.key in existing
        ]
        new = [r for r in batch if r.key not in existing]
        if not new:
            return refused
        records = [self._record(r, **{self.key_field: r.key}) for r in new]
        return refused + self._save("POST", self.collections, new, records)

    def _existing(self, batch: Sequence[SyncRecord]) -> dict[str, str]:
        """Key -> record Id of the batch's records Salesforce has (one SOQL query)."""
        return self._existing_keys([r.key for r in batch])

    def _existing_keys(self, keys: Sequence[str]) -> dict[str, str]:
        field_name, sobject = self.key_field, self.config.object_type
        listed = ", ".join(_soql_literal(key) for key in keys)
        query = f"SELECT Id, {field_name} FROM {sobject} WHERE {field_name} IN ({listed})"
        wanted = {key: key for key in keys} | {key.casefold(): key for key in keys}
        found: dict[str, str] = {}
        response = self.request("GET", f"{self.api}/query", params={"q": query})
        while True:
            body = _json(response) or {}
            for row in body.get("records", []):
                value = next((v for k, v in row.items() if k.lower() == field_name.lower()), None)
                if value is None:
                    continue
                key = wanted.get(str(value)) or wanted.get(str(value).casefold())
                if key is not None:
                    found[key] = str(row["Id"])
            next_url = body.get("nextRecordsUrl")
            if body.get("done", True) or not next_url:
                return found
            response = self.request("GET", next_url)

    supports_erase = True

    def erase(self, keys: Sequence[str]) -> int:
        """Finds the records by the matching field (one SOQL query) and deletes them with
        "Delete Records Using sObject Collections" (``DELETE /composite/sobjects?ids=...``,
        ``allOrNone=false``, up to 200 Ids), which answers a DeleteResult per Id."""
        if self.key_field == "Id":  # matched on the record Id itself
            ids = list(dict.fromkeys(keys))
        else:
            found = self._existing_keys(keys) if keys else {}
            ids = list(dict.fromkeys(found.values()))
        deleted = 0
        for start in range(0, len(ids), self.max_batch_size):
            chunk = ids[start : start + self.max_batch_size]
            response = self.request(
                "DELETE", self.collections, params={"ids": ",".join(chunk), "allOrNone": "false"}
            )
            results = _json(response) or []
            failed = [r for r in results if not r.get("success")]
            if failed:
                errors = failed[0].get("errors") or [{}]
                raise DestinationError(
                    f"salesforce: {len(failed)} of {len(chunk)} record(s) could not be deleted: "
                    f"{errors[0].get('statusCode', '?')}: {errors[0].get('message', '')}"
                )
            deleted += len(results)
        return deleted

    def _save(
        self,
        method: str,
        path: str,
        batch: Sequence[SyncRecord],
        records: list[dict[str, Any]],
        *,
        not_found_refused: bool = False,
    ) -> list[Rejection]:
        response = self.request(method, path, json={"allOrNone": False, "records": records})
        results = _json(response)
        if not isinstance(results, list) or len(results) != len(batch):
            raise BatchRejectedError(
                f"expected a list of {len(batch)} results, got {results!r}", code="bad answer"
            )
        rejections = []
        for record, result in zip(batch, results, strict=True):
            if result.get("success"):
                continue
            errors = result.get("errors") or [{}]
            text = "; ".join(
                f"{e.get('statusCode', 'ERROR')}: {e.get('message', '')}"
                + (f" ({', '.join(e['fields'])})" if e.get("fields") else "")
                for e in errors
            )
            codes = [str(e.get("statusCode", "ERROR")) for e in errors]
            code = "; ".join(
                c + (f" ({', '.join(e['fields'])})" if e.get("fields") else "")
                for c, e in zip(codes, errors, strict=True)
            )
            refused = not_found_refused and all(
                c in _SF_NOT_FOUND and set(e.get("fields") or []) <= {"Id"}
                for c, e in zip(codes, errors, strict=True)
            )
            if refused:
                text = (
                    f"Salesforce has no live {self.config.object_type} with this Id ({text}); "
                    "an update does not create records"
                )
            rejections.append(Rejection(record.key, text, code, refused=refused))
        return rejections


# -- webhook ---------------------------------------------------------------------------------


class WebhookDestination(HttpDestination):
    """JSON batches POSTed to the URL exactly as configured (its query string included, no
    slash added): ``{"batch_id", "destination", "sent_at", "records": [{"key", "data"}]}``,
    signed with HMAC-SHA256 over the body in ``X-Leadscore-Signature: sha256=<hex>``.
    ``X-Leadscore-Delivery`` (the batch id) is derived from the contents, so a batch sent
    again after a lost answer carries the same id and the receiver can drop it. 2xx
    acknowledges the batch, except the keys listed in an optional ``{"rejected": [{"key",
    "error"}]}`` answer."""

    name = "webhook"
    max_batch_size = 10_000

    def __init__(self, config: DestinationConfig, url: str, secret: str):
        _require_mode(config, ("upsert",))
        try:
            parsed = httpx.URL(url)
        except httpx.InvalidURL as error:
            raise SyncConfigError("LEADSCORE_WEBHOOK_URL is not a valid URL") from error
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise SyncConfigError("LEADSCORE_WEBHOOK_URL must be an absolute http(s) URL")
        super().__init__(None, {"Content-Type": "application/json"})
        self.config = config
        self._url = parsed
        self._secret = secret.encode()

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        digest = hashlib.sha256()
        for record in batch:
            digest.update(f"{record.key}\x1f{record.payload_hash}\x1e".encode())
        answer = self._post(
            digest.hexdigest()[:32],
            {"records": [{"key": r.key, "data": dict(r.values)} for r in batch]},
        )
        rejected = answer.get("rejected", []) if isinstance(answer, dict) else []
        return [
            Rejection(
                str(r.get("key")), str(r.get("error", "rejected")), "rejected by the receiver"
            )
            for r in rejected
        ]

    supports_erase = True

    def erase(self, keys: Sequence[str]) -> int:
        """An erase event, signed like a batch: ``{"batch_id", "destination", "sent_at",
        "event": "erase", "records": [{"key"}]}``; the receiver deletes what it holds for
        those keys and answers 2xx."""
        if not keys:
            return 0
        digest = hashlib.sha256(("erase\x1e" + "\x1f".join(sorted(keys))).encode())
        self._post(
            digest.hexdigest()[:32], {"event": "erase", "records": [{"key": k} for k in keys]}
        )
        return len(keys)

    def _post(self, batch_id: str, content: dict[str, Any]) -> Any:
        body = json.dumps(
            {
                "batch_id": batch_id,
                "destination": self.config.destination,
                "sent_at": datetime.now(UTC).isoformat(),
                **content,
            },
            separators=(",", ":"),
        ).encode()
        signature = hmac.new(self._secret, body, hashlib.sha256).hexdigest()
        response = self.request(
            "POST",
            self._url,
            content=body,
            headers={
                "X-Leadscore-Signature": f"sha256={signature}",
                "X-Leadscore-Delivery": batch_id,
            },
        )
        return _json(response)


def upsert_only(config: DestinationConfig) -> None:
    """Files and the PostgreSQL table always upsert."""
    _require_mode(config, ("upsert",))


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

        upsert_only(config)
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
            raise BatchRejectedError(
                f"{type(error).__name__}: {error}", code=type(error).__name__
            ) from error
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

    supports_erase = True

    def erase(self, keys: Sequence[str]) -> int:
        """DELETE of the keys' rows (none when the table was never created)."""
        key = quote_ident(self.config.id_property)
        try:
            with self._conn.cursor() as cur:
                cur.execute(f"delete from {self.table} where {key} = any(%s)", [list(keys)])
                return max(cur.rowcount, 0)
        except self._psycopg.errors.UndefinedTable:
            return 0
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
        upsert_only(config)
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
