"""Fake HubSpot CRM v3: contacts (batch upsert, read, update, create) and their properties.

Reproduces (developers.hubspot.com/docs/api-reference, CRM contacts and properties v3):

* ``POST /crm/v3/objects/contacts/batch/upsert`` ("Create or update a batch of contacts by
  unique property values"): body ``{"inputs": [{"idProperty": "email", "id": "a@b.com",
  "properties": {...}}]}``; success is 200 ``{"status": "COMPLETE", "results": [...],
  "startedAt", "completedAt"}`` with one result per input (``id`` = numeric ``hs_object_id``,
  merged ``properties``, ``new``);
* ``POST /crm/v3/objects/contacts/batch/read`` ("Retrieve a batch of contacts by record ID or
  unique property value"): body ``{"idProperty"?, "inputs": [{"id"}], "properties": [...]}``;
  the contacts found are ``results``; when some are missing the answer is 207 Multi-Status
  with an ``OBJECT_NOT_FOUND`` error whose ``context.ids`` lists them ("Could not get some
  CONTACT objects, they may be deleted or not exist. Check that ids are valid.");
* ``POST /crm/v3/objects/contacts/batch/update`` ("Update a batch of contacts by ID or unique
  property value"): body ``{"inputs": [{"id", "properties", "idProperty"?}]}``; the
  ``idProperty`` must be a property with unique values (``email`` is not one: HubSpot answers
  400 "Unable to perform update/upsert by non-unique ... property"); records that do not
  exist are not created: 207 with an ``OBJECT_NOT_FOUND`` error listing their ids, the others
  are applied;
* ``POST /crm/v3/objects/contacts/batch/create``: body ``{"inputs": [{"properties"}]}``,
  201 with the created records; a contact whose email (or another unique value) exists makes
  HubSpot refuse the whole batch with 409 ``CONFLICT`` "Contact already exists. Existing ID:
  <id>" (nothing applied);
* the properties API: ``GET /crm/v3/properties/contacts`` (``{"results": [...]}``),
  ``GET /crm/v3/properties/contacts/{name}`` (404 when missing), ``POST
  /crm/v3/properties/contacts`` (201 with the property; 409 when the name exists; 400 for a
  missing field, a ``type`` / ``fieldType`` pair the docs do not list, or an unknown
  group), ``GET`` / ``POST /crm/v3/properties/contacts/groups[/{name}]``;
* ``POST /crm/v3/objects/contacts/gdpr-delete`` ("Permanently delete a contact and all
  associated content to follow GDPR"): body ``{"objectId", "idProperty"?}``; with
  ``"idProperty": "email"`` the contact is found by email, and an email no contact has is
  added to a blocklist (so it cannot be used again); without it ``objectId`` is the record id
  (404 ``OBJECT_NOT_FOUND`` when there is none); success is 204 with no body;
* private-app auth ``Authorization: Bearer <token>``, 401 ``INVALID_AUTHENTICATION`` otherwise;
* at most ``batch_limit`` inputs (100 on the real API); any invalid input rejects the WHOLE
  batch with 400 ``VALIDATION_ERROR`` and nothing is applied: too many or no inputs, duplicate
  ids, unknown properties (``PROPERTY_DOESNT_EXIST``), invalid email (``INVALID_EMAIL``), an
  ``idProperty`` that is not a unique property;
* property values are stored as strings, as HubSpot does (``True`` → ``"true"``, ``42`` →
  ``"42"``; ``None`` clears);
* the ten-secondly rolling limit answers 429 with the real ``RATE_LIMIT`` body and the
  ``X-HubSpot-RateLimit-*`` headers (HubSpot sends no ``Retry-After``).

The account starts with a few of HubSpot's default contact properties (``email``,
``firstname``, ``lastname``, ...) in the ``contactinformation`` group, plus
``known_properties`` and ``unique_properties``; properties created through the API are added.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from tests.fakes.base import FakeService, IncomingRequest, Reply

OBJECTS_PATH = "/crm/v3/objects/contacts"
UPSERT_PATH = f"{OBJECTS_PATH}/batch/upsert"
READ_PATH = f"{OBJECTS_PATH}/batch/read"
UPDATE_PATH = f"{OBJECTS_PATH}/batch/update"
CREATE_PATH = f"{OBJECTS_PATH}/batch/create"
GDPR_DELETE_PATH = f"{OBJECTS_PATH}/gdpr-delete"
PROPERTIES_PATH = "/crm/v3/properties/contacts"
GROUPS_PATH = f"{PROPERTIES_PATH}/groups"

AUTH_MESSAGE = (
    "Authentication credentials not found. This API supports OAuth 2.0 authentication and you "
    "can find more details at https://developers.hubspot.com/docs/methods/auth/oauth-overview"
)
NOT_FOUND_MESSAGE = (
    "Could not get some CONTACT objects, they may be deleted or not exist. Check that ids are "
    "valid."
)

# Simple syntactic check (HubSpot also requires a known top-level domain; we only need the shape).
EMAIL_RE = re.compile(r"^[^@\s\"]+@[^@\s]+\.[A-Za-z]{2,}$")
PROPERTY_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")

# The docs' table of property types and the field types valid for each.
FIELD_TYPES = {
    "bool": {"booleancheckbox", "calculation_equation"},
    "enumeration": {"booleancheckbox", "checkbox", "radio", "select", "calculation_equation"},
    "date": {"date"},
    "datetime": {"date"},
    "string": {"file", "text", "textarea", "calculation_equation", "html", "phonenumber"},
    "number": {"number", "calculation_equation"},
}

DEFAULT_GROUP = "contactinformation"
# A few of HubSpot's default contact properties: (name, label, type, fieldType, read-only).
DEFAULT_PROPERTIES = (
    ("email", "Email", "string", "text", False),
    ("firstname", "First Name", "string", "text", False),
    ("lastname", "Last Name", "string", "text", False),
    ("phone", "Phone Number", "string", "phonenumber", False),
    ("company", "Company Name", "string", "text", False),
    ("hs_object_id", "Record ID", "number", "number", True),
    ("createdate", "Create Date", "datetime", "date", True),
    ("lastmodifieddate", "Last Modified Date", "datetime", "date", True),
)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _hubspot_value(value: Any) -> str | None:
    """HubSpot stores every property value as a string; JSON true/false become "true"/"false"."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    return str(value)


