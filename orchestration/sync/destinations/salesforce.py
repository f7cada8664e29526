"""Salesforce: the leadscore fields of Salesforce Leads (or another sObject) by the REST API's
sObject Collections. Configured by LEADSCORE_SALESFORCE_INSTANCE_URL and OAuth
(LEADSCORE_SALESFORCE_CLIENT_ID, _CLIENT_SECRET and _REFRESH_TOKEN, or an access token in
LEADSCORE_SALESFORCE_TOKEN); LEADSCORE_SALESFORCE_API_VERSION picks the API version."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import pyarrow as pa

from orchestration.sync.destinations.base import (
    CrmDestination,
    DestinationConfig,
    DestinationSpec,
    json_body,
    network_errors_retryable,
    payload_columns,
    require_match_key,
    require_mode,
)
from orchestration.sync.engine import (
    BatchRejectedError,
    DestinationError,
    PreflightError,
    Rejection,
    RetryableError,
    SyncRecord,
)

if TYPE_CHECKING:
    from orchestration.lib.settings import Settings

DEFAULT_API_VERSION = "v60.0"


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
        with network_errors_retryable("the token endpoint timed out", "token endpoint: "):
            response = client.post(
                self.token_path, data=form, headers={"Accept": "application/json"}
            )
        body = json_body(response)
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


class SalesforceDestination(CrmDestination):
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
    label = "Salesforce"
    max_batch_size = 200
    has_preflight = True

    def __init__(
        self, config: DestinationConfig, auth: SalesforceAuth, instance_url: str, api_version: str
    ):
        require_match_key(config, ("external_id", "crm_id"))
        if config.match_key == "crm_id":
            require_mode(config, ("update", "upsert"))
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
        self._columns = [_salesforce_name(n) for n in payload_columns(schema)]

    def preflight(self) -> None:
        sobject = self.config.object_type
        try:
            describe = (
                json_body(self.request("GET", f"{self.api}/sobjects/{sobject}/describe")) or {}
            )
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
        if self.config.match_key == "crm_id":
            records = [self._record(r, Id=r.key) for r in batch]
            return self._save("PATCH", self.collections, batch, records, not_found_refused=True)
        return super().send(batch)

    def matched_on(self) -> str:
        return f"{self.config.object_type} with {self.key_field}"

    def upsert(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        records = [self._record(r, **{self.key_field: r.key}) for r in batch]
        path = f"{self.collections}/{self.config.object_type}/{self.key_field}"
        return self._save("PATCH", path, batch, records)

    def update(self, batch: Sequence[SyncRecord], ids: Mapping[str, str]) -> list[Rejection]:
        records = [self._record(r, Id=ids[r.key]) for r in batch]
        return self._save("PATCH", self.collections, batch, records, not_found_refused=True)

    def create(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        records = [self._record(r, **{self.key_field: r.key}) for r in batch]
        return self._save("POST", self.collections, batch, records)

    def existing_keys(self, keys: Sequence[str]) -> dict[str, str]:
        """One SOQL query (its pages followed) by the matching field."""
        field_name, sobject = self.key_field, self.config.object_type
        listed = ", ".join(_soql_literal(key) for key in keys)
        query = f"SELECT Id, {field_name} FROM {sobject} WHERE {field_name} IN ({listed})"
        wanted = {key: key for key in keys} | {key.casefold(): key for key in keys}
        found: dict[str, str] = {}
        response = self.request("GET", f"{self.api}/query", params={"q": query})
        while True:
            body = json_body(response) or {}
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
            found = self.existing_keys(keys) if keys else {}
            ids = list(dict.fromkeys(found.values()))
        deleted = 0
        for start in range(0, len(ids), self.max_batch_size):
            chunk = ids[start : start + self.max_batch_size]
            response = self.request(
                "DELETE", self.collections, params={"ids": ",".join(chunk), "allOrNone": "false"}
            )
            results = json_body(response) or []
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
        results = json_body(response)
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


def build(
    config: DestinationConfig, settings: Settings, env: Mapping[str, str]
) -> SalesforceDestination:
    auth = SalesforceAuth(
        access_token=env.get("LEADSCORE_SALESFORCE_TOKEN") or None,
        client_id=env.get("LEADSCORE_SALESFORCE_CLIENT_ID") or None,
        client_secret=env.get("LEADSCORE_SALESFORCE_CLIENT_SECRET") or None,
        refresh_token=env.get("LEADSCORE_SALESFORCE_REFRESH_TOKEN") or None,
    )
    return SalesforceDestination(
        config,
        auth,
        env["LEADSCORE_SALESFORCE_INSTANCE_URL"],
        env.get("LEADSCORE_SALESFORCE_API_VERSION", DEFAULT_API_VERSION),
    )


DESTINATION = DestinationSpec(
    "salesforce",
    "sync_salesforce__leads",
    "salesforce",
    "Leadscore fields of Salesforce Leads, sObject Collections (200 per call), in the "
    "seed's sync mode (default update: only Leads Salesforce has). Needs "
    "LEADSCORE_SALESFORCE_INSTANCE_URL and OAuth: LEADSCORE_SALESFORCE_CLIENT_ID, "
    "_CLIENT_SECRET and _REFRESH_TOKEN (or an access token in "
    "LEADSCORE_SALESFORCE_TOKEN).",
    build,
    required_env=("LEADSCORE_SALESFORCE_INSTANCE_URL",),
    one_of_env=(
        ("LEADSCORE_SALESFORCE_CLIENT_ID", "LEADSCORE_SALESFORCE_CLIENT_SECRET"),
        ("LEADSCORE_SALESFORCE_TOKEN",),
    ),
    default_sync_mode="update",
)
