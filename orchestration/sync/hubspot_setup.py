"""`leadscore hubspot-setup`: create the HubSpot property group and the custom properties the
sync sends, so the first sync finds them (the sync's preflight stops when one is missing).

The properties are derived from the payload model (``sync_hubspot__contacts``) as the sync
sends it: every column but ``sync_key`` is a property of the same name (the adapter writes
``record.values`` as ``properties``), typed from the column (boolean -> ``bool`` /
``booleancheckbox``, whole or decimal numbers -> ``number``, date -> ``date``, timestamp ->
``datetime``, text -> ``string`` / ``text``, ``textarea`` for the score reasons), in the group
``leadscore``. When the seed matches by a custom property (``match_key`` external_id), that
property is created too, with unique values, as HubSpot requires of an ``idProperty``.

Idempotent: the group is created only when ``GET /crm/v3/properties/{object}/groups/{name}``
answers 404, and only the properties ``GET /crm/v3/properties/{object}`` does not list are
created (``POST /crm/v3/properties/{object}``, 201; a 409 CONFLICT from a concurrent run counts
as existing). Existing properties are never changed; one whose type differs from the column's
is reported.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pyarrow as pa

from orchestration.lib.dbt_manifest import relation_name
from orchestration.lib.settings import Settings, load_settings
from orchestration.sync.destinations import HubSpotDestination, NotConfiguredError
from orchestration.sync.destinations.hubspot import DEFAULT_BASE_URL
from orchestration.sync.engine import (
    KEY_COLUMN,
    BatchRejectedError,
    DestinationError,
    RetryableError,
    RetryPolicy,
)

GROUP_NAME = "leadscore"
GROUP_LABEL = "Lead scoring"

T = TypeVar("T")


@dataclass(frozen=True)
class PropertySpec:
    name: str
    label: str
    type: str
    field_type: str
    description: str
    unique: bool = False

    def body(self, group: str, display_order: int) -> dict[str, Any]:
        body: dict[str, Any] = {
            "name": self.name,
            "label": self.label,
            "type": self.type,
            "fieldType": self.field_type,
            "groupName": group,
            "description": self.description,
            "displayOrder": display_order,
            "formField": False,
            "hasUniqueValue": self.unique,
        }
        if self.type == "bool":
            body["options"] = [
                {"label": "Yes", "value": "true", "displayOrder": 0, "hidden": False},
                {"label": "No", "value": "false", "displayOrder": 1, "hidden": False},
            ]
        return body


def _type_of(name: str, data_type: pa.DataType) -> tuple[str, str]:
    if pa.types.is_boolean(data_type):
        return "bool", "booleancheckbox"
    if pa.types.is_integer(data_type) or pa.types.is_floating(data_type):
        return "number", "number"
    if pa.types.is_decimal(data_type):
        return "number", "number"
    if pa.types.is_date(data_type):
        return "date", "date"
    if pa.types.is_timestamp(data_type):
        return "datetime", "date"
    return "string", "textarea" if name.endswith("reasons") else "text"


def _label(name: str) -> str:
    words = name.removeprefix("leadscore_").replace("_", " ").strip()
    return f"Leadscore {words}" if words else "Leadscore"


def property_specs(schema: pa.Schema, id_property: str, payload_model: str) -> list[PropertySpec]:
    """The properties the sync writes, from the payload model's columns."""
    specs = []
    for column in schema:
        if column.name == KEY_COLUMN or column.name.startswith("_"):
            continue
        kind, field_type = _type_of(column.name, column.type)
        specs.append(
            PropertySpec(
                column.name,
                _label(column.name),
                kind,
                field_type,
                f"Written by the leadscore sync (column {column.name} of {payload_model}).",
            )
        )
    if id_property != "email" and id_property not in {s.name for s in specs}:
        specs.append(
            PropertySpec(
                id_property,
                _label(id_property),
                "string",
                "text",
                "The lead's id in the lead scoring warehouse; the leadscore sync matches "
                "records by it (unique values).",
                unique=True,
            )
        )
    return specs


