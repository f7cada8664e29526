"""HubSpot: the leadscore properties of HubSpot contacts (or another object) by the CRM v3
batch API. Configured by LEADSCORE_HUBSPOT_TOKEN (a private-app token) and, for a proxy or a
fake, LEADSCORE_HUBSPOT_BASE_URL; ``leadscore hubspot-setup`` creates the properties."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx
import pyarrow as pa

from orchestration.sync.destinations.base import (
    CrmDestination,
    DestinationConfig,
    DestinationSpec,
    SyncConfigError,
    json_body,
    payload_columns,
    require_match_key,
)
from orchestration.sync.engine import (
    BatchRejectedError,
    PreflightError,
    Rejection,
    SyncRecord,
)

if TYPE_CHECKING:
    from orchestration.lib.settings import Settings

DEFAULT_BASE_URL = "https://api.hubapi.com"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


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


class HubSpotDestination(CrmDestination):
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
    label = "HubSpot"
    max_batch_size = 100
    has_preflight = True

    def __init__(self, config: DestinationConfig, token: str, base_url: str):
        require_match_key(config, ("email", "external_id"))
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
        self._columns = payload_columns(schema)

    # -- preflight --------------------------------------------------------------------------

    def list_properties(self) -> dict[str, dict[str, Any]]:
        """Every property of the object, by name."""
        body = json_body(self.request("GET", self.properties_path)) or {}
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

    def matched_on(self) -> str:
        return f"{self.config.object_type} record with {self.config.id_property}"

    def upsert(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
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

    def update(self, batch: Sequence[SyncRecord], ids: Mapping[str, str]) -> list[Rejection]:
        inputs = [{"id": ids[r.key], "properties": self._properties(r)} for r in batch]
        response = self.request("POST", f"{self.base}/batch/update", json={"inputs": inputs})
        return self._multi_status(
            response, {ids[r.key]: r.key for r in batch}, not_found_refused=True
        )

    def create(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        inputs = [
            {"properties": {**self._properties(r), self.config.id_property: r.key}} for r in batch
        ]
        response = self.request("POST", f"{self.base}/batch/create", json={"inputs": inputs})
        return self._multi_status(response, {r.key: r.key for r in batch})

    def _match(self, value: str) -> str:
        # HubSpot stores email addresses in lower case.
        return value.casefold() if self.config.id_property == "email" else value

    def existing_keys(self, keys: Sequence[str]) -> dict[str, str]:
        """``batch/read`` by the idProperty; the missing ones are OBJECT_NOT_FOUND errors of a
        207 answer."""
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
        for result in (json_body(response) or {}).get("results", []):
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
            found = self.existing_keys(keys) if keys else {}
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
        for error in (json_body(response) or {}).get("errors", []):
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


def build(
    config: DestinationConfig, settings: Settings, env: Mapping[str, str]
) -> HubSpotDestination:
    return HubSpotDestination(
        config,
        env["LEADSCORE_HUBSPOT_TOKEN"],
        env.get("LEADSCORE_HUBSPOT_BASE_URL", DEFAULT_BASE_URL),
    )


DESTINATION = DestinationSpec(
    "hubspot",
    "sync_hubspot__contacts",
    "hubspot",
    "Leadscore properties of HubSpot contacts, 100 per call, in the seed's sync mode "
    "(default update: only contacts HubSpot has). Needs LEADSCORE_HUBSPOT_TOKEN (a "
    "private-app token); `leadscore hubspot-setup` creates the properties.",
    build,
    required_env=("LEADSCORE_HUBSPOT_TOKEN",),
    default_sync_mode="update",
)
