"""Every sync destination module registers itself, and the registry alone decides which
destinations exist, what they need and how their adapters are built."""

from __future__ import annotations

import importlib
import pkgutil

import pytest

from orchestration.lib.settings import load_settings
from orchestration.sync import destinations
from orchestration.sync.destinations import (
    DESTINATIONS,
    DestinationConfig,
    FilesDestination,
    NotConfiguredError,
    build_destination,
    is_configured,
)


def test_every_destination_module_is_registered_under_its_adapter_name():
    modules = {name for _, name, _ in pkgutil.iter_modules(destinations.__path__) if name != "base"}
    assert modules == set(DESTINATIONS)
    for name in modules:
        spec = importlib.import_module(f"{destinations.__name__}.{name}").DESTINATION
        assert DESTINATIONS[name] is spec


def _config(name: str, **row: object) -> DestinationConfig:
    base = {
        "destination": name,
        "match_key": "external_id",
        "id_property": "contact_id",
        "object_type": "leads",
        "suppress_outreach_when_unsubscribed": False,
        "batch_size": 100,
    }
    return DestinationConfig.from_row(
        {**base, **row}, default_sync_mode=DESTINATIONS[name].default_sync_mode
    )


def test_the_crms_default_to_update_and_the_others_to_upsert():
    modes = {name: _config(name).sync_mode for name in DESTINATIONS}
    assert modes == {
        "files": "upsert",
        "hubspot": "update",
        "salesforce": "update",
        "webhook": "upsert",
        "postgres": "upsert",
    }


def test_a_destination_without_its_variables_is_not_built(tmp_path):
    settings = load_settings({"LEADSCORE_DATA_DIR": str(tmp_path)})
    assert is_configured("files", {})
    assert not is_configured("salesforce", {"LEADSCORE_SALESFORCE_INSTANCE_URL": "https://x"})
    with pytest.raises(NotConfiguredError, match="LEADSCORE_WEBHOOK_URL"):
        build_destination(_config("webhook"), settings, {})
    files = build_destination(_config("files"), settings, {})
    assert isinstance(files, FilesDestination)
    assert files.directory == tmp_path / "sync" / "leads"
