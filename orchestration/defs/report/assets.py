"""Assets downstream of the marts: Parquet files for BI tools that read files, and the HTML
report. Both read the warehouse read-only after dbt has finished, and write their files
atomically (a temporary file renamed into place), so a reader never sees half a file."""

import dagster as dg
import pyarrow.parquet as pq

from orchestration.defs.dbt.assets import dbt_key
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.asset_keys import DEFAULT_OWNERS, WAREHOUSE_POOL
from orchestration.lib.dbt_manifest import relation_name
from orchestration.lib.files import write_atomically
from orchestration.report.data import load_report_data
from orchestration.report.html import render_report

EXPORT_MODELS = ("dim_lead_segments", "fct_segment_summary", "dim_accounts")
CALIBRATION_MODELS = ("fct_calibration_by_band", "fct_calibration_metrics")
REPORT_MODELS = (
    "dim_leads",
    "dim_lead_segments",
    "fct_segment_summary",
    "fct_lead_score_history",
    "fct_lead_stage_transitions",
    *CALIBRATION_MODELS,
)
REPORT_FILE = "lead_segment_report.html"


@dg.asset(
    key=["report", "bi_parquet_export"],
    group_name="report",
    pool=WAREHOUSE_POOL,
    deps=[dbt_key(model) for model in EXPORT_MODELS],
    kinds={"parquet"},
    owners=DEFAULT_OWNERS,
    description="The lead-level segment mart, the segment summary and the account mart as "
    "Parquet files in <data dir>/exports, for BI tools that read files.",
)
def bi_parquet_export(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    out_dir = warehouse.settings.data_dir / "exports"
    rows = {}
    with warehouse.connect(read_only=True) as conn:
        for model in EXPORT_MODELS:
            table = conn.fetch_arrow(f"select * from {relation_name(model)}")
            write_atomically(out_dir / f"{model}.parquet", lambda p, t=table: pq.write_table(t, p))
            rows[model] = table.num_rows
            context.log.info(f"exported {table.num_rows:,} rows of {model}")
    return dg.MaterializeResult(
        metadata={
            "directory": dg.MetadataValue.path(str(out_dir)),
            **{f"rows_{model}": dg.MetadataValue.int(n) for model, n in rows.items()},
        }
    )


@dg.asset(
    key=["report", "lead_segment_report"],
    group_name="report",
    pool=WAREHOUSE_POOL,
    deps=[dbt_key(model) for model in REPORT_MODELS],
    kinds={"html"},
    owners=DEFAULT_OWNERS,
    description="An HTML page with charts: score distribution by stage, new MQLs and SQLs per "
    "week, conversion rate by score band point-in-time (the calibration marts), segment sizes "
    "and the segment matrix as a heat map.",
)
def lead_segment_report(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    with warehouse.connect(read_only=True) as conn:
        data = load_report_data(conn)
    path = warehouse.settings.data_dir / "reports" / REPORT_FILE
    html = render_report(data)
    write_atomically(path, lambda p: p.write_text(html, encoding="utf-8"))
    context.log.info(f"wrote the report to {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "leads": dg.MetadataValue.int(data.total_leads),
            "segments": dg.MetadataValue.int(len(data.segments)),
            "calibration_evaluation_date": dg.MetadataValue.text(
                data.calibration.evaluation_date if data.calibration else "none yet"
            ),
        }
    )
