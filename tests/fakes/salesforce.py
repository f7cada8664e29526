"""Fake Salesforce REST API: sObject Collections (upsert, update, create), describe, SOQL
query and the OAuth 2.0 token endpoint.

Reproduces, under ``/services/data/{api_version}`` (developer.salesforce.com, REST API guide):

* "Upsert Records Using sObject Collections":
  ``PATCH /composite/sobjects/{SObjectName}/{ExternalIdFieldName}`` with
  ``{"allOrNone": false, "records": [{"attributes": {"type": "Lead"}, "Leadscore_Id__c": "1",
  ...}]}`` → 200 and a list of UpsertResult in request order:
  ``{"id": "00Q…(18)", "success": true, "errors": [], "created": true|false}`` or
  ``{"success": false, "errors": [{"statusCode", "message", "fields"}], "created": false}``;
* "Update Records Using sObject Collections": ``PATCH /composite/sobjects`` with records carrying
  ``attributes.type`` and ``Id`` → 200 and a list of SaveResult ``{"id", "success", "errors"}``;
* "Create Records Using sObject Collections": ``POST /composite/sobjects`` with records
  carrying ``attributes.type`` and no ``Id`` → 200 and a list of SaveResult; a value already
  held by another record in an external-id (unique) field is ``DUPLICATE_VALUE`` for that
  record;
* ``allOrNone: true``: if any record fails nothing is applied and the records that would have
  succeeded report ``ALL_OR_NONE_OPERATION_ROLLED_BACK``;
* "Delete Records Using sObject Collections": ``DELETE /composite/sobjects?ids=<Id>,<Id>``
  (up to 200 Ids; ``allOrNone`` optional, default false) → 200 and a list of DeleteResult
  ``{"id", "success", "errors"}`` in the order of the Ids: a deleted or unknown Id is
  ``ENTITY_IS_DELETED`` / ``INVALID_CROSS_REFERENCE_KEY``, a malformed one ``MALFORMED_ID``;
  no ``ids`` is 400 ``MISSING_ARGUMENT``, more than 200 400 ``EXCEEDED_ID_LIMIT``;
* "Describe an Object": ``GET /sobjects/{SObjectName}/describe`` → 200 ``{"name", "label",
  "custom", "createable", "updateable", "fields": [{"name", "label", "type", "custom",
  "externalId", "idLookup", "unique", "nillable", "createable", "updateable", "length"}]}``;
* "Execute a SOQL Query": ``GET /query?q=SELECT <fields> FROM <SObject> WHERE <field> IN
  ('a', 'b')`` (the one form the sync uses; anything else is 400 ``MALFORMED_QUERY``) → 200
  ``{"totalSize", "done": true, "records": [{"attributes": {"type", "url"}, ...}]}``; an
  unknown field is 400 ``INVALID_FIELD``, an unknown sObject 400 ``INVALID_TYPE``;
* OAuth 2.0 (``POST /services/oauth2/token``, form-encoded, outside the versioned API):
  ``grant_type=refresh_token`` with ``client_id``, ``client_secret`` and ``refresh_token``
  (the refresh token flow), or ``grant_type=client_credentials`` with ``client_id`` and
  ``client_secret`` (the client credentials flow, when ``client_credentials`` is on) → 200
  ``{"access_token", "instance_url", "id", "token_type": "Bearer", "issued_at",
  "signature", "scope"}``; errors are 400 ``{"error", "error_description"}``:
  ``invalid_grant`` (unknown or revoked refresh token), ``invalid_client_id``,
  ``invalid_client`` (wrong secret), ``unsupported_grant_type``. Access tokens expire
  (``token_lifetime_calls`` API calls each, or ``expire_access_tokens()``): the API then
  answers 401 ``INVALID_SESSION_ID`` "Session expired or invalid";
* per-record errors (the other records ARE applied): ``STRING_TOO_LONG``,
  ``INVALID_EMAIL_ADDRESS``, ``FIELD_CUSTOM_VALIDATION_EXCEPTION`` (``reject_values`` hook),
  ``MISSING_ARGUMENT``, ``DUPLICATE_EXTERNAL_ID``, ``MALFORMED_ID``, ``ENTITY_IS_DELETED``,
  ``INVALID_CROSS_REFERENCE_KEY``;
* whole-request errors (nothing applied), bodies are lists ``[{"message", "errorCode"}]``:
  401 ``INVALID_SESSION_ID``, 404 ``NOT_FOUND`` (unknown sObject or path), 400 ``INVALID_FIELD``
  (unknown field), 400 ``EXCEEDED_ID_LIMIT`` (more than ``batch_limit`` records, 200 on the real
  API), 400 ``JSON_PARSER_ERROR``, 403 ``REQUEST_LIMIT_EXCEEDED`` once ``daily_limit`` calls were
  made (the real "TotalRequests Limit exceeded." form);
* API names of sObjects and fields are case-insensitive, as on the real API; values are stored
  under the declared spelling (``lead_score__c`` is stored as ``Lead_Score__c``);
* every authenticated answer carries ``Sforce-Limit-Info: api-usage=<n>/<daily limit>``.

Rate limiting: real Salesforce has no per-second window; it answers 403 ``REQUEST_LIMIT_EXCEEDED``
for the daily allocation and for too many concurrent long requests. The fake's rolling
``rate_limit`` window answers 429 with ``Retry-After`` (whole seconds until a slot frees, at least
1) and a ``REQUEST_LIMIT_EXCEEDED`` body; the sync client treats both 403 REQUEST_LIMIT_EXCEEDED
and 429 as retryable.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs

from tests.fakes.base import FakeService, IncomingRequest, Reply

_COMMON_FIELDS = {
    "Leadscore_Id__c",
    "Fit_Score__c",
    "Behavior_Score__c",
    "Lead_Score__c",
    "Lead_Grade__c",
    "Lead_Stage__c",
    "Segment__c",
    "Sales_Action__c",
    "Campaign_Track__c",
    "Leadscore_Owner__c",
    "Score_Reasons__c",
    "Score_Change__c",
    "Outreach_Suppressed__c",
    "Score_Updated_On__c",
}

DEFAULT_SOBJECTS: dict[str, set[str]] = {
    "Lead": {"FirstName", "LastName", "Company", "Email", "Phone", "Status", "OwnerId"}
    | _COMMON_FIELDS,
    "Contact": {"FirstName", "LastName", "AccountId", "Email", "Phone", "OwnerId"} | _COMMON_FIELDS,
}

DEFAULT_EXTERNAL_ID_FIELDS: dict[str, set[str]] = {
    "Lead": {"Leadscore_Id__c"},
    "Contact": {"Leadscore_Id__c"},
}

KEY_PREFIXES = {"Account": "001", "Contact": "003", "Opportunity": "006", "Lead": "00Q"}

ROLLED_BACK = {
    "statusCode": "ALL_OR_NONE_OPERATION_ROLLED_BACK",
    "message": "Record rolled back because not all records were valid and the request was using "
    "AllOrNone header",
    "fields": [],
}

TOKEN_PATH = "/services/oauth2/token"
# The one SOQL form the fake answers: SELECT <fields> FROM <SObject> WHERE <field> IN (<list>).
SOQL_RE = re.compile(
    r"^\s*SELECT\s+(?P<fields>[\w\s,]+?)\s+FROM\s+(?P<sobject>\w+)\s+WHERE\s+"
    r"(?P<field>\w+)\s+IN\s*\((?P<values>.*)\)\s*$",
    re.IGNORECASE | re.DOTALL,
)
SOQL_STRING_RE = re.compile(r"\s*'((?:[^'\\]|\\.)*)'\s*(?:,|$)", re.DOTALL)

EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
ID_RE = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_CHECKSUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ012345"


def to_18(id15: str) -> str:
    """Salesforce's case-safe 18-character form of a 15-character record id."""
    suffix = ""
    for chunk in range(3):
        bits = sum(1 << i for i, c in enumerate(id15[chunk * 5 : chunk * 5 + 5]) if c.isupper())
        suffix += _CHECKSUM[bits]
    return id15 + suffix


