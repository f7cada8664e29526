"""The one place that knows asset keys. The dbt translator builds dbt keys from these
functions; Python assets downstream of dbt look keys up with dagster-dbt's
`get_asset_key_for_model`, never by spelling them."""

from __future__ import annotations

import dagster as dg

RAW_PREFIX = "raw"
# Who answers for the assets, shown in the Dagster UI. A dbt model can name its own owner with
# `meta: {owner: ...}`; everything else belongs to this team.
DEFAULT_OWNERS = ["team:analytics-engineering"]
# Assets that write to the warehouse share this pool: DuckDB allows one writer per file.
WAREHOUSE_POOL = "warehouse"


def raw_table_key(table: str) -> dg.AssetKey:
    """Key of a raw table loaded from landing files; dbt sources map onto the same keys."""
    return dg.AssetKey([RAW_PREFIX, table])


def fivetran_table_key(source: str, table: str) -> dg.AssetKey:
    """Key of a table a Fivetran connector loads (dbt sources `hubspot`, `salesforce`): the
    connector, not this project, produces it, so it is keyed by connector, apart from raw."""
    return dg.AssetKey([source, table])


def layer_key(layer: str, name: str) -> dg.AssetKey:
    """Key of a dbt model or seed: its layer (the Dagster group) and its name. Unlike
    dagster-dbt's default it does not contain the schema, which changes with the target."""
    return dg.AssetKey([layer, name])