@dataclass
class SetupReport:
    object_type: str
    group_created: bool = False
    created: list[str] = field(default_factory=list)
    existing: list[str] = field(default_factory=list)
    # name, the type the payload needs, the type HubSpot has
    mismatched: list[tuple[str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        lines = [
            f"HubSpot {self.object_type}: property group {GROUP_NAME!r} "
            + ("created" if self.group_created else "already there")
            + f"; {len(self.created)} properties created, {len(self.existing)} already there"
        ]
        if self.created:
            lines.append("  created: " + ", ".join(self.created))
        for name, wanted, found in self.mismatched:
            lines.append(
                f"  check {name}: it exists as {found}, the payload sends {wanted} values "
                "(HubSpot rejects values that do not fit; change the property or the model)"
            )
        return "\n".join(lines)


def _with_retries(call: Callable[[], T], policy: RetryPolicy, sleep: Callable[[float], None]) -> T:
    rng = random.Random()
    for attempt in range(1, policy.max_attempts + 1):
        try:
            return call()
        except RetryableError as error:
            if attempt == policy.max_attempts:
                raise DestinationError(
                    f"hubspot: gave up after {attempt} attempts: {error}"
                ) from error
            sleep(
                error.retry_after if error.retry_after is not None else policy.backoff(attempt, rng)
            )
    raise AssertionError("unreachable")


def _payload(settings: Settings) -> tuple[Any, pa.Schema, str]:
    """The hubspot row of the seed and the payload model's columns (read-only)."""
    from orchestration.lib.warehouse import connect
    from orchestration.sync.runner import DESTINATIONS, _destination_config

    model = DESTINATIONS["hubspot"].payload_model
    with connect(settings, read_only=True) as conn:
        config = _destination_config(conn, "hubspot")
        schema = conn.fetch_arrow(f"select * from {relation_name(model)} limit 0").schema
    return config, schema, model


def hubspot_setup(
    settings: Settings | None = None,
    *,
    env: Mapping[str, str] | None = None,
    policy: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> SetupReport:
    """Create the `leadscore` group and the missing properties in HubSpot. Needs
    LEADSCORE_HUBSPOT_TOKEN (a private app with the crm.schemas.contacts.write scope) and a
    built warehouse (the payload model's columns decide the properties)."""
    env = os.environ if env is None else env
    token = env.get("LEADSCORE_HUBSPOT_TOKEN")
    if not token:
        raise NotConfiguredError("hubspot: set LEADSCORE_HUBSPOT_TOKEN to create the properties")
    settings = settings or load_settings()
    policy = policy or RetryPolicy()
    config, schema, model = _payload(settings)
    specs = property_specs(schema, config.id_property, model)
    client = HubSpotDestination(
        config, token, env.get("LEADSCORE_HUBSPOT_BASE_URL") or DEFAULT_BASE_URL
    )
    report = SetupReport(config.object_type)
    groups = f"{client.properties_path}/groups"
    try:
        try:
            _with_retries(lambda: client.request("GET", f"{groups}/{GROUP_NAME}"), policy, sleep)
        except BatchRejectedError as error:
            if not (error.code or "").startswith("HTTP 404"):
                raise DestinationError(
                    f"hubspot: reading the property group: {error.code}"
                ) from error
            body = {"name": GROUP_NAME, "label": GROUP_LABEL, "displayOrder": -1}
            try:
                _with_retries(lambda: client.request("POST", groups, json=body), policy, sleep)
                report.group_created = True
            except BatchRejectedError as create_error:
                if not (create_error.code or "").startswith("HTTP 409"):
                    raise DestinationError(
                        f"hubspot: creating the property group: {create_error.code}"
                    ) from create_error
        existing = _with_retries(client.list_properties, policy, sleep)
        for order, spec in enumerate(specs):
            found = existing.get(spec.name)
            if found is not None:
                report.existing.append(spec.name)
                if found.get("type") != spec.type:
                    report.mismatched.append((spec.name, spec.type, str(found.get("type"))))
                continue
            body = spec.body(GROUP_NAME, order)
            try:
                _with_retries(
                    lambda b=body: client.request("POST", client.properties_path, json=b),
                    policy,
                    sleep,
                )
                report.created.append(spec.name)
            except BatchRejectedError as error:
                if (error.code or "").startswith("HTTP 409"):
                    report.existing.append(spec.name)
                    continue
                raise DestinationError(
                    f"hubspot: creating the property {spec.name}: {error.code}"
                ) from error
    finally:
        client.close()
    return report
