"""Fake HubSpot CRM v3: batch upsert of contacts.

Reproduces ``POST /crm/v3/objects/contacts/batch/upsert`` ("Create or update a batch of contacts by
unique property values", developers.hubspot.com/docs/api-reference/.../batch/upsert-contacts):

* private-app auth ``Authorization: Bearer <token>``, 401 ``INVALID_AUTHENTICATION`` otherwise;
* body ``{"inputs": [{"idProperty": "email", "id": "a@b.com", "properties": {...}}]}``, at most
  ``batch_limit`` inputs (100 on the real API);
* any invalid input rejects the WHOLE batch with 400 ``VALIDATION_ERROR`` and nothing is applied:
  too many or no inputs, duplicate ids, unknown properties (``PROPERTY_DOESNT_EXIST``), invalid
  email (``INVALID_EMAIL``), an ``idProperty`` that is not a unique property;
* success is 200 ``{"status": "COMPLETE", "results": [...], "startedAt", "completedAt"}`` with one
  result per input (``id`` = numeric ``hs_object_id``, merged ``properties``, ``new``);
* property values are stored as strings, as HubSpot does (``True`` → ``"true"``, ``42`` → ``"42"``;
  ``None`` clears);
* the ten-secondly rolling limit answers 429 with the real ``RATE_LIMIT`` body and the
  ``X-HubSpot-RateLimit-*`` headers (HubSpot sends no ``Retry-After``).
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tests.fakes.base import FakeService, IncomingRequest, Reply

UPSERT_PATH = "/crm/v3/objects/contacts/batch/upsert"

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)

# Simple syntactic check (HubSpot also requires a known top-level domain; we only need the shape).
EMAIL_RE = re.compile(r"^[^@\s\"]+@[^@\s]+\.[A-Za-z]{2,}$")


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _hubspot_value(value: Any) -> str | None:
    """HubSpot stores every property value as a string; JSON true/false become "true"/"false"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