def _sf_error(status_code: str, message: str, fields: list[str] | None = None) -> dict[str, Any]:
    return {"statusCode": status_code, "message": message, "fields": fields or []}


class FakeSalesforce(FakeService):
    """A Salesforce org with Leads and Contacts behind the sObject Collections endpoints."""

    name = "fake-salesforce"

    def __init__(
        self,
        token: str | None,
        *,
        api_version: str = "v60.0",
        sobjects: Mapping[str, set[str]] | None = None,
        external_id_fields: Mapping[str, set[str]] | None = None,
        batch_limit: int = 200,
        max_text_length: int = 255,
        reject_values: Mapping[str, str] | None = None,
        daily_limit: int | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        client_credentials: bool = False,
        token_lifetime_calls: int | None = None,
        read_only_fields: Mapping[str, set[str]] | None = None,
        **base_kwargs: Any,
    ) -> None:
        """``sobjects`` maps each sObject to its field API names (``Id`` is implicit);
        ``reject_values`` maps a field to a value that fails a validation rule. ``token`` is
        a valid access token at the start (``None``: none). ``client_id`` /
        ``client_secret`` / ``refresh_token`` define the connected app and the refresh token
        the token endpoint accepts; ``token_lifetime_calls`` makes each access token expire
        after that many API calls; ``read_only_fields`` per sObject are neither createable nor
        updateable for the user."""
        super().__init__(**base_kwargs)
        self.token = token
        self.client_id = client_id
        self.client_secret = client_secret
        self.refresh_token = refresh_token
        self.client_credentials = client_credentials
        self.token_lifetime_calls = token_lifetime_calls
        #: Access token -> API calls it has left (None: no limit).
        self._sessions: dict[str, int | None] = {}
        if token:
            self._sessions[token] = token_lifetime_calls
        #: Grants the token endpoint issued, in order (``refresh_token`` / ``client_credentials``).
        self.tokens_issued: list[str] = []
        self._read_only = {
            name: {f.lower() for f in fields} for name, fields in (read_only_fields or {}).items()
        }
        self.api_version = api_version
        self.batch_limit = batch_limit
        self.max_text_length = max_text_length
        self.daily_limit = daily_limit
        self.api_calls = 0
        sobjects = DEFAULT_SOBJECTS if sobjects is None else sobjects
        external = DEFAULT_EXTERNAL_ID_FIELDS if external_id_fields is None else external_id_fields
        self._sobject_names = {name.lower(): name for name in sobjects}
        self._fields = {
            name: {f.lower(): f for f in fields} | {"id": "Id"} for name, fields in sobjects.items()
        }
        self._external = {name: {f.lower() for f in fields} for name, fields in external.items()}
        #: Field → value failing a validation rule; may be changed while running (field names
        #: are matched case-insensitively).
        self.reject_values: dict[str, str] = dict(reject_values or {})
        self._records: dict[tuple[str, str], dict[str, Any]] = {}
        self._by_id: dict[str, tuple[str, str]] = {}
        self._deleted_ids: set[str] = set()
        self._received: dict[str, list[str]] = {}
        self._sequence = 0

    # -- state for assertions --------------------------------------------------------------------

    @property
    def records(self) -> dict[tuple[str, str], dict[str, Any]]:
        """Snapshot: (sObject, external id value) → current field values, including ``Id``."""
        with self._lock:
            return {key: dict(fields) for key, fields in self._records.items()}

    def received_ids(self, sobject: str) -> list[str]:
        """External ids of every record applied to ``sobject``, in order, duplicates kept."""
        with self._lock:
            return list(self._received.get(self._sobject_names.get(sobject.lower(), sobject), []))

    def add_record(self, sobject: str, external_id: str, **fields: Any) -> str:
        """Test hook: a record that exists before the test (created in Salesforce by someone
        else), keyed by its external id. Returns its Id."""
        with self._lock:
            name = self._sobject_names[sobject.lower()]
            external = next(iter(sorted(self._external.get(name, set()))), None)
            values = {self._fields[name][k.lower()]: v for k, v in fields.items()}
            if external is not None:
                values[self._fields[name][external]] = external_id
            record = {"Id": self._new_id(name), **values}
            self._records[(name, external_id)] = record
            self._by_id[record["Id"]] = (name, external_id)
            return record["Id"]

    def expire_access_tokens(self) -> None:
        """Test hook: every access token issued so far expires (a session timeout)."""
        with self._lock:
            self._sessions.clear()

    def delete_record(self, sobject: str, external_id: str) -> str:
        """Test hook: delete a record (an update by its Id then fails with ENTITY_IS_DELETED)."""
        with self._lock:
            fields = self._records.pop((self._sobject_names[sobject.lower()], external_id))
            del self._by_id[fields["Id"]]
            self._deleted_ids.add(fields["Id"])
            return fields["Id"]

    # -- wire format -----------------------------------------------------------------------------

    @staticmethod
    def _request_error(status: int, error_code: str, message: str) -> Reply:
        return Reply(status, [{"message": message, "errorCode": error_code}])

    def error_body(self, status: int) -> Any:
        if status == 401:
            return [{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}]
        if status in (403, 429):
            return [
                {"message": "TotalRequests Limit exceeded.", "errorCode": "REQUEST_LIMIT_EXCEEDED"}
            ]
        if status == 404:
            return [{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]
        return [
            {
                "errorCode": "UNKNOWN_EXCEPTION",
                "message": "An unexpected error occurred. Please include this ErrorId if you "
                "contact support: 1234567890-12345 (-1234567890)",
            }
        ]

    def rate_limited_reply(self, retry_after_seconds: float) -> Reply:
        reply = super().rate_limited_reply(retry_after_seconds)
        reply.body = [
            {
                "message": "ConcurrentPerOrgLongTxn Limit exceeded.",
                "errorCode": "REQUEST_LIMIT_EXCEEDED",
            }
        ]
        return reply

    def authorize(self, request: IncomingRequest) -> Reply | None:
        if request.path.rstrip("/") == TOKEN_PATH:
            return None  # the token endpoint authenticates the client itself
        token = request.bearer_token("Bearer", "OAuth")
        with self._lock:
            if token is None or token not in self._sessions:
                return Reply(401, self.error_body(401), headers={"WWW-Authenticate": "Token"})
            left = self._sessions[token]
            if left is not None:
                if left <= 0:
                    del self._sessions[token]
                    return Reply(401, self.error_body(401), headers={"WWW-Authenticate": "Token"})
                self._sessions[token] = left - 1
        return None

    # -- OAuth 2.0 token endpoint ----------------------------------------------------------------

    @staticmethod
    def _oauth_error(error: str, description: str) -> Reply:
        return Reply(400, {"error": error, "error_description": description})

    def _token(self, request: IncomingRequest) -> Reply:
        if request.method != "POST":
            return self._request_error(
                405, "METHOD_NOT_ALLOWED", f"HTTP Method '{request.method}' not allowed"
            )
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type != "application/x-www-form-urlencoded":
            return self._oauth_error("invalid_request", "invalid content type")
        form = {
            k: v[0] for k, v in parse_qs(request.raw_body.decode("utf-8", "replace")).items() if v
        }
        grant = form.get("grant_type")
        if grant not in ("refresh_token", "client_credentials"):
            return self._oauth_error("unsupported_grant_type", "grant type not supported")
        if self.client_id is None or form.get("client_id") != self.client_id:
            return self._oauth_error("invalid_client_id", "client identifier invalid")
        if self.client_secret is not None and form.get("client_secret") != self.client_secret:
            return self._oauth_error("invalid_client", "invalid client credentials")
        if grant == "refresh_token":
            if self.refresh_token is None or form.get("refresh_token") != self.refresh_token:
                return self._oauth_error("invalid_grant", "expired access/refresh token")
        elif not self.client_credentials or self.client_secret is None:
            return self._oauth_error("invalid_grant", "no client credentials user enabled")
        access_token = "00DDn0000000001!" + secrets.token_urlsafe(24)
        self._sessions[access_token] = self.token_lifetime_calls
        self.tokens_issued.append(grant)
        issued_at = str(int(time.time() * 1000))
        signature = hashlib.sha256(f"{access_token}{issued_at}".encode()).hexdigest()
        return Reply(
            200,
            {
                "access_token": access_token,
                "signature": signature,
                "scope": "api refresh_token",
                "instance_url": self.base_url,
                "id": f"{self.base_url}/id/00DDn0000000001EAA/005Dn0000000001AAA",
                "token_type": "Bearer",
                "issued_at": issued_at,
            },
        )

    # -- dispatch --------------------------------------------------------------------------------

    def handle(self, request: IncomingRequest) -> Reply:
        if request.path.rstrip("/") == TOKEN_PATH:
            return self._token(request)
        self.api_calls += 1
        if self.daily_limit is not None and self.api_calls > self.daily_limit:
            reply = self._request_error(
                403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."
            )
        else:
            reply = self._route(request)
        usage = f"api-usage={self.api_calls}/{self.daily_limit or 15000}"
        reply.headers["Sforce-Limit-Info"] = usage
        reply.content_type = "application/json;charset=UTF-8"
        return reply

    def _route(self, request: IncomingRequest) -> Reply:
        api = f"/services/data/{self.api_version}"
        prefix = f"{api}/composite/sobjects"
        path = request.path.rstrip("/")
        if path == f"{api}/query":
            if request.method != "GET":
                return self._not_allowed(request, "GET")
            return self._query(request)
        describe = re.fullmatch(re.escape(api) + r"/sobjects/(\w+)/describe", path)
        if describe is not None:
            if request.method != "GET":
                return self._not_allowed(request, "GET")
            return self._describe(describe.group(1))
        if path != prefix and not path.startswith(prefix + "/"):
            return Reply(404, self.error_body(404))
        parts = [p for p in path[len(prefix) :].split("/") if p]
        if len(parts) not in (0, 2):
            return Reply(404, self.error_body(404))
        if not parts:
            if request.method == "POST":
                return self._create(request)
            if request.method == "DELETE":
                return self._delete(request)
            if request.method != "PATCH":
                return self._not_allowed(request, "DELETE, PATCH, POST")
            return self._update(request)
        if request.method != "PATCH":
            return self._not_allowed(request, "PATCH")
        return self._upsert(request, parts[0], parts[1])

    def _not_allowed(self, request: IncomingRequest, allowed: str) -> Reply:
        return self._request_error(
            405,
            "METHOD_NOT_ALLOWED",
            f"HTTP Method '{request.method}' not allowed. Allowed are {allowed}",
        )

    # -- describe --------------------------------------------------------------------------------

    def _describe(self, sobject_name: str) -> Reply:
        sobject = self._sobject_names.get(sobject_name.lower())
        if sobject is None:
            return Reply(404, self.error_body(404))
        read_only = self._read_only.get(sobject, set())
        external = self._external.get(sobject, set())
        fields = []
        for lower, name in sorted(self._fields[sobject].items()):
            writable = lower != "id" and lower not in read_only
            fields.append(
                {
                    "name": name,
                    "label": name.replace("__c", "").replace("_", " "),
                    "type": "id" if lower == "id" else "string",
                    "custom": name.endswith("__c"),
                    "externalId": lower in external,
                    "idLookup": lower == "id" or lower in external,
                    "unique": lower in external,
                    "nillable": lower != "id",
                    "createable": writable,
                    "updateable": writable,
                    "length": 18 if lower == "id" else self.max_text_length,
                }
            )
        return Reply(
            200,
            {
                "name": sobject,
                "label": sobject,
                "custom": sobject.endswith("__c"),
                "createable": True,
                "updateable": True,
                "queryable": True,
                "keyPrefix": KEY_PREFIXES.get(sobject, "a0B"),
                "fields": fields,
            },
        )

    # -- SOQL query ------------------------------------------------------------------------------

    def _query(self, request: IncomingRequest) -> Reply:
        soql = (request.query.get("q") or [""])[0]
        match = SOQL_RE.match(soql)
        if match is None:
            return self._request_error(400, "MALFORMED_QUERY", f"unexpected token: {soql[:80]}")
        sobject = self._sobject_names.get(match.group("sobject").lower())
        if sobject is None:
            return self._request_error(
                400,
                "INVALID_TYPE",
                f"sObject type '{match.group('sobject')}' is not supported.",
            )
        fields = self._fields[sobject]
        selected = [f.strip() for f in match.group("fields").split(",")]
        for name in [*selected, match.group("field")]:
            if name.lower() not in fields:
                return self._request_error(
                    400, "INVALID_FIELD", f"No such column '{name}' on entity '{sobject}'."
                )
        values_text = match.group("values")
        values, position = [], 0
        while position < len(values_text.rstrip()):
            literal = SOQL_STRING_RE.match(values_text, position)
            if literal is None:
                return self._request_error(
                    400, "MALFORMED_QUERY", "expecting a quoted string in the IN list"
                )
            values.append(re.sub(r"\\(.)", r"\1", literal.group(1)))
            position = literal.end()
        where = fields[match.group("field").lower()]
        wanted = {v.lower() for v in values}
        records = []
        for (name, _), stored in self._records.items():
            value = stored.get(where)
            if name != sobject or value is None or str(value).lower() not in wanted:
                continue
            row: dict[str, Any] = {
                "attributes": {
                    "type": sobject,
                    "url": f"/services/data/{self.api_version}/sobjects/{sobject}/{stored['Id']}",
                }
            }
            for field_name in selected:
                canonical = fields[field_name.lower()]
                row[canonical] = stored.get(canonical)
            records.append(row)
        return Reply(200, {"totalSize": len(records), "done": True, "records": records})

    # -- create ----------------------------------------------------------------------------------

    def _create(self, request: IncomingRequest) -> Reply:
        parsed = self._records_of(request)
        if isinstance(parsed, Reply):
            return parsed
        records, all_or_none = parsed
        prepared: list[tuple[str, dict[str, Any]]] = []
        for position, record in enumerate(records):
            sobject = self._type_of(record)
            if sobject is None:
                return self._request_error(
                    400,
                    "INVALID_TYPE",
                    f"records[{position}]: sObject type in attributes "
                    f"{record.get('attributes')!r} is not supported",
                )
            values = self._canonical(sobject, record)
            if isinstance(values, Reply):
                return values
            prepared.append((sobject, values))
        errors: list[list[dict[str, Any]]] = []
        keys: list[str | None] = []
        claimed: set[tuple[str, str]] = set()
        for sobject, values in prepared:
            record_errors = []
            if "Id" in values:
                record_errors.append(
                    _sf_error(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "cannot specify Id in an insert call",
                        ["Id"],
                    )
                )
            field = self._external_field(sobject, values)
            key = None
            if field is not None and values[field] not in (None, ""):
                key = str(values[field])
                other = self._records.get((sobject, key))
                if other is not None or (sobject, key) in claimed:
                    where = f" on record with id: {other['Id']}" if other else ""
                    record_errors.append(
                        _sf_error(
                            "DUPLICATE_VALUE",
                            f"duplicate value found: {field} duplicates value{where}",
                            [],
                        )
                    )
                claimed.add((sobject, key))
            record_errors.extend(self._value_errors(values))
            errors.append(record_errors)
            keys.append(key)
        rollback = all_or_none and any(errors)
        results: list[dict[str, Any]] = []
        applied = False
        for (sobject, values), key, record_errors in zip(prepared, keys, errors, strict=True):
            if record_errors:
                results.append({"success": False, "errors": record_errors})
            elif rollback:
                results.append({"success": False, "errors": [ROLLED_BACK]})
            else:
                record = {"Id": self._new_id(sobject), **values}
                stored_key = key if key is not None else record["Id"]
                self._records[(sobject, stored_key)] = record
                self._by_id[record["Id"]] = (sobject, stored_key)
                self._received.setdefault(sobject, []).append(stored_key)
                applied = True
                results.append({"id": record["Id"], "success": True, "errors": []})
        return Reply(200, results, applied=applied)

    def _records_of(self, request: IncomingRequest) -> tuple[list[dict[str, Any]], bool] | Reply:
        if request.json_error is not None:
            return self._request_error(400, "JSON_PARSER_ERROR", request.json_error)
        body = request.json
        records = body.get("records") if isinstance(body, dict) else None
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return self._request_error(
                400, "JSON_PARSER_ERROR", "The request body must have a 'records' list of objects"
            )
        if len(records) > self.batch_limit:
            return self._request_error(
                400,
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {self.batch_limit} records into "
                "this call",
            )
        all_or_none = body.get("allOrNone", False)
        if not isinstance(all_or_none, bool):
            return self._request_error(400, "JSON_PARSER_ERROR", "allOrNone must be a boolean")
        return records, all_or_none

    def _canonical(self, sobject: str, record: dict[str, Any]) -> dict[str, Any] | Reply:
        """Field values under their declared names, or 400 INVALID_FIELD for an unknown one."""
        fields = self._fields[sobject]
        values: dict[str, Any] = {}
        for name, value in record.items():
            if name == "attributes":
                continue
            canonical = fields.get(name.lower())
            if canonical is None:
                return self._request_error(
                    400, "INVALID_FIELD", f"No such column '{name}' on sobject of type {sobject}"
                )
            values[canonical] = value
        return values

    def _type_of(self, record: dict[str, Any]) -> str | None:
        attributes = record.get("attributes")
        declared = attributes.get("type") if isinstance(attributes, dict) else None
        return self._sobject_names.get(declared.lower()) if isinstance(declared, str) else None

    def _value_errors(self, values: dict[str, Any]) -> list[dict[str, Any]]:
        errors = []
        reject = {field.lower(): str(value) for field, value in self.reject_values.items()}
        for name, value in values.items():
            if isinstance(value, str) and len(value) > self.max_text_length:
                errors.append(
                    _sf_error(
                        "STRING_TOO_LONG",
                        f"{name}: data value too large: {value} "
                        f"(max length={self.max_text_length})",
                        [name],
                    )
                )
            if name == "Email" and value not in (None, "") and not EMAIL_RE.match(str(value)):
                errors.append(
                    _sf_error(
                        "INVALID_EMAIL_ADDRESS", f"Email: invalid email address: {value}", [name]
                    )
                )
            rejected = reject.get(name.lower())
            if rejected is not None and value is not None and str(value) == rejected:
                errors.append(
                    _sf_error(
                        "FIELD_CUSTOM_VALIDATION_EXCEPTION",
                        f"Leadscore test validation rule: {name} cannot be {rejected}",
                        [name],
                    )
                )
        return errors

    def _new_id(self, sobject: str) -> str:
        self._sequence += 1
        counter, digits = self._sequence, ""
        while counter:
            counter, digit = divmod(counter, 62)
            digits = _BASE62[digit] + digits
        prefix = KEY_PREFIXES.get(sobject, "a0B")
        return to_18(f"{prefix}Dn0{digits.rjust(9, '0')}")

    # -- upsert by external id -------------------------------------------------------------------

    def _upsert(self, request: IncomingRequest, sobject_name: str, external_field: str) -> Reply:
        sobject = self._sobject_names.get(sobject_name.lower())
        if sobject is None:
            return Reply(404, self.error_body(404))
        ext = self._fields[sobject].get(external_field.lower())
        if ext is None:
            return self._request_error(
                404,
                "NOT_FOUND",
                f"Provided external ID field does not exist or is not accessible: {external_field}",
            )
        if ext.lower() not in self._external.get(sobject, set()):
            return self._request_error(
                400,
                "INVALID_FIELD",
                f"Field name provided, {ext} is not an External ID or indexed field for {sobject}",
            )
        parsed = self._records_of(request)
        if isinstance(parsed, Reply):
            return parsed
        records, all_or_none = parsed
        prepared: list[dict[str, Any]] = []
        for position, record in enumerate(records):
            if self._type_of(record) != sobject:
                return self._request_error(
                    400,
                    "INVALID_INPUT",
                    f"records[{position}]: attributes.type must be {sobject} "
                    "(the sObject of the URI)",
                )
            values = self._canonical(sobject, record)
            if isinstance(values, Reply):
                return values
            prepared.append(values)

        keys = [str(v[ext]) if v.get(ext) not in (None, "") else None for v in prepared]
        counts: dict[str, int] = {}
        for key in keys:
            if key is not None:
                counts[key] = counts.get(key, 0) + 1
        errors: list[list[dict[str, Any]]] = []
        for values, key in zip(prepared, keys, strict=True):
            record_errors = []
            if key is None:
                record_errors.append(_sf_error("MISSING_ARGUMENT", f"{ext} not specified", [ext]))
            elif counts[key] > 1:
                record_errors.append(
                    _sf_error(
                        "DUPLICATE_EXTERNAL_ID", f"Duplicate external id specified: {key}", [ext]
                    )
                )
            if "Id" in values:
                record_errors.append(
                    _sf_error(
                        "INVALID_FIELD_FOR_INSERT_UPDATE",
                        "Unable to create/update fields: Id. Please check the security settings "
                        "of this field and verify that it is read/write for your profile or "
                        "permission set.",
                        ["Id"],
                    )
                )
            record_errors.extend(self._value_errors(values))
            errors.append(record_errors)

        rollback = all_or_none and any(errors)
        results: list[dict[str, Any]] = []
        applied = False
        for values, key, record_errors in zip(prepared, keys, errors, strict=True):
            existing = self._records.get((sobject, key)) if key is not None else None
            if record_errors:
                results.append({"success": False, "errors": record_errors, "created": False})
            elif rollback:
                result: dict[str, Any] = {
                    "success": False,
                    "errors": [ROLLED_BACK],
                    "created": False,
                }
                if existing is not None:
                    result = {"id": existing["Id"], **result}
                results.append(result)
            else:
                assert key is not None
                if existing is None:
                    existing = {"Id": self._new_id(sobject)}
                    self._records[(sobject, key)] = existing
                    self._by_id[existing["Id"]] = (sobject, key)
                    created = True
                else:
                    created = False
                existing.update(values)
                self._received.setdefault(sobject, []).append(key)
                applied = True
                results.append(
                    {"id": existing["Id"], "success": True, "errors": [], "created": created}
                )
        return Reply(200, results, applied=applied)

    # -- update by Id ----------------------------------------------------------------------------

    def _update(self, request: IncomingRequest) -> Reply:
        parsed = self._records_of(request)
        if isinstance(parsed, Reply):
            return parsed
        records, all_or_none = parsed
        prepared: list[tuple[str, dict[str, Any]]] = []
        for position, record in enumerate(records):
            sobject = self._type_of(record)
            if sobject is None:
                declared = record.get("attributes")
                return self._request_error(
                    400,
                    "INVALID_TYPE",
                    f"records[{position}]: sObject type in attributes {declared!r} "
                    "is not supported",
                )
            values = self._canonical(sobject, record)
            if isinstance(values, Reply):
                return values
            prepared.append((sobject, values))

        errors: list[list[dict[str, Any]]] = []
        targets: list[tuple[str, str] | None] = []
        for sobject, values in prepared:
            record_id = values.pop("Id", None)
            target = None
            record_errors = []
            if record_id in (None, ""):
                record_errors.append(
                    _sf_error("MISSING_ARGUMENT", "Id not specified in an update call", ["Id"])
                )
            elif not isinstance(record_id, str) or not ID_RE.match(record_id):
                record_errors.append(_sf_error("MALFORMED_ID", f"malformed id {record_id}", ["Id"]))
            else:
                full_id = to_18(record_id) if len(record_id) == 15 else record_id
                target = self._by_id.get(full_id)
                if full_id in self._deleted_ids:
                    record_errors.append(_sf_error("ENTITY_IS_DELETED", "entity is deleted", []))
                elif target is None or target[0] != sobject:
                    target = None
                    record_errors.append(
                        _sf_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
                    )
            if target is not None:
                record_errors.extend(self._rekey_errors(sobject, target, values))
            record_errors.extend(self._value_errors(values))
            errors.append(record_errors)
            targets.append(target)

        rollback = all_or_none and any(errors)
        results: list[dict[str, Any]] = []
        applied = False
        for (sobject, values), target, record_errors in zip(prepared, targets, errors, strict=True):
            if record_errors:
                results.append({"success": False, "errors": record_errors})
            elif rollback:
                assert target is not None
                results.append(
                    {"id": self._records[target]["Id"], "success": False, "errors": [ROLLED_BACK]}
                )
            else:
                assert target is not None
                key = self._apply_update(sobject, target, values)
                self._received.setdefault(sobject, []).append(key)
                applied = True
                results.append(
                    {"id": self._records[(sobject, key)]["Id"], "success": True, "errors": []}
                )
        return Reply(200, results, applied=applied)

    def _delete(self, request: IncomingRequest) -> Reply:
        ids = [i for i in ",".join(request.query.get("ids", [])).split(",") if i.strip()]
        if not ids:
            return self._request_error(400, "MISSING_ARGUMENT", "ids parameter is required")
        if len(ids) > self.batch_limit:
            return self._request_error(
                400,
                "EXCEEDED_ID_LIMIT",
                f"record limit reached. cannot submit more than {self.batch_limit} records "
                "into this call",
            )
        all_or_none = (request.query.get("allOrNone") or ["false"])[0].lower() == "true"
        errors: list[dict[str, Any] | None] = []
        targets: list[tuple[str, str] | None] = []
        for record_id in ids:
            target = None
            if not ID_RE.match(record_id):
                errors.append(_sf_error("MALFORMED_ID", f"malformed id {record_id}", []))
            else:
                full_id = to_18(record_id) if len(record_id) == 15 else record_id
                target = self._by_id.get(full_id)
                if full_id in self._deleted_ids:
                    errors.append(_sf_error("ENTITY_IS_DELETED", "entity is deleted", []))
                elif target is None:
                    errors.append(
                        _sf_error("INVALID_CROSS_REFERENCE_KEY", "invalid cross reference id", [])
                    )
                else:
                    errors.append(None)
            targets.append(target)
        rollback = all_or_none and any(errors)
        results = []
        applied = False
        for record_id, target, error in zip(ids, targets, errors, strict=True):
            if error is not None:
                results.append({"id": record_id, "success": False, "errors": [error]})
            elif rollback:
                results.append({"id": record_id, "success": False, "errors": [ROLLED_BACK]})
            else:
                assert target is not None
                fields = self._records.pop(target)
                del self._by_id[fields["Id"]]
                self._deleted_ids.add(fields["Id"])
                applied = True
                results.append({"id": fields["Id"], "success": True, "errors": []})
        return Reply(200, results, applied=applied)

    def _external_field(self, sobject: str, values: dict[str, Any]) -> str | None:
        return next((f for f in values if f.lower() in self._external.get(sobject, set())), None)

    def _rekey_errors(
        self, sobject: str, target: tuple[str, str], values: dict[str, Any]
    ) -> list[dict[str, Any]]:
        field = self._external_field(sobject, values)
        if field is None or values[field] in (None, "") or str(values[field]) == target[1]:
            return []
        other = self._records.get((sobject, str(values[field])))
        if other is None:
            return []
        return [
            _sf_error(
                "DUPLICATE_VALUE",
                f"duplicate value found: {field} duplicates value on record with id: {other['Id']}",
                [field],
            )
        ]

    def _apply_update(self, sobject: str, target: tuple[str, str], values: dict[str, Any]) -> str:
        """Update a record; changing its external id moves it to the new key."""
        stored = self._records[target]
        stored.update(values)
        field = self._external_field(sobject, values)
        new_key = target[1]
        if (
            field is not None
            and values[field] not in (None, "")
            and str(values[field]) != target[1]
        ):
            new_key = str(values[field])
            self._records[(sobject, new_key)] = self._records.pop(target)
            self._by_id[stored["Id"]] = (sobject, new_key)
        return new_key
