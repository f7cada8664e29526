"""The dbt project and its manifest: where each model and seed lives in the warehouse, for the
Dagster wiring and for the engines that read a model by its name.

Importing this module does no work: the project is parsed the first time `dbt_project()` is
called, and never by an import."""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

from dagster_dbt import DbtCliResource, DbtProject

from orchestration.lib.settings import DBT_EXECUTABLE, DBT_PROJECT_DIR, PROJECT_ROOT
from orchestration.lib.warehouse import quote_ident


@cache
def dbt_project() -> DbtProject:
    """The dbt project, with a current manifest (parsed here when it is missing or stale)."""
    # No target here: the profile picks it from LEADSCORE_TARGET when dbt runs, so the target
    # is an environment setting, like everything else about the warehouse.
    # Spark names the layers' schemas differently (prefixed with its schema; DuckDB and
    # PostgreSQL name them alike), so its manifest lives in a folder of its own: processes on
    # different targets never read each other's manifest.
    project = DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target_path=Path(
            "target-spark" if os.environ.get("LEADSCORE_TARGET") == "spark" else "target"
        ),
    )
    # `dagster dev` (which sets DAGSTER_IS_DEV_CLI) re-parses on every load, as dagster-dbt's
    # prepare_if_dev does, so model edits show up at once.
    _prepare_manifest(project, always=bool(os.environ.get("DAGSTER_IS_DEV_CLI")))
    return project


def _newest_source_mtime() -> float:
    roots = [DBT_PROJECT_DIR / "models", PROJECT_ROOT / "seeds", PROJECT_ROOT / "macros"]
    files = [DBT_PROJECT_DIR / "dbt_project.yml", DBT_PROJECT_DIR / "profiles.yml"]
    files += [path for root in roots for path in root.rglob("*") if path.is_file()]
    return max(path.stat().st_mtime for path in files)


def _prepare_manifest(project: DbtProject, *, always: bool) -> None:
    """Parse the dbt project (target/manifest.json) when it is missing or older than any model,
    seed, macro or project file, so a run never builds from a stale manifest. Processes that
    start together (a test worker each, `dagster dev` beside a CLI run) take turns: one parses,
    the others wait and then find the manifest current."""
    manifest = project.manifest_path

    def stale() -> bool:
        return not manifest.exists() or manifest.stat().st_mtime < _newest_source_mtime()

    if not always and not stale():
        return
    manifest.parent.mkdir(parents=True, exist_ok=True)
    with open(manifest.parent / ".prepare.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if always or stale():
            # The dbt installed next to this interpreter, as every dbt run of the project.
            dbt = DbtCliResource(project_dir=project, dbt_executable=str(DBT_EXECUTABLE))
            dbt.cli(["parse", "--quiet"], target_path=project.target_path).wait()


@cache
def manifest() -> Mapping[str, Any]:
    """The parsed manifest.json of `dbt_project()`."""
    return json.loads(dbt_project().manifest_path.read_text())


def _node(name: str) -> Mapping[str, Any]:
    nodes = manifest()["nodes"]
    node = nodes.get(f"model.leadscore.{name}") or nodes.get(f"seed.leadscore.{name}")
    if node is None:
        raise KeyError(f"no dbt model or seed named {name!r} in {dbt_project().manifest_path}")
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
    nodes = manifest()["nodes"]
    for source in ("hubspot", "salesforce"):
        if f"model.leadscore.adapter_{source}__crm_contacts" in nodes:
            return source
    return "generic"
