"""What every destination shares: the seed row (``DestinationConfig``), the registration
record (``DestinationSpec``), the checks a destination runs on its seed row, and the HTTP
handling of the destinations that call an API (``HttpDestination``, ``CrmDestination``).

No URL, token or query string reaches a log: httpx's own request lines (``HTTP Request: POST
<url>`` at INFO, httpcore's at DEBUG) are dropped for the requests these adapters make.
"""

from __future__ import annotations

import contextvars
import email.utils
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pyarrow as pa

from orchestration.sync.engine import (
    BatchRejectedError,
    Destination,
    DestinationError,
    Rejection,
    RetryableError,
    SyncRecord,
)

if TYPE_CHECKING:
    from orchestration.lib.settings import Settings

SYNC_MODES = ("update", "upsert", "insert")
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
    def from_row(
        cls, row: Mapping[str, Any], *, default_sync_mode: str = "upsert"
    ) -> DestinationConfig:
        """``default_sync_mode``: the mode when the row leaves it empty (the destination's
        ``DestinationSpec.default_sync_mode``)."""
        destination = str(row["destination"]).strip()
        limit = row.get("max_requests_per_10s")
        mode = str(row.get("sync_mode") or "").strip().lower() or default_sync_mode
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


def require_match_key(config: DestinationConfig, supported: Sequence[str]) -> None:
    if config.match_key not in supported:
        raise SyncConfigError(
            f"sync_destinations row {config.destination!r}: match_key {config.match_key!r} "
            f"is not supported by {config.destination}; use one of {', '.join(supported)}"
        )


def require_mode(config: DestinationConfig, supported: Sequence[str]) -> None:
    if config.sync_mode not in supported:
        raise SyncConfigError(
            f"sync_destinations row {config.destination!r}: sync_mode {config.sync_mode!r} "
            f"is not supported by {config.destination}; use {' or '.join(supported)}"
        )


def upsert_only(config: DestinationConfig) -> None:
    """For the destinations that always upsert (files, the webhook, the PostgreSQL table)."""
    require_mode(config, ("upsert",))


def payload_columns(schema: pa.Schema) -> list[str]:
    """The payload's columns a destination writes: not the key, not the engine's own."""
    return [name for name in schema.names if not name.startswith("_") and name != "sync_key"]


# -- registration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class DestinationSpec:
    """How a destination registers (``DESTINATION`` in its module, listed in the package's
    ``__init__``): its name in the seed, its payload model, its connection variables and the
    factory that builds its adapter from a seed row, the settings and the environment."""

    name: str
    payload_model: str
    kind: str
    description: str
    build: Callable[[DestinationConfig, Settings, Mapping[str, str]], Destination]
    # Environment variables the destination needs; none means it always runs.
    required_env: tuple[str, ...] = ()
    # Alternative credentials: one of these sets of variables must be complete as well.
    one_of_env: tuple[tuple[str, ...], ...] = ()
    # The sync mode when the seed row leaves it empty.
    default_sync_mode: str = "upsert"

    def missing_env(self, env: Mapping[str, str]) -> list[str]:
        missing = [variable for variable in self.required_env if not env.get(variable)]
        if self.one_of_env and not any(all(env.get(v) for v in group) for group in self.one_of_env):
            missing.append(" or ".join(" and ".join(group) for group in self.one_of_env))
        return missing


# -- HTTP ------------------------------------------------------------------------------------


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


def json_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


@contextmanager
def network_errors_retryable(timed_out: str, where: str = "") -> Iterator[None]:
    """Our request (kept out of httpx's log): a timeout or a failed connection is retryable.
    ``timed_out`` is the error text of a timeout; ``where`` prefixes a connection failure's."""
    try:
        with quiet_http():
            yield
    except httpx.TimeoutException as error:
        raise RetryableError(timed_out) from error
    except httpx.TransportError as error:
        raise RetryableError(f"{where}connection failed ({type(error).__name__})") from error


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
        with network_errors_retryable(f"timed out after {self.timeout_seconds:.0f}s"):
            return self._client.request(method, path, headers=headers, **kwargs)

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
        body = json_body(response)
        if isinstance(body, list) and body and isinstance(body[0], dict):
            body = body[0]
        if not isinstance(body, dict):
            return ""
        code = body.get("errorCode") or body.get("category") or body.get("errorType")
        return f" {code}" if code else ""

    def close(self) -> None:
        self._client.close()


class CrmDestination(HttpDestination):
    """A CRM whose ``update`` and ``insert`` modes look the batch's keys up first (HubSpot,
    Salesforce): ``update`` refuses the records the CRM does not have, ``insert`` the ones it
    has, and the rest are written. Subclasses say how to look up, upsert, update and create."""

    config: DestinationConfig
    # The CRM's name in the refusal texts.
    label: str

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        mode = self.config.sync_mode
        if mode == "upsert":
            return self.upsert(batch)
        existing = self.existing_keys([r.key for r in batch])
        what = self.matched_on()
        if mode == "update":
            refused = [
                Rejection(
                    r.key,
                    f"{self.label} has no {what} = this key; sync_mode update does not create "
                    "records (upsert or insert does)",
                    f"not in {self.label}",
                    refused=True,
                )
                for r in batch
                if r.key not in existing
            ]
            found = [r for r in batch if r.key in existing]
            if not found:
                return refused
            return refused + self.update(found, existing)
        refused = [
            Rejection(
                r.key,
                f"{self.label} already has a {what} = this key; sync_mode insert does not "
                "update records (update or upsert does)",
                f"already in {self.label}",
                refused=True,
            )
            for r in batch
            if r.key in existing
        ]
        new = [r for r in batch if r.key not in existing]
        if not new:
            return refused
        return refused + self.create(new)

    def matched_on(self) -> str:
        """What a key names, for the refusal texts: e.g. "contacts record with email"."""
        raise NotImplementedError

    def existing_keys(self, keys: Sequence[str]) -> dict[str, str]:
        """Key -> record id of the keys' records the CRM has."""
        raise NotImplementedError

    def upsert(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        raise NotImplementedError

    def update(self, batch: Sequence[SyncRecord], ids: Mapping[str, str]) -> list[Rejection]:
        """Write the records the CRM has; ``ids``: key -> record id."""
        raise NotImplementedError

    def create(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        raise NotImplementedError
