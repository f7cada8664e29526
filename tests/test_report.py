"""The BI surface people look at: the HTML report rendered in real headless Chromium (Debian's
`chromium`, driven by Playwright), and the Parquet exports, both produced by the Dagster run
of the acceptance data."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from orchestration.defs.dbt.project import relation_name
from orchestration.defs.report.assets import EXPORT_MODELS, REPORT_FILE
from orchestration.defs.report.html import ReportData, render_report
from orchestration.lib.warehouse import connect

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHARTS = {"score-distribution", "segment-sizes", "conversion-by-band", "segment-heatmap"}
COUNT_DRAWN_MARKS = """figures => figures.map(figure => ({
    chart: figure.dataset.chart,
    marks: [...figure.querySelectorAll('.mark')].filter(mark => {
        const box = mark.getBBox();
        return box.width > 0 && box.height > 0;
    }).length,
}))"""


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("the report test needs Debian's chromium: apt-get install chromium")
    return path


def render_in_chromium(page_path: Path, screenshot: Path) -> tuple[list[str], list[dict]]:
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1400})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri(), wait_until="load")
        charts = page.eval_on_selector_all("figure[data-chart]", COUNT_DRAWN_MARKS)
        page.screenshot(path=str(screenshot), full_page=True)
        browser.close()
    return errors, charts


def test_report_renders_in_chromium_with_every_chart_drawn(duckdb_refresh, tmp_path):
    settings, (first, _) = duckdb_refresh
    assert first.success
    report = settings.data_dir / "reports" / REPORT_FILE
    assert report.exists()

    errors, charts = render_in_chromium(report, tmp_path / "report.png")

    assert errors == []
    marks = {chart["chart"]: chart["marks"] for chart in charts}
    assert set(marks) == CHARTS
    with connect(settings, read_only=True) as conn:
        segments = conn.fetchall(f"select count(*) from {relation_name('mart_segment_summary')}")
    assert marks["segment-sizes"] == segments[0][0]  # one bar per segment
    assert marks["segment-heatmap"] == 9  # 3 tiers x 3 engagement levels
    assert marks["conversion-by-band"] == 10  # ten 10-point bands, all populated
    assert marks["score-distribution"] >= 10
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_report_escapes_names_and_draws_one_mark_per_value():
    data = ReportData(
        as_of_date="2026-01-31",
        total_leads=3,
        stage_order=["Cold", "SQL"],
        score_bins=[(0, "Cold", 2), (90, "SQL", 1)],
        segments=[("<script>alert(1)</script>", 2, 0.5, "nurture"), ("Hot", 1, None, "sdr")],
        conversion_bands=[(0, 2, 1), (90, 1, 1)],
        heatmap=[("SMB", "High", 1), ("SMB", "Low", 2)],
        stage_counts=[("Cold", 2), ("SQL", 1)],
        converted_leads=2,
    )
    html = render_report(data)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('class="mark"') == 2 + 2 + 2 + 9  # bins, segments, bands, heat map cells
    assert "66.7%" in html  # 2 of 3 leads converted


def test_parquet_exports_hold_the_marts(duckdb_refresh):
    settings, _ = duckdb_refresh
    with connect(settings, read_only=True) as conn:
        for model in EXPORT_MODELS:
            table = pq.read_table(settings.data_dir / "exports" / f"{model}.parquet")
            expected_rows = conn.fetchall(f"select count(*) from {relation_name(model)}")[0][0]
            expected_columns = [
                name for (name, *_) in conn.fetchall(f"describe {relation_name(model)}")
            ]
            assert table.num_rows == expected_rows, model
            assert table.column_names == expected_columns, model
