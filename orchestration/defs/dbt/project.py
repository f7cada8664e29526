"""The dbt project, its manifest and the translator that decides asset keys and groups."""

from __future__ import annotations

import fcntl
import json
import os
import sys
from collections.abc import Mapping, Sequence
from functools import cache
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtProject

from orchestration.lib.asset_keys import (
    DEFAULT_OWNERS,
    fivetran_table_key,
    layer_key,
    raw_table_key,
)
from orchestration.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT
from orchestration.lib.warehouse import quote_ident

# dagster-dbt runs `dbt` from PATH. Put this interpreter's bin first so the dbt installed next
# to the project is the one that runs, also from an environment that was never activated.
os.environ["PATH"] = os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])

# No target here: the profile picks it from LEADSCORE_TARGET when dbt runs, so the target is
# an environment setting, like everything else about the warehouse.
# Spark names the layers' schemas differently (prefixed with its schema; DuckDB and PostgreSQL
# name them alike), so its manifest lives in a folder of its own: processes on different
# targets never read each other's manifest.
dbt_project = DbtProject(
    project_dir=DBT_PROJECT_DIR,
    profiles_dir=DBT_PROJECT_DIR,
    target_path=Path("target-spark" if os.environ.get("LEADSCORE_TARGET") == "spark" else "target"),
)
# `dagster dev` re-parses on every load so model edits show up at once.
dbt_project.prepare_if_dev()


def _newest_source_mtime() -> float:
    roots = [DBT_PROJECT_DIR / "models", PROJECT_ROOT / "seeds", PROJECT_ROOT / "macros"]
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    files += [path for root in roots for path in root.rglob("*") if path.is_file()]
    return max(path.stat().st_mtime for path in files)


def prepare_manifest() -> None:
    """Parse the dbt project (target/manifest.json) when it is missing or older than any model,
    seed, macro or project file, so a run never builds from a stale manifest. Processes that
    start together (a test worker each, `dagster dev` beside a CLI run) take turns: one parses,
    the others wait and then find the manifest current."""
    manifest = dbt_project.manifest_path

    def stale() -> bool:
        return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime()

    if not stale():
        return
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if stale():
            dbt_project.preparer.prepare(dbt_project)


prepare_manifest()


@cache
def _manifest() -> Mapping[str, Any]:
    return json.loads(dbt_project.manifest_path.read_text())


def _node(name: str) -> Mapping[str, Any]:
    nodes = _manifest()["nodes"]
    node = nodes.get(f"model.leadscore.{name}") or nodes.get(f"seed.leadscore.{name}")
    if node is None:
        raise KeyError(f"no dbt model or seed named {name!r} in {dbt_project.manifest_path}")
    return node


def relation_parts(name: str) -> tuple[str, str]:
    """(schema, table) of a dbt model or seed in the current target."""
    node = _node(name)
    return node["schema"], node["alias"]


def relation_name(name: str) -> str:
    """`schema.table` of a dbt model or seed, for Python code that reads the warehouse. The
    database part is left out: the connection already points at the warehouse, whatever its
    file is called."""
    schema, table = relation_parts(name)
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def model_meta(name: str) -> Mapping[str, Any]:
    """The model's `meta` config (e.g. `meta.sync` of the sync payload models)."""
    node = _node(name)
    return node.get("config", {}).get("meta") or node.get("meta") or {}


# dbt sources of the raw contract, loaded by the ingest assets. The other sources (hubspot,
# salesforce) are enabled only when the dbt var `crm_source` names them.
GENERIC_SOURCES = ("crm", "marketing")


def crm_source() -> str:
    """Which CRM the dbt project reads (its var `crm_source`, as the manifest was built with
    it): `generic` (landing files), `hubspot` or `salesforce` (a Fivetran connector's
    tables, whose adapter models the manifest then holds)."""
    nodes = _manifest()["nodes"]
    for source in ("hubspot", "salesforce"):
        if f"model.leadscore.base_{source}__crm_contacts" in nodes:
            return source
    return "generic"


class LeadscoreTranslator(DagsterDbtTranslator):
    """Sources map onto the raw assets the ingest step produces (or, with a Fivetran
    `crm_source`, onto the connector's tables); groups follow the layers."""

    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            source, table = dbt_resource_props["source_name"], dbt_resource_props["name"]
            if source in GENERIC_SOURCES:
                return raw_table_key(table)
            return fivetran_table_key(source, table)
        layer = self.get_group_name(dbt_resource_props)
        return (
            layer_key(layer, dbt_resource_props["name"])
            if layer
            else super().get_asset_key(dbt_resource_props)
        )

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        resource_type = dbt_resource_props["resource_type"]
        if resource_type == "source":
            return "ingest"
        if resource_type == "seed":
            return "config"
        # fqn: [project, layer folder, subfolder, ..., name]. Intermediate and mart models
        # are grouped by their domain (scoring, ...), the rest by layer.
        fqn = dbt_resource_props.get("fqn", [])
        if len(fqn) > 3 and fqn[1] in ("intermediate", "marts"):
            return fqn[2]
        if len(fqn) > 2:
            return "quarantine" if fqn[2] == "quarantine" else fqn[1]
        return super().get_group_name(dbt_resource_props)

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> Sequence[str] | None:
        return super().get_owners(dbt_resource_props) or DEFAULT_OWNERS
