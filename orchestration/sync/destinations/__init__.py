"""The sync destinations, one module each: every module owns its configuration (the
environment variables it reads, the checks of its ``sync_destinations`` seed row) and its
factory, and registers itself with a ``DESTINATION`` (a ``DestinationSpec``) listed below.
Adding a destination is a module here, its line in ``_MODULES``, its seed row and its payload
model.

Each adapter turns a batch of records into its API's request and its API's response into
acknowledged, rejected and refused rows. Everything else (diff, batching, rate limit,
retries, splitting, ledger) is the engine's.

Connections and secrets come from environment variables only; what an analyst changes
(matching key, sync mode, consent, batch size, rate limit, rejection threshold) is the
``sync_destinations`` seed.

Sync modes (``sync_destinations.sync_mode``), as Hightouch and Census offer them per sync:

* ``update``: only records the destination already has are written; the others are refused
  (logged with the reason, not retried until their values change). The default of the CRMs.
* ``upsert``: update the records the destination has, create the others.
* ``insert``: create the records the destination does not have; the others are refused.

Files, the webhook and the PostgreSQL table always upsert.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING

from orchestration.sync.destinations import files, hubspot, postgres, salesforce, webhook
from orchestration.sync.destinations.base import (
    DEFAULT_MAX_REJECTED_SHARE,
    SYNC_MODES,
    CrmDestination,
    DestinationConfig,
    DestinationSpec,
    HttpDestination,
    NotConfiguredError,
    SyncConfigError,
    parse_retry_after,
    quiet_http,
    upsert_only,
)
from orchestration.sync.destinations.files import FilesDestination
from orchestration.sync.destinations.hubspot import HUBSPOT_SETUP_HINT, HubSpotDestination
from orchestration.sync.destinations.postgres import PostgresDestination
from orchestration.sync.destinations.salesforce import SalesforceAuth, SalesforceDestination
from orchestration.sync.destinations.webhook import WebhookDestination

if TYPE_CHECKING:
    from orchestration.lib.settings import Settings
    from orchestration.sync.engine import Destination

# The order is the order of the Dagster assets, `leadscore sync` and the erasure requests.
_MODULES = (files, hubspot, salesforce, webhook, postgres)

DESTINATIONS: dict[str, DestinationSpec] = {
    module.DESTINATION.name: module.DESTINATION for module in _MODULES
}


def require_configured(name: str, env: Mapping[str, str]) -> None:
    """Raises NotConfiguredError naming the destination's variables that are not set."""
    missing = DESTINATIONS[name].missing_env(env)
    if missing:
        raise NotConfiguredError(f"{name}: set {'; and '.join(missing)} to sync")


def is_configured(name: str, env: Mapping[str, str] | None = None) -> bool:
    env = os.environ if env is None else env
    return not DESTINATIONS[name].missing_env(env)


def build_destination(
    config: DestinationConfig, settings: Settings, env: Mapping[str, str]
) -> Destination:
    """The adapter for one seed row, connected with the environment's settings."""
    require_configured(config.destination, env)
    return DESTINATIONS[config.destination].build(config, settings, env)


__all__ = [
    "DEFAULT_MAX_REJECTED_SHARE",
    "DESTINATIONS",
    "HUBSPOT_SETUP_HINT",
    "SYNC_MODES",
    "CrmDestination",
    "DestinationConfig",
    "DestinationSpec",
    "FilesDestination",
    "HttpDestination",
    "HubSpotDestination",
    "NotConfiguredError",
    "PostgresDestination",
    "SalesforceAuth",
    "SalesforceDestination",
    "SyncConfigError",
    "WebhookDestination",
    "build_destination",
    "is_configured",
    "parse_retry_after",
    "quiet_http",
    "require_configured",
    "upsert_only",
]
