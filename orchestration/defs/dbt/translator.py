"""The translator that decides the asset keys and groups of the dbt project's nodes."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.lib.asset_keys import (
    DEFAULT_OWNERS,
    fivetran_table_key,
    layer_key,
    raw_table_key,
)
from orchestration.lib.dbt_manifest import GENERIC_SOURCES


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
