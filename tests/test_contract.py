"""The raw contract is written down twice, for two readers: Python (the loader) and dbt
(sources YAML, which documents it). They must agree column for column."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from orchestration.ingest.contract import LINEAGE_COLUMNS, RAW_CONTRACT
from orchestration.lib.settings import DBT_PROJECT_DIR

TYPE_PREFIX = re.compile(r"^(text|integer|decimal|bigint|boolean|timestamp)\b")


# The dbt sources that document the raw contract; the others (hubspot, salesforce) are
# connectors' tables that adapter models map onto it.
CONTRACT_SOURCES = ("crm", "marketing")


def documented_sources() -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {}
    for path in Path(DBT_PROJECT_DIR, "models").rglob("_*__sources.yml"):
        for source in yaml.safe_load(path.read_text())["sources"]:
            if source["name"] not in CONTRACT_SOURCES:
                continue
            for table in source["tables"]:
                tables[table["name"]] = table["columns"]
    return tables


def test_sources_yaml_documents_exactly_the_raw_contract():
    documented = documented_sources()
    assert set(documented) == set(RAW_CONTRACT)
    lineage = [name for name, _ in LINEAGE_COLUMNS]
    for table, columns in RAW_CONTRACT.items():
        names = [column["name"] for column in documented[table]]
        assert names == [*columns, *lineage], table


def test_every_documented_source_column_has_a_description_that_starts_with_its_type():
    for table, columns in documented_sources().items():
        for column in columns:
            description = column.get("description", "")
            assert TYPE_PREFIX.match(description), f"{table}.{column['name']}: {description!r}"


def test_the_macro_list_of_the_fivetran_modes_is_the_raw_contract():
    """macros/sources/raw_contract_column_lists.sql stands in for the sources YAML where the generic
    sources are disabled (the Fivetran modes): it must list the same columns."""
    text = (
        DBT_PROJECT_DIR.parent / "macros" / "sources" / "raw_contract_column_lists.sql"
    ).read_text()
    listed = {
        table: re.findall(r"'([a-z_]+)'", body)
        for table, body in re.findall(r"'([a-z_]+)': \[(.*?)\]", text, re.DOTALL)
    }
    assert listed == {table: list(columns) for table, columns in RAW_CONTRACT.items()}
