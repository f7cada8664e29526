"""Assets downstream of the marts: Parquet files for BI tools that read files, and the HTML
report. Both read the warehouse read-only after dbt has finished, and write their files
atomically (a temporary file renamed into place), so a reader never sees half a file."""

import dagster as dg
import pyarrow.parquet as pq

from orchestration.defs.dbt.assets import dbt_key
from orchestration.defs.dbt.project import relation_name
from orchestration.defs.report.html import ReportData, render_report
from orchestration.lib.asset_keys import DEFAULT_OWNERS, WAREHOUSE_POOL
from orchestration.lib.files import write_atomically
from orchestration.lib.settings import load_settings
from orchestration.lib.warehouse import WarehouseConnection, connect

EXPORT_MODELS = ("mart_lead_segments", "mart_segment_summary", "mart_accounts")
REPORT_MODELS = ("dim_leads", "mart_lead_segments", "mart_segment_summary")
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
def bi_parquet_export(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    out_dir = settings.data_dir / "exports"
    rows = {}
    with connect(settings, read_only=True) as conn:
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


def load_report_data(conn: WarehouseConnection) -> ReportData:
    leads = relation_name("dim_leads")
    band = "least(cast(floor(lead_score / 10) as integer), 9) * 10"
    won = (
        f"(select distinct contact_id from {relation_name('stg_crm__deals')} "
        "where is_won and contact_id is not null)"
    )
    conversion_bands = conn.fetchall(
        f"select {band} as band, count(*), "
        "sum(case when won.contact_id is not null then 1 else 0 end) "
        f"from {leads} as leads left join {won} as won on leads.contact_id = won.contact_id "
        "group by 1 order by 1"
    )
    stage_counts = conn.fetchall(f"select lead_stage, count(*) from {leads} group by 1")
    return ReportData(
        as_of_date=str(conn.fetchall(f"select max(as_of_date) from {leads}")[0][0]),
        total_leads=sum(n for _, n in stage_counts),
        stage_order=[
            label
            for (label,) in conn.fetchall(
                f"select label from {relation_name('stg_scoring__score_bands')} "
                "where band_type = 'stage' order by band_rank"
            )
        ],
        score_bins=[
            (int(b), stage, int(n))
            for b, stage, n in conn.fetchall(
                f"select {band}, lead_stage, count(*) from {leads} group by 1, 2"
            )
        ],
        segments=[
            (segment, int(n), None if rate is None else float(rate), route)
            for segment, n, rate, route in conn.fetchall(
                "select segment, leads, conversion_rate, route "
                f"from {relation_name('mart_segment_summary')} order by segment_priority"
            )
        ],
        conversion_bands=[(int(b), int(n), int(w)) for b, n, w in conversion_bands],
        heatmap=[
            (tier, level, int(n))
            for tier, level, n in conn.fetchall(
                "select company_tier, engagement_level, count(*) "
                f"from {relation_name('mart_lead_segments')} group by 1, 2"
            )
        ],
        stage_counts=[(stage, int(n)) for stage, n in stage_counts],
        converted_leads=sum(int(w) for _, _, w in conversion_bands),
    )


@dg.asset(
    key=["report", "lead_segment_report"],
    group_name="report",
    pool=WAREHOUSE_POOL,
    deps=[dbt_key(model) for model in REPORT_MODELS],
    kinds={"html"},
    owners=DEFAULT_OWNERS,
    description="An HTML page with charts: score distribution by stage, segment sizes, "
    "conversion rate by score band and the segment matrix as a heat map.",
)
def lead_segment_report(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    settings = load_settings()
    with connect(settings, read_only=True) as conn:
        data = load_report_data(conn)
    path = settings.data_dir / "reports" / REPORT_FILE
    html = render_report(data)
    write_atomically(path, lambda p: p.write_text(html, encoding="utf-8"))
    context.log.info(f"wrote the report to {path}")
    return dg.MaterializeResult(
        metadata={
            "path": dg.MetadataValue.path(str(path)),
            "leads": dg.MetadataValue.int(data.total_leads),
            "segments": dg.MetadataValue.int(len(data.segments)),
        }
    )