def _property(
    name: str,
    label: str,
    kind: str,
    field_type: str,
    *,
    group: str = DEFAULT_GROUP,
    unique: bool = False,
    hubspot_defined: bool = False,
    read_only: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    now = _now()
    prop = {
        "name": name,
        "label": label,
        "type": kind,
        "fieldType": field_type,
        "description": extra.pop("description", ""),
        "groupName": group,
        "options": extra.pop("options", []),
        "displayOrder": extra.pop("displayOrder", -1),
        "calculated": False,
        "externalOptions": False,
        "hasUniqueValue": unique,
        "hidden": extra.pop("hidden", False),
        "modificationMetadata": {
            "archivable": not hubspot_defined,
            "readOnlyDefinition": hubspot_defined,
            "readOnlyValue": read_only,
        },
        "formField": extra.pop("formField", False),
        "createdAt": now,
        "updatedAt": now,
        "archived": False,
    }
    if hubspot_defined:
        prop["hubspotDefined"] = True
    return prop


class FakeHubSpot(FakeService):
    """A HubSpot account with contacts and contact properties, spoken to through the CRM v3
    batch and properties endpoints."""

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
        property name in object writes (otherwise an unknown name is ``PROPERTY_DOESNT_EXIST``).
        The properties API lists the default properties, ``known_properties``,
        ``unique_properties`` and those created through it."""
        super().__init__(**base_kwargs)
        self.token = token
        self.unique_properties = set(unique_properties or {"email"})
        self.accept_any_property = known_properties is None
        self.batch_limit = batch_limit
        self._groups: dict[str, dict[str, Any]] = {
            DEFAULT_GROUP: {
                "name": DEFAULT_GROUP,
                "label": "Contact information",
                "displayOrder": 0,
                "archived": False,
            }
        }
        self._properties: dict[str, dict[str, Any]] = {}
        for name, label, kind, field_type, read_only in DEFAULT_PROPERTIES:
            self._properties[name] = _property(
                name, label, kind, field_type, hubspot_defined=True, read_only=read_only
            )
        for name in sorted(set(known_properties or ()) | self.unique_properties):
            if name not in self._properties:
                self._properties[name] = _property(
                    name, name, "string", "text", unique=name in self.unique_properties
                )
        self._objects: dict[str, dict[str, str | None]] = {}  # hs_object_id -> properties
        self._key_of: dict[str, str] = {}  # hs_object_id -> id value it was created with
        self._created_at: dict[str, str] = {}
        self._updated_at: dict[str, str] = {}
        self._index: dict[str, dict[str, str]] = {p: {} for p in self.unique_properties}
        self._received_ids: list[str] = []
        self._next_object_id = 51_000_001
        self.blocklist: set[str] = set()  # emails of GDPR-deleted contacts

    @property
    def known_properties(self) -> set[str] | None:
        """Property names object writes accept (None: any)."""
        return None if self.accept_any_property else set(self._properties)

    # -- state for assertions and set-up ---------------------------------------------------------

    @property
    def contacts(self) -> dict[str, dict[str, str | None]]:
        """Snapshot: id value the contact was created with → its current properties."""
        with self._lock:
            return {self._key_of[oid]: dict(props) for oid, props in self._objects.items()}

    @property
    def properties(self) -> dict[str, dict[str, Any]]:
        """Snapshot: name → definition of every property of the account."""
        with self._lock:
            return {name: dict(prop) for name, prop in self._properties.items()}

    @property
    def groups(self) -> dict[str, dict[str, Any]]:
        with self._lock:
            return {name: dict(group) for name, group in self._groups.items()}

    def object_id(self, key: str) -> str | None:
        """The ``hs_object_id`` of the contact created with id value ``key``."""
        with self._lock:
            return next((oid for oid, k in self._key_of.items() if k == key), None)

    def received_ids(self) -> list[str]:
        """Every input id of every applied write (for updates by record id, the id value the
        contact was created with), in order, duplicates kept."""
        with self._lock:
            return list(self._received_ids)

    def add_contact(self, key: str, *, id_property: str = "email", **properties: Any) -> str:
        """Test hook: a contact that exists before the test (created in HubSpot by someone
        else), keyed by ``key`` in ``id_property``. Returns its ``hs_object_id``."""
        with self._lock:
            object_id = self._new_object(key)
            values = {k: _hubspot_value(v) for k, v in properties.items()}
            self._store(object_id, {**values, id_property: key})
            return object_id

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

    # -- routing ---------------------------------------------------------------------------------

    def handle(self, request: IncomingRequest) -> Reply:
        reply = self._route(request)
        reply.headers.update(self._rate_headers(self.rate_limit_remaining()))
        return reply

    def _route(self, request: IncomingRequest) -> Reply:
        path = request.path.rstrip("/")
        batch = {
            UPSERT_PATH: self._upsert,
            READ_PATH: self._read,
            UPDATE_PATH: self._update,
            CREATE_PATH: self._create,
            GDPR_DELETE_PATH: self._gdpr_delete,
        }
        if path in batch:
            if request.method != "POST":
                return self._not_allowed(request)
            invalid = self._json_error(request)
            return invalid or batch[path](request)
        if path == GROUPS_PATH or path.startswith(GROUPS_PATH + "/"):
            return self._groups_endpoint(request, path[len(GROUPS_PATH) + 1 :])
        if path == PROPERTIES_PATH or path.startswith(PROPERTIES_PATH + "/"):
            return self._properties_endpoint(request, path[len(PROPERTIES_PATH) + 1 :])
        return self._error(404, f"Resource not found: {request.path}", "OBJECT_NOT_FOUND")

    def _not_allowed(self, request: IncomingRequest) -> Reply:
        return self._error(405, f"HTTP {request.method} is not supported", "VALIDATION_ERROR")

    def _json_error(self, request: IncomingRequest) -> Reply | None:
        if request.json_error is not None:
            return self._error(
                400,
                f"Invalid input JSON on line 1, column 1: {request.json_error}",
                "VALIDATION_ERROR",
            )
        return None

    # -- properties API --------------------------------------------------------------------------

    def _properties_endpoint(self, request: IncomingRequest, name: str) -> Reply:
        if not name:
            if request.method == "GET":
                return Reply(200, {"results": [dict(p) for p in self._properties.values()]})
            if request.method == "POST":
                return self._json_error(request) or self._create_property(request.json)
            return self._not_allowed(request)
        if "/" in name:
            return self._error(404, f"Resource not found: {request.path}", "OBJECT_NOT_FOUND")
        if request.method != "GET":
            return self._not_allowed(request)
        prop = self._properties.get(name)
        if prop is None:
            return self._error(
                404, f"Unable to find property {name} for object type 0-1", "OBJECT_NOT_FOUND"
            )
        return Reply(200, dict(prop))

    def _create_property(self, body: Any) -> Reply:
        if not isinstance(body, dict):
            return self._error(400, "Invalid input JSON: expected an object", "VALIDATION_ERROR")
        required = ("name", "label", "type", "fieldType", "groupName")
        missing = [f for f in required if not isinstance(body.get(f), str) or not body.get(f)]
        if missing:
            return self._error(
                400,
                f"Some required fields were not set: [{', '.join(missing)}]",
                "VALIDATION_ERROR",
            )
        name, kind, field_type = body["name"], body["type"], body["fieldType"]
        if not PROPERTY_NAME_RE.match(name):
            return self._error(
                400,
                f"Property name {name!r} must start with a lowercase letter and contain only "
                "lowercase letters, digits and underscores",
                "VALIDATION_ERROR",
            )
        if kind not in FIELD_TYPES:
            return self._error(400, f"Invalid property type: {kind}", "VALIDATION_ERROR")
        if field_type not in FIELD_TYPES[kind]:
            return self._error(
                400,
                f"Invalid fieldType {field_type} for a property of type {kind}",
                "VALIDATION_ERROR",
            )
        if body["groupName"] not in self._groups:
            return self._error(
                400, f"Property group {body['groupName']} does not exist", "VALIDATION_ERROR"
            )
        if name in self._properties:
            return self._error(
                409, f"Property named '{name}' already exists.", "OBJECT_ALREADY_EXISTS"
            )
        extra = {
            k: body[k]
            for k in ("description", "options", "displayOrder", "hidden", "formField")
            if k in body
        }
        prop = _property(
            name,
            body["label"],
            kind,
            field_type,
            group=body["groupName"],
            unique=bool(body.get("hasUniqueValue", False)),
            **extra,
        )
        self._properties[name] = prop
        if prop["hasUniqueValue"]:
            self.unique_properties.add(name)
            self._index.setdefault(name, {})
        return Reply(201, dict(prop), applied=True)

    def _groups_endpoint(self, request: IncomingRequest, name: str) -> Reply:
        if not name:
            if request.method == "GET":
                return Reply(200, {"results": [dict(g) for g in self._groups.values()]})
            if request.method != "POST":
                return self._not_allowed(request)
            invalid = self._json_error(request)
            if invalid is not None:
                return invalid
            body = request.json if isinstance(request.json, dict) else {}
            missing = [f for f in ("name", "label") if not isinstance(body.get(f), str)]
            if missing:
                return self._error(
                    400,
                    f"Some required fields were not set: [{', '.join(missing)}]",
                    "VALIDATION_ERROR",
                )
            if body["name"] in self._groups:
                return self._error(
                    409,
                    f"Property group named '{body['name']}' already exists.",
                    "OBJECT_ALREADY_EXISTS",
                )
            group = {
                "name": body["name"],
                "label": body["label"],
                "displayOrder": body.get("displayOrder", -1),
                "archived": False,
            }
            self._groups[group["name"]] = group
            return Reply(201, dict(group), applied=True)
        if request.method != "GET":
            return self._not_allowed(request)
        group = self._groups.get(name)
        if group is None:
            return self._error(
                404, f"Unable to find property group {name} for object type 0-1", "OBJECT_NOT_FOUND"
            )
        return Reply(200, dict(group))

    # -- shared validation -----------------------------------------------------------------------

    def _inputs(self, request: IncomingRequest) -> list[dict[str, Any]] | Reply:
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
        for position, item in enumerate(inputs):
            if not isinstance(item, dict):
                return self._error(
                    400,
                    f"Invalid input JSON: inputs[{position}] is not an object",
                    "VALIDATION_ERROR",
                )
        return inputs

    def _property_errors(self, properties: dict[str, Any]) -> list[dict[str, Any]]:
        invalid: list[dict[str, Any]] = []
        known = self.known_properties
        for name, value in properties.items():
            if known is not None and name not in known:
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
        return invalid

    def _properties_of(self, item: dict[str, Any], position: int) -> dict[str, Any] | Reply:
        properties = item.get("properties", {})
        if not isinstance(properties, dict):
            return self._error(
                400, f"inputs[{position}]: 'properties' must be an object", "VALIDATION_ERROR"
            )
        return properties

    def _invalid_reply(self, invalid: list[dict[str, Any]]) -> Reply:
        return self._error(
            400,
            "Property values were not valid: " + json.dumps(invalid, separators=(",", ":")),
            "VALIDATION_ERROR",
        )

    @staticmethod
    def _duplicates_reply(duplicates: list[str]) -> Reply:
        unique_dupes = list(dict.fromkeys(duplicates))
        return FakeHubSpot._error(
            400,
            f"Duplicate IDs found in batch input: [{', '.join(unique_dupes)}]. IDs must be unique",
            "VALIDATION_ERROR",
            context={"ids": unique_dupes},
        )

    @staticmethod
    def _invalid(name: str, message: str, error: str) -> dict[str, Any]:
        return {"isValid": False, "message": message, "error": error, "name": name}

    def _invalid_email(self, value: str) -> dict[str, Any]:
        return self._invalid("email", f"Email address {value} is invalid", "INVALID_EMAIL")

    def _lookup(self, id_property: str | None, value: str) -> str | None:
        """The hs_object_id of the contact with this record id or unique value."""
        if id_property is None:
            return value if value in self._objects else None
        index = self._index.get(id_property, {})
        if id_property == "email":
            return index.get(value) or next(
                (oid for v, oid in index.items() if v.casefold() == value.casefold()), None
            )
        return index.get(value)

    # -- batch upsert ----------------------------------------------------------------------------

    def _upsert(self, request: IncomingRequest) -> Reply:
        reply = self._validate_upsert(request)
        if reply is None:
            reply = self._apply_upsert(request.json["inputs"])
        return reply

    def _validate_upsert(self, request: IncomingRequest) -> Reply | None:
        """Whole-batch validation: any problem rejects every input (nothing applied)."""
        inputs = self._inputs(request)
        if isinstance(inputs, Reply):
            return inputs
        seen: set[tuple[str, str]] = set()
        duplicates: list[str] = []
        invalid: list[dict[str, Any]] = []
        targets: list[str | None] = []
        for position, item in enumerate(inputs):
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
            properties = self._properties_of(item, position)
            if isinstance(properties, Reply):
                return properties
            if (id_property, id_value) in seen:
                duplicates.append(id_value)
            seen.add((id_property, id_value))
            if id_property == "email" and not EMAIL_RE.match(id_value):
                invalid.append(self._invalid_email(id_value))
            invalid.extend(self._property_errors(properties))
            targets.append(self._index[id_property].get(id_value))
        if duplicates:
            return self._duplicates_reply(duplicates)
        if invalid:
            return self._invalid_reply(invalid)
        return self._check_conflicts(inputs, targets)

    def _check_conflicts(
        self, inputs: list[dict[str, Any]], targets: list[str | None]
    ) -> Reply | None:
        """A unique property value already owned by another contact is a 409 CONFLICT."""
        for item, target in zip(inputs, targets, strict=True):
            for name, value in (item.get("properties") or {}).items():
                if name == item.get("idProperty") or name not in self.unique_properties:
                    continue
                owner = self._index[name].get(_hubspot_value(value) or "")
                if owner is not None and owner != target:
                    return self._error(
                        409, f"Contact already exists. Existing ID: {owner}", "CONFLICT"
                    )
        return None

    def _apply_upsert(self, inputs: list[dict[str, Any]]) -> Reply:
        started = _now()
        results = []
        for item in inputs:
            id_property, id_value = item["idProperty"], item["id"]
            properties = {k: _hubspot_value(v) for k, v in (item.get("properties") or {}).items()}
            properties[id_property] = id_value
            object_id = self._index[id_property].get(id_value)
            created = object_id is None
            if object_id is None:
                object_id = self._new_object(id_value)
            self._store(object_id, properties)
            self._received_ids.append(id_value)
            results.append({**self._result(object_id), "new": created})
        body = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": _now(),
        }
        return Reply(200, body, applied=True)

    # -- batch read ------------------------------------------------------------------------------

    def _read(self, request: IncomingRequest) -> Reply:
        inputs = self._inputs(request)
        if isinstance(inputs, Reply):
            return inputs
        body = request.json
        id_property = body.get("idProperty")
        if id_property is not None and (
            not isinstance(id_property, str) or id_property not in self.unique_properties
        ):
            return self._error(
                400,
                f'Property "{id_property}" is not a unique property; idProperty must name a '
                "property with unique values",
                "VALIDATION_ERROR",
            )
        requested = body.get("properties") or []
        if not isinstance(requested, list):
            return self._error(
                400, "Invalid input JSON: 'properties' must be an array", "VALIDATION_ERROR"
            )
        started = _now()
        results, missing = [], []
        for position, item in enumerate(inputs):
            value = item.get("id")
            if not isinstance(value, str) or not value:
                return self._error(
                    400,
                    f"inputs[{position}]: 'id' is required and must be a string",
                    "VALIDATION_ERROR",
                )
            object_id = self._lookup(id_property, value)
            if object_id is None:
                missing.append(value)
                continue
            results.append(self._result(object_id, requested))
        return self._batch_reply(200, started, results, missing)

    # -- batch update ----------------------------------------------------------------------------

    def _update(self, request: IncomingRequest) -> Reply:
        inputs = self._inputs(request)
        if isinstance(inputs, Reply):
            return inputs
        duplicates: list[str] = []
        invalid: list[dict[str, Any]] = []
        seen: set[tuple[str | None, str]] = set()
        for position, item in enumerate(inputs):
            id_property, id_value = item.get("idProperty"), item.get("id")
            if not isinstance(id_value, str) or not id_value:
                return self._error(
                    400,
                    f"inputs[{position}]: 'id' is required and must be a string",
                    "VALIDATION_ERROR",
                )
            if id_property is not None and (
                not isinstance(id_property, str)
                or id_property == "email"
                or id_property not in self.unique_properties
            ):
                return self._error(
                    400,
                    f"Unable to perform update/upsert by non-unique 0-1 property {id_property}",
                    "VALIDATION_ERROR",
                )
            properties = self._properties_of(item, position)
            if isinstance(properties, Reply):
                return properties
            if (id_property, id_value) in seen:
                duplicates.append(id_value)
            seen.add((id_property, id_value))
            invalid.extend(self._property_errors(properties))
        if duplicates:
            return self._duplicates_reply(duplicates)
        if invalid:
            return self._invalid_reply(invalid)
        started = _now()
        results, missing = [], []
        for item in inputs:
            object_id = self._lookup(item.get("idProperty"), item["id"])
            if object_id is None:
                missing.append(item["id"])
                continue
            properties = {k: _hubspot_value(v) for k, v in (item.get("properties") or {}).items()}
            self._store(object_id, properties)
            self._received_ids.append(self._key_of[object_id])
            results.append(self._result(object_id))
        reply = self._batch_reply(200, started, results, missing)
        reply.applied = bool(results)
        return reply

    # -- batch create ----------------------------------------------------------------------------

    def _create(self, request: IncomingRequest) -> Reply:
        inputs = self._inputs(request)
        if isinstance(inputs, Reply):
            return inputs
        invalid: list[dict[str, Any]] = []
        prepared: list[dict[str, Any]] = []
        for position, item in enumerate(inputs):
            properties = self._properties_of(item, position)
            if isinstance(properties, Reply):
                return properties
            invalid.extend(self._property_errors(properties))
            prepared.append(properties)
        if invalid:
            return self._invalid_reply(invalid)
        claimed: dict[tuple[str, str], int] = {}
        for position, properties in enumerate(prepared):
            for name in self.unique_properties:
                value = _hubspot_value(properties.get(name))
                if value in (None, ""):
                    continue
                owner = self._lookup(name, value)
                if owner is not None:
                    return self._error(
                        409, f"Contact already exists. Existing ID: {owner}", "CONFLICT"
                    )
                if (name, value) in claimed:
                    return self._duplicates_reply([value])
                claimed[(name, value)] = position
        started = _now()
        results = []
        for properties in prepared:
            values = {k: _hubspot_value(v) for k, v in properties.items()}
            key = next((values[p] for p in sorted(self.unique_properties) if values.get(p)), None)
            object_id = self._new_object(key)
            self._store(object_id, values)
            self._received_ids.append(self._key_of[object_id])
            results.append(self._result(object_id))
        body = {
            "status": "COMPLETE",
            "results": results,
            "startedAt": started,
            "completedAt": _now(),
        }
        return Reply(201, body, applied=True)

    # -- GDPR delete -----------------------------------------------------------------------------

    def _gdpr_delete(self, request: IncomingRequest) -> Reply:
        body = request.json
        object_id = body.get("objectId") if isinstance(body, dict) else None
        id_property = body.get("idProperty") if isinstance(body, dict) else None
        if not isinstance(object_id, str) or not object_id:
            return self._error(400, "objectId is required", "VALIDATION_ERROR")
        if id_property not in (None, "email"):
            return self._error(
                400, f"idProperty must be email, not {id_property!r}", "VALIDATION_ERROR"
            )
        target = self._lookup(id_property, object_id)
        if target is None:
            if id_property == "email":
                self.blocklist.add(object_id.casefold())
                return Reply(204, None, applied=True)
            return self._error(404, f"Object not found. objectId: {object_id}", "OBJECT_NOT_FOUND")
        stored = self._objects.pop(target)
        for name, index in self._index.items():
            value = stored.get(name)
            if value is not None and index.get(value) == target:
                del index[value]
        del self._key_of[target]
        self._created_at.pop(target, None)
        self._updated_at.pop(target, None)
        if id_property == "email":
            self.blocklist.add(object_id.casefold())
        return Reply(204, None, applied=True)

    # -- store -----------------------------------------------------------------------------------

    def _new_object(self, key: str | None) -> str:
        object_id = str(self._next_object_id)
        self._next_object_id += 1
        self._objects[object_id] = {}
        self._key_of[object_id] = key or object_id
        self._created_at[object_id] = _now()
        return object_id

    def _store(self, object_id: str, properties: dict[str, str | None]) -> None:
        stored = self._objects[object_id]
        for name, value in properties.items():
            if name in self._index:
                old = stored.get(name)
                if old is not None and self._index[name].get(old) == object_id:
                    del self._index[name][old]
                if value not in (None, ""):
                    self._index[name][value] = object_id
            stored[name] = value
        self._updated_at[object_id] = _now()

    def _result(self, object_id: str, requested: list[str] | None = None) -> dict[str, Any]:
        stored = self._objects[object_id]
        system = {
            "hs_object_id": object_id,
            "createdate": self._created_at[object_id],
            "lastmodifieddate": self._updated_at[object_id],
        }
        if requested is None:
            properties = {**stored, **system}
        else:
            properties = {name: stored.get(name) for name in requested if name not in system}
            properties.update(system)
        return {
            "id": object_id,
            "properties": properties,
            "createdAt": self._created_at[object_id],
            "updatedAt": self._updated_at[object_id],
            "archived": False,
        }

    def _batch_reply(
        self, status: int, started: str, results: list[dict[str, Any]], missing: list[str]
    ) -> Reply:
        body: dict[str, Any] = {"status": "COMPLETE", "results": results, "startedAt": started}
        if missing:
            body["numErrors"] = 1
            body["errors"] = [
                {
                    "status": "error",
                    "category": "OBJECT_NOT_FOUND",
                    "message": NOT_FOUND_MESSAGE,
                    "context": {"ids": missing},
                }
            ]
            status = 207
        body["completedAt"] = _now()
        return Reply(status, body)
