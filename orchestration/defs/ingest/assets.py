"""Dagster assets that load landing files into the raw schema, one asset per raw table."""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.ingest.loader import IngestFailedError, ingest_landing
from orchestration.lib.asset_keys import DEFAULT_OWNERS, WAREHOUSE_POOL, raw_table_key
from orchestration.lib.dbt_manifest import crm_source

RAW_DESCRIPTIONS = {
    "crm_companies": "Companies from the CRM, as received (text), one row per landing-file row.",
    "crm_contacts": "People from the CRM, as received (text), one row per landing-file row.",
    "marketing_events": "Web, email, form and webinar events, as received (text).",
    "crm_deals": "Deals (conversion outcomes) from the CRM, as received (text).",
    "crm_owners": "CRM users who can own leads, as received (text).",
}


@dg.multi_asset(
    name="ingest_landing_files",
    specs=[
        dg.AssetSpec(
            raw_table_key(table),
            group_name="ingest",
            description=RAW_DESCRIPTIONS[table],
            kinds={"python", "csv", "parquet"},
            owners=DEFAULT_OWNERS,
            metadata={"raw_contract_columns": ", ".join(columns)},
        )
        for table, columns in RAW_CONTRACT.items()
    ],
    can_subset=True,
    pool=WAREHOUSE_POOL,
)
def ingest_landing_files(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Load new CSV / Parquet files from the landing folder; files already loaded are skipped.

    Every good file is loaded (each in its own transaction); if any file is malformed the
    step fails afterwards, naming each bad file and its problem, so dbt does not run on a
    half-delivered batch.
    """
    settings = warehouse.settings
    if not settings.landing_dir.exists() and crm_source() == "generic":
        # A mistyped folder must not pass for "nothing new" (an empty folder is that).
        raise dg.Failure(
            f"the landing folder {settings.landing_dir} does not exist (LEADSCORE_LANDING_DIR, "
            "by default <LEADSCORE_DATA_DIR>/landing): fix the variable or create the folder"
        )
    tables = [key.path[-1] for key in sorted(context.selected_asset_keys)]
    context.log.info(
        f"loading landing files from {settings.landing_dir} into {settings.describe_warehouse()}"
    )
    with warehouse.connect() as conn:
        report = ingest_landing(
            conn,
            settings.landing_dir,
            settings.raw_schema,
            tables=tables,
            log=context.log.info,
            raise_on_failure=False,
            max_field_bytes=settings.csv_max_field_bytes,
        )
    if report.failed:
        raise IngestFailedError(report)
    for table in tables:
        yield dg.MaterializeResult(
            asset_key=raw_table_key(table),
            metadata={
                "rows_loaded": dg.MetadataValue.int(report.rows_loaded(table)),
                "files_loaded": dg.MetadataValue.int(report.count(table, "loaded")),
                "files_skipped": dg.MetadataValue.int(report.count(table, "skipped")),
                "landing_dir": dg.MetadataValue.path(str(settings.landing_dir / table)),
            },
        )