class FakeHubSpot(FakeService):
    """A HubSpot account with contacts, spoken to through the CRM v3 batch upsert endpoint."""

    name = "fake-hubspot"

    def __init__(
        self,
        token: str,
        *,
        known_properties: set[str] | None = None,
        unique_properties: Iterable[str] | None = None,
        batch_limit: int = 100,
        **base_kwargs: Any,
    ) -> None:
        """``unique_properties`` defaults to ``{"email"}``; ``known_properties=None`` accepts any
        property name (otherwise an unknown name is ``PROPERTY_DOESNT_EXIST``)."""
        super().__init__(**base_kwargs)
        self.token = token
        self.unique_properties = set(unique_properties or {"email"})
        self.known_properties = (
            None if known_properties is None else set(known_properties) | self.unique_properties
        )
        self.batch_limit = batch_limit
        self._objects: dict[str, dict[str, str | None]] = {}  # hs_object_id -> properties
        self._key_of: dict[str, str] = {}  # hs_object_id -> id value it was created with
        self._created_at: dict[str, str] = {}
        self._updated_at: dict[str, str] = {}
        self._index: dict[str, dict[str, str]] = {p: {} for p in self.unique_properties}
        self._received_ids: list[str] = []
        self._next_object_id = 51_000_001

    # -- state for assertions --------------------------------------------------------------------

    @property
    def contacts(self) -> dict[str, dict[str, str | None]]:
        """Snapshot: id value the contact was created with → its current properties."""
        with self._lock:
            return {self._key_of[oid]: dict(props) for oid, props in self._objects.items()}

    def object_id(self, key: str) -> str | None:
        """The ``hs_object_id`` of the contact created with id value ``key``."""
        with self._lock:
            return next((oid for oid, k in self._key_of.items() if k == key), None)

    def received_ids(self) -> list[str]:
        """Every input id of every applied call, in order, duplicates kept."""
        with self._lock:
            return list(self._received_ids)

    # -- wire format -----------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, message: str, category: str, **extra: Any) -> Reply:
        body = {
            "status": "error",
            "message": message,
            "correlationId": str(uuid.uuid4()),
            **extra,
            "category": category,
        }
        return Reply(status, body)

    def error_body(self, status: int) -> Any:
        if status == 429:
            return self._rate_limit_body()
        category = {401: "INVALID_AUTHENTICATION", 403: "MISSING_SCOPES", 404: "OBJECT_NOT_FOUND"}
        return {
            "status": "error",
            "message": "internal error" if status >= 500 else f"HTTP {status}",
            "correlationId": str(uuid.uuid4()),
            "category": category.get(status, "INTERNAL_ERROR" if status >= 500 else "UNKNOWN"),
        }

    @staticmethod
    def _rate_limit_body() -> dict[str, Any]:
        return {
            "status": "error",
            "message": "You have reached your ten_secondly_rolling limit.",
            "errorType": "RATE_LIMIT",
            "correlationId": str(uuid.uuid4()),
            "policyName": "TEN_SECONDLY_ROLLING",
        }

    def _rate_headers(self, remaining: int | None) -> dict[str, str]:
        if self.rate_limit is None or remaining is None:
            return {}
        return {
            "X-HubSpot-RateLimit-Interval-Milliseconds": str(int(self.rate_limit[1] * 1000)),
            "X-HubSpot-RateLimit-Max": str(self.rate_limit[0]),
            "X-HubSpot-RateLimit-Remaining": str(remaining),
        }

    def rate_limited_reply(self, retry_after_seconds: float) -> Reply:
        return Reply(429, self._rate_limit_body(), headers=self._rate_headers(0))

    def authorize(self, request: IncomingRequest) -> Reply | None:
        if request.bearer_token() != self.token:
            return self._error(401, AUTH_MESSAGE, "INVALID_AUTHENTICATION")
        return None

    # -- the endpoint ----------------------------------------------------------------------------

    def handle(self, request: IncomingRequest) -> Reply:
        if request.path.rstrip("/") != UPSERT_PATH:
            return self._error(404, f"Resource not found: {request.path}", "OBJECT_NOT_FOUND")
        if request.method != "POST":
            return self._error(405, f"HTTP {request.method} is not supported", "VALIDATION_ERROR")
        reply = self._validate(request)
        if reply is None:
            reply = self._apply(request.json["inputs"])
        reply.headers.update(self._rate_headers(self.rate_limit_remaining()))
        return reply

    def _validate(self, request: IncomingRequest) -> Reply | None:
        """Whole-batch validation: any problem rejects every input (nothing applied)."""
        if request.json_error is not None:
            return self._error(
                400,
                f"Invalid input JSON on line 1, column 1: {request.json_error}",
                "VALIDATION_ERROR",
            )
        body = request.json
        inputs = body.get("inputs") if isinstance(body, dict) else None
        if not isinstance(inputs, list):
            return self._error(
                400, "Invalid input JSON: 'inputs' must be an array", "VALIDATION_ERROR"
            )
        if not inputs:
            return self._error(
                400, "Batch input must contain at least one input", "VALIDATION_ERROR"
            )
        if len(inputs) > self.batch_limit:
            return self._error(
                400,
                f"The maximum number of inputs supported in a batch is {self.batch_limit}. "
                "Please reduce the number of items and try again",
                "VALIDATION_ERROR",
            )
        seen: set[tuple[str, str]] = set()
        duplicates: list[str] = []
        invalid: list[dict[str, Any]] = []
        targets: list[str | None] = []
        for position, item in enumerate(inputs):
            if not isinstance(item, dict):
                return self._error(
                    400,
                    f"Invalid input JSON: inputs[{position}] is not an object",
                    "VALIDATION_ERROR",
                )
            id_property, id_value = item.get("idProperty"), item.get("id")
            if not isinstance(id_value, str) or not id_value:
                return self._error(
                    400,
                    f"inputs[{position}]: 'id' is required and must be a string",
                    "VALIDATION_ERROR",
                )
            if not isinstance(id_property, str) or not id_property:
                return self._error(
                    400, f"inputs[{position}]: 'idProperty' is required", "VALIDATION_ERROR"
                )
            if id_property not in self.unique_properties:
                return self._error(
                    400,
                    f'Property "{id_property}" is not a unique property; idProperty must name a '
                    "property with unique values",
                    "VALIDATION_ERROR",
                )
            properties = item.get("properties", {})
            if not isinstance(properties, dict):
                return self._error(
                    400, f"inputs[{position}]: 'properties' must be an object", "VALIDATION_ERROR"
                )
            if (id_property, id_value) in seen:
                duplicates.append(id_value)
            seen.add((id_property, id_value))
            if id_property == "email" and not EMAIL_RE.match(id_value):
                invalid.append(self._invalid_email(id_value))
            for name, value in properties.items():
                if self.known_properties is not None and name not in self.known_properties:
                    invalid.append(
                        self._invalid(
                            name, f'Property "{name}" does not exist', "PROPERTY_DOESNT_EXIST"
                        )
                    )
                elif isinstance(value, dict | list):
                    invalid.append(
                        self._invalid(
                            name,
                            f'{json.dumps(value)} is not a valid value for property "{name}"',
                            "INVALID_STRING",
                        )
                    )
                elif name == "email" and value not in (None, "") and not EMAIL_RE.match(str(value)):
                    invalid.append(self._invalid_email(str(value)))
            targets.append(self._index[id_property].get(id_value))
        if duplicates:
            unique_dupes = list(dict.fromkeys(duplicates))
            return self._error(
                400,
                f"Duplicate IDs found in batch input: [{', '.join(unique_dupes)}]. "
                "IDs must be unique",
                "VALIDATION_ERROR",
                context={"ids": unique_dupes},
            )
        if invalid:
            return self._error(
                400,
                "Property values were not valid: " + json.dumps(invalid, separators=(",", ":")),
                "VALIDATION_ERROR",
            )
        return self._check_conflicts(inputs, targets)

    def _check_conflicts(
        self, inputs: list[dict[str, Any]], targets: list[str | None]
    ) -> Reply | None:
        """A unique property value already owned by another contact is a 409 CONFLICT."""
        for item, target in zip(inputs, targets, strict=True):
            for name, value in (item.get("properties") or {}).items():
                if name == item["idProperty"] or name not in self.unique_properties:
                    continue
                owner = self._index[name].get(_hubspot_value(value) or "")
                if owner is not None and owner != target:
                    return self._error(
                        409, f"Contact already exists. Existing ID: {owner}", "CONFLICT"
                    )
        return None

    @staticmethod
    def _invalid(name: str, message: str, error: str) -> dict[str, Any]:
        return {"isValid": False, "message": message, "error": error, "name": name}

    def _invalid_email(self, value: str) -> dict[str, Any]:
        return self._invalid("email", f"Email address {value} is invalid", "INVALID_EMAIL")

    def _apply(self, inputs: list[dict[str, Any]]) -> Reply:
        started = _now()
        results = []
        for item in inputs:
            id_property, id_value = item["idProperty"], item["id"]
            properties = {k: _hubspot_value(v) for k, v in (item.get("properties") or {}).items()}
            properties[id_property] = id_value
            object_id = self._index[id_property].get(id_value)
            created = object_id is None
            now = _now()
            if object_id is None:
                object_id = str(self._next_object_id)
                self._next_object_id += 1
                self._objects[object_id] = {}
                self._key_of[object_id] = id_value
                self._created_at[object_id] = now
            stored = self._objects[object_id]
            for name, value in properties.items():
                if name in self._index:
                    old = stored.get(name)
                    if old is not None and self._index[name].get(old) == object_id:
                        del self._index[name][old]
                    if value not in (None, ""):
                        self._index[name][value] = object_id
                stored[name] = value
            self._updated_at[object_id] = now
            self._received_ids.append(id_value)
            results.append(
                {
                    "id": object_id,
                    "properties": {
                        **stored,
                        "hs_object_id": object_id,
                        "createdate": self._created_at[object_id],
                        "lastmodifieddate": now,
                    },
                    "createdAt": self._created_at[object_id],
                    "updatedAt": now,
                    "archived": False,
                    "new": created,
                }
            )
        body = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": _now(),
        }
        return Reply(200, body, applied=True)
