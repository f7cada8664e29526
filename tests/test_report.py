"""The BI surface people look at: the HTML report rendered in real headless Chromium (Debian's
`chromium`, driven by Playwright) at a desktop and a phone width, and the Parquet exports,
both produced by the Dagster run of the acceptance data.

The acceptance warehouse has one score snapshot (today): its report must say that there is
no calibration yet. A copy of it backfilled 90 days back and refreshed today, as docs/calibration.md
("No snapshot, no rows") tells a new installation to do, has a calibration: its
conversion chart must draw fct_calibration_by_band, read here from the mart. Hand-made
warehouses check the weekly MQL / SQL counts and the leak of the old conversion chart
(today's scores against any deal ever won) without the acceptance run."""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest

from orchestration.defs.report.assets import EXPORT_MODELS, REPORT_FILE
from orchestration.lib.dbt_manifest import relation_name, relation_parts
from orchestration.lib.warehouse import DuckDBConnection, WarehouseConnection, connect
from orchestration.report.data import load_report_data
from orchestration.report.html import render_report
from tests.conftest import AS_OF, run_refresh, settings_for

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CHARTS = {
    "score-distribution",
    "weekly-stages",
    "conversion-by-band",
    "segment-sizes",
    "segment-heatmap",
}
WIDTHS = (1400, 390)
EVALUATION_DATE = date.fromisoformat(AS_OF) - timedelta(days=90)
MEASURE_PAGE = """() => ({
    viewport: window.innerWidth,
    scrollWidth: Math.max(document.documentElement.scrollWidth, document.body.scrollWidth),
    charts: [...document.querySelectorAll('figure[data-chart]')].map(figure => ({
        chart: figure.dataset.chart,
        marks: [...figure.querySelectorAll('.mark')].filter(mark => {
            const box = mark.getBBox();
            return box.width > 0 && box.height > 0;
        }).length,
        right: Math.max(...[figure, ...figure.querySelectorAll('svg, table, pre')].map(
            element => element.getBoundingClientRect().right)),
        svgWidth: figure.querySelector('svg') ?
            figure.querySelector('svg').getBoundingClientRect().width : null,
    })),
})"""
OPEN_DETAILS = "elements => elements.forEach(element => { element.open = true; })"
CONVERSION_CHART = """() => {
    const figure = document.querySelector('figure[data-chart="conversion-by-band"]');
    return {
        bars: [...figure.querySelectorAll('rect.mark')].map(bar => ({
            band: bar.dataset.band ?? null,
            leads: Number(bar.dataset.leads),
            conversions: Number(bar.dataset.conversions),
            height: bar.getBBox().height,
        })),
        labels: Object.fromEntries([...figure.querySelectorAll('text.rate')].map(
            label => [label.dataset.band, label.textContent])),
        text: figure.textContent,
    };
}"""


def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.fail("the report test needs Debian's chromium: apt-get install chromium")
    return path


def render_in_chromium(page_path: Path, screenshot: Path, width: int) -> dict:
    """The page at a viewport `width`: console errors, per chart the drawn marks and right
    edge, the document's scroll width (also with every <details> table opened) and what
    the conversion chart drew."""
    from playwright.sync_api import sync_playwright

    errors: list[str] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium(), args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": width, "height": 900})
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.goto(page_path.as_uri(), wait_until="load")
        measured = page.evaluate(MEASURE_PAGE)
        conversion = page.evaluate(CONVERSION_CHART)
        page.screenshot(path=str(screenshot), full_page=True)
        page.eval_on_selector_all("details", OPEN_DETAILS)
        opened = page.evaluate(MEASURE_PAGE)
        browser.close()
    return {**measured, "errors": errors, "conversion": conversion, "opened": opened}


def assert_fits(page: dict, width: int) -> None:
    """No horizontal overflow: the document and every chart, table and code box fit."""
    assert page["viewport"] == width
    for state in (page, page["opened"]):
        assert state["scrollWidth"] <= width
        for chart in state["charts"]:
            assert chart["right"] <= width + 0.5, chart
            if chart["svgWidth"] is not None:
                assert chart["svgWidth"] <= width, chart


class Elements(HTMLParser):
    """Every element of a page: tag, attributes, the chart (figure) it is in and its text."""

    VOID = frozenset({"meta", "link", "br", "img", "input", "hr"})

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[dict] = []
        self._open: list[dict] = []
        self._chart: str | None = None
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "figure":
            self._chart = attributes.get("data-chart")
        element = {"tag": tag, "attrs": attributes, "chart": self._chart, "text": ""}
        self.elements.append(element)
        if tag not in self.VOID:
            self._open.append(element)

    def handle_endtag(self, tag: str) -> None:
        while self._open:
            if self._open.pop()["tag"] == tag:
                break
        if tag == "figure":
            self._chart = None

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element["text"] += data

    def in_chart(self, chart: str, tag: str | None = None, css: str | None = None) -> list[dict]:
        return [
            element
            for element in self.elements
            if element["chart"] == chart
            and (tag is None or element["tag"] == tag)
            and (css is None or css in (element["attrs"].get("class") or "").split())
        ]


# -- hand-made warehouses ----------------------------------------------------------------------

HAND_MADE_AS_OF = date(2026, 3, 18)  # a Wednesday: its week starts on Monday 16 March
# Score snapshots: the history starts on 31 December; none in the week of 9 February; one
# after the as-of date (a later run), which the report as of 18 March must not count.
SNAPSHOTS = [
    date(2025, 12, 31),
    *(date(2026, 1, day) for day in (7, 14, 21, 28)),
    *(date(2026, 2, day) for day in (4, 18, 25)),
    *(date(2026, 3, day) for day in (4, 11, 16, 17, 18, 20)),
]
# (contact, from stage, to stage, direction, transitioned on)
TRANSITIONS = [
    ("c1", None, "MQL", "entered", "2025-12-31"),  # there when the history began: not new
    ("c2", None, "SQL", "entered", "2025-12-31"),  # idem
    ("c3", None, "Cold", "entered", "2025-12-31"),
    ("c3", "Cold", "MQL", "up", "2026-01-07"),  # week of Jan 5: MQL
    ("c3", "MQL", "SQL", "up", "2026-01-14"),  # week of Jan 12: SQL
    ("c4", None, "MQL", "entered", "2026-01-08"),  # a new lead scored MQL, week of Jan 5
    ("c5", None, "SQL", "entered", "2025-12-31"),
    ("c5", "SQL", "MQL", "down", "2026-01-21"),  # a fall is not a new MQL
    ("c6", None, "Cold", "entered", "2026-02-18"),
    ("c6", "Cold", "MQL", "up", "2026-03-04"),  # week of Mar 2: MQL ...
    ("c6", "MQL", "Cold", "down", "2026-03-05"),
    ("c6", "Cold", "MQL", "up", "2026-03-06"),  # ... the same lead again: counted once
    ("c7", "Cold", "SQL", "up", "2026-03-06"),  # week of Mar 2: SQL (not MQL)
    ("c8", "Cold", "MQL", "up", "2026-02-18"),  # week of Feb 16 (after the gap): MQL
    ("c9", "Cold", "MQL", "up", "2026-03-18"),  # the as-of date, week of Mar 16: MQL
    ("c10", "Cold", "MQL", "up", "2026-03-20"),  # after the as-of date: not counted
    ("c11", None, "MQL", "entered", "2026-03-17"),  # week of Mar 16: MQL
    ("c12", "MQL", "SQL", "up", "2026-03-16"),  # week of Mar 16: SQL
]
# Worked out by hand from the rows above: week start -> (new MQL, new SQL), None = no snapshot
EXPECTED_WEEKS = {
    "2025-12-29": (0, 0),
    "2026-01-05": (2, 0),
    "2026-01-12": (0, 1),
    "2026-01-19": (0, 0),
    "2026-01-26": (0, 0),
    "2026-02-02": (0, 0),
    "2026-02-09": None,
    "2026-02-16": (1, 0),
    "2026-02-23": (0, 0),
    "2026-03-02": (1, 1),
    "2026-03-09": (0, 0),
    "2026-03-16": (2, 1),
}
# Today (18 March) hot1 scores 95 because it won a deal yesterday; three months ago, on the
# evaluation date, the calibration mart saw the leads below. Any-deal-ever against today's
# score puts the 90+ band at 1 of 2 (50%); the mart says 2 of 10 for 75-100.
LEADS = [  # contact, lead score, stage, customer today
    ("hot1", 95.0, "SQL", True),
    ("hot2", 92.0, "SQL", False),
    ("warm", 55.0, "MQL", False),
    ("cold", 12.0, "Cold", False),
]
DEALS = [("hot1", True, "2026-03-17 10:00:00")]
BANDS = [  # score_band, band_floor, leads, conversions, lift
    ("0-25", 0, 40, 0, 0.0),
    ("25-50", 25, 30, 1, 0.83),
    ("50-75", 50, 20, 1, 1.25),
    ("75-100", 75, 10, 2, 5.0),
]


def _create(conn: WarehouseConnection, model: str, columns: str, rows: list[tuple]) -> None:
    schema, table = relation_parts(model)
    conn.execute(f'create schema if not exists "{schema}"')
    conn.execute(f'create table "{schema}"."{table}" ({columns})')
    for row in rows:
        marks = ", ".join([conn.placeholder] * len(row))
        conn.execute(f'insert into "{schema}"."{table}" values ({marks})', list(row))


def hand_made_warehouse(*, calibrated: bool, conn: WarehouseConnection | None = None):
    """Tables under their dbt names with the columns the report reads, in `conn` (an empty
    warehouse) or a new in-memory DuckDB."""
    conn = conn or DuckDBConnection(duckdb.connect())
    as_of = HAND_MADE_AS_OF
    _create(
        conn,
        "dim_leads",
        "contact_id varchar, lead_score double precision, lead_stage varchar, "
        "is_customer boolean, as_of_date date",
        [(*lead, as_of) for lead in LEADS],
    )
    _create(
        conn,
        "stg_scoring__score_bands",
        "band_type varchar, label varchar, band_rank bigint, lower_bound double precision, "
        "upper_bound double precision",
        [
            ("stage", "Cold", 1, None, 41.0),
            ("stage", "MQL", 2, 41.0, 61.0),
            ("stage", "SQL", 3, 61.0, None),
            ("grade", "A", 4, 30.0, None),
        ],
    )
    _create(
        conn,
        "fct_segment_summary",
        "segment varchar, leads bigint, conversion_rate double precision, route varchar, "
        "segment_priority integer",
        [("Hot", 2, 0.5, "sdr", 1), ("Nurture", 2, 0.0, "nurture", 2)],
    )
    _create(
        conn,
        "dim_lead_segments",
        "contact_id varchar, company_tier varchar, engagement_level varchar",
        [("hot1", "SMB", "High"), ("hot2", "SMB", "High"), ("warm", "SMB", "Low")],
    )
    _create(
        conn, "stg_crm__deals", "contact_id varchar, is_won boolean, closed_at timestamp", DEALS
    )
    _create(
        conn,
        "fct_lead_score_history",
        "contact_id varchar, lead_stage varchar, lead_score double precision, as_of_date date",
        [("c1", "MQL", 50.0, day) for day in SNAPSHOTS],
    )
    _create(
        conn,
        "fct_lead_stage_transitions",
        "contact_id varchar, from_stage varchar, to_stage varchar, direction varchar, "
        "transitioned_on date",
        [(*row[:4], date.fromisoformat(row[4])) for row in TRANSITIONS],
    )
    evaluation = as_of - timedelta(days=90)
    _create(
        conn,
        "fct_calibration_by_band",
        "score_band varchar, band_floor integer, band_ceiling integer, window_days integer, "
        "leads bigint, conversions bigint, conversion_rate double precision, "
        "lift double precision, evaluation_date date, window_end_date date",
        [
            (label, floor, floor + 25, 90, leads, won, won / leads, lift, evaluation, as_of)
            for label, floor, leads, won, lift in BANDS
        ]
        if calibrated
        else [],
    )
    _create(
        conn,
        "fct_calibration_metrics",
        "window_days integer, leads bigint, conversions bigint, conversion_rate double precision, "
        "roc_auc double precision, evaluation_date date, window_end_date date",
        [(90, 100, 4, 0.04, 0.713, evaluation, as_of)] if calibrated else [],
    )
    return conn


def test_weekly_chart_counts_new_mqls_and_sqls_and_says_there_is_no_calibration_yet(warehouse):
    conn = hand_made_warehouse(calibrated=False, conn=warehouse)
    html = render_report(load_report_data(conn))
    page = Elements(html)

    drawn: dict[str, dict[str, str]] = {}
    for label in page.in_chart("weekly-stages", "text", "value"):
        drawn.setdefault(label["attrs"]["data-week"], {})[label["attrs"]["data-stage"]] = label[
            "text"
        ]
    expected = {
        week: {"": "no score snapshot this week"}
        if counts is None
        else {"MQL": str(counts[0]), "SQL": str(counts[1])}
        for week, counts in EXPECTED_WEEKS.items()
    }
    assert drawn == expected
    # a bar for each count above zero, as long as its count
    bars = {
        (bar["attrs"]["data-week"], bar["attrs"]["data-stage"]): int(bar["attrs"]["data-count"])
        for bar in page.in_chart("weekly-stages", "rect", "mark")
    }
    assert bars == {
        (week, stage): count
        for week, counts in EXPECTED_WEEKS.items()
        if counts is not None
        for stage, count in zip(("MQL", "SQL"), counts, strict=True)
        if count
    }
    widths = {
        (bar["attrs"]["data-week"], bar["attrs"]["data-stage"]): float(bar["attrs"]["width"])
        for bar in page.in_chart("weekly-stages", "rect", "mark")
    }
    assert widths[("2026-01-05", "MQL")] == pytest.approx(2 * widths[("2026-01-12", "SQL")])
    caption = page.in_chart("weekly-stages", "figcaption")[0]["text"]
    assert "2025-12-31" in caption  # where the history starts, and why those leads are not new

    # no calibration: no bars, a plain note and the backfill that gets one
    assert page.in_chart("conversion-by-band", "rect") == []
    [notice] = [e for e in page.in_chart("conversion-by-band") if "notice" in str(e["attrs"])]
    assert notice["attrs"]["data-state"] == "no-calibration"
    assert "No calibration snapshot yet" in notice["text"]
    backfill = HAND_MADE_AS_OF - timedelta(days=90)
    assert f"LEADSCORE_AS_OF_DATE={backfill} .venv/bin/leadscore run" in notice["text"]
    assert "%" not in notice["text"]  # no rate at all, leaky or not


def test_conversion_chart_is_the_calibration_mart_not_todays_scores_against_won_deals(warehouse):
    conn = hand_made_warehouse(calibrated=True, conn=warehouse)
    page = Elements(render_report(load_report_data(conn)))

    # the mart, read here, not through the report code
    mart = {
        label: (leads, won, f"{won / leads:.1%}")
        for label, leads, won in conn.fetchall(
            f"select score_band, leads, conversions from {relation_name('fct_calibration_by_band')}"
        )
    }
    bars = {
        bar["attrs"]["data-band"]: (
            int(bar["attrs"]["data-leads"]),
            int(bar["attrs"]["data-conversions"]),
        )
        for bar in page.in_chart("conversion-by-band", "rect", "mark")
    }
    labels = {
        label["attrs"]["data-band"]: label["text"]
        for label in page.in_chart("conversion-by-band", "text", "rate")
    }
    assert bars == {band: (leads, won) for band, (leads, won, _) in mart.items()}
    assert labels == {band: rate for band, (_, _, rate) in mart.items()}
    assert labels["75-100"] == "20.0%"
    # the old chart: today's score band of each lead against any deal it ever won
    leaky = conn.fetchall(
        f"select count(*), count(deals.contact_id) from {relation_name('dim_leads')} as leads "
        f"left join {relation_name('stg_crm__deals')} as deals "
        "on deals.contact_id = leads.contact_id and deals.is_won where leads.lead_score >= 90"
    )[0]
    assert leaky == (2, 1)
    chart_text = "".join(e["text"] for e in page.in_chart("conversion-by-band", "svg"))
    assert "50.0%" not in chart_text and "50%" not in chart_text
    caption = page.in_chart("conversion-by-band", "figcaption")[0]["text"]
    evaluation = HAND_MADE_AS_OF - timedelta(days=90)
    assert f"Scores of {evaluation}" in caption
    assert "90 days after" in caption and "0.71" in caption and "100 leads" in caption
    assert "4 conversions" in caption and "customers" in caption


def test_report_escapes_names_and_draws_one_mark_per_value():
    conn = hand_made_warehouse(calibrated=True)
    conn.execute(
        f"update {relation_name('fct_segment_summary')} "
        "set segment = '<script>alert(1)</script>' where segment = 'Hot'"
    )
    data = load_report_data(conn)
    html = render_report(data)
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert html.count('class="mark"') == (
        3  # score bins: 10-19, 50-59, 90-99 (one stage each)
        + 7  # weekly bars above zero
        + 4  # calibration bands
        + 2  # segments
        + 9  # heat map cells
    )
    assert "25.0%" in html  # customers: 1 of 4 leads


@pytest.mark.parametrize("width", WIDTHS)
def test_hand_made_report_fits_the_screen_in_chromium(tmp_path, width):
    page_path = tmp_path / REPORT_FILE
    page_path.write_text(render_report(load_report_data(hand_made_warehouse(calibrated=True))))
    page = render_in_chromium(page_path, tmp_path / "report.png", width)

    assert page["errors"] == []
    assert_fits(page, width)
    marks = {chart["chart"]: chart["marks"] for chart in page["charts"]}
    assert marks == {
        "score-distribution": 3,
        "weekly-stages": 7,
        "conversion-by-band": 4,
        "segment-sizes": 2,
        "segment-heatmap": 9,
    }


# -- the acceptance warehouse ----------------------------------------------------------------


@pytest.fixture(scope="module")
def calibrated_refresh(duckdb_refresh, acceptance_landing, tmp_path_factory):
    """A copy of the acceptance warehouse, backfilled 90 days back and refreshed today by the
    Dagster refresh job (docs/calibration.md): its calibration marts hold
    the evaluation of the backfilled snapshot."""
    source, _ = duckdb_refresh
    env = {
        "LEADSCORE_TARGET": "duckdb",
        "LEADSCORE_DATA_DIR": str(tmp_path_factory.mktemp("calibrated_report")),
        "LEADSCORE_LANDING_DIR": str(acceptance_landing.out_dir),
    }
    settings = settings_for(**env, LEADSCORE_AS_OF_DATE=AS_OF)
    shutil.copy(source.duckdb_path, settings.duckdb_path)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in env.items():
            patch.setenv(name, value)
        for as_of in (EVALUATION_DATE.isoformat(), AS_OF):
            patch.setenv("LEADSCORE_AS_OF_DATE", as_of)
            assert run_refresh().success, f"the refresh as of {as_of} failed"
    return settings


@pytest.mark.parametrize("width", WIDTHS)
def test_report_renders_in_chromium_with_every_chart_drawn(calibrated_refresh, tmp_path, width):
    settings = calibrated_refresh
    report = settings.data_dir / "reports" / REPORT_FILE
    page = render_in_chromium(report, tmp_path / "report.png", width)

    assert page["errors"] == []
    assert_fits(page, width)
    marks = {chart["chart"]: chart["marks"] for chart in page["charts"]}
    assert set(marks) == CHARTS
    with connect(settings, read_only=True) as conn:
        [(segments,)] = conn.fetchall(
            f"select count(*) from {relation_name('fct_segment_summary')}"
        )
        [(bands,)] = conn.fetchall(
            f"select count(*) from {relation_name('fct_calibration_by_band')}"
        )
    assert marks["segment-sizes"] == segments  # one bar per segment
    assert marks["segment-heatmap"] == 9  # 3 tiers x 3 engagement levels
    assert bands == 10 and marks["conversion-by-band"] == bands  # one bar per mart band
    assert marks["score-distribution"] >= 10
    assert marks["weekly-stages"] >= 1  # this week's changes since the backfilled snapshot
    assert (tmp_path / "report.png").stat().st_size > 10_000


def test_conversion_chart_draws_fct_calibration_by_band(calibrated_refresh, tmp_path):
    settings = calibrated_refresh
    report = settings.data_dir / "reports" / REPORT_FILE
    chart = render_in_chromium(report, tmp_path / "report.png", 390)["conversion"]
    with connect(settings, read_only=True) as conn:
        mart = {
            band: (int(leads), int(won), float(rate))
            for band, leads, won, rate in conn.fetchall(
                "select score_band, leads, conversions, conversion_rate "
                f"from {relation_name('fct_calibration_by_band')}"
            )
        }
        [(evaluation, window_end, leads, conversions, auc)] = conn.fetchall(
            "select evaluation_date, window_end_date, leads, conversions, roc_auc "
            f"from {relation_name('fct_calibration_metrics')}"
        )
        # the old chart's figure for the top band: today's scores against any deal ever won
        [(top_leads, top_won)] = conn.fetchall(
            "select count(*), count(won.contact_id) "
            f"from {relation_name('dim_leads')} as leads left join (select distinct contact_id "
            f"from {relation_name('stg_crm__deals')} where is_won) as won "
            "on won.contact_id = leads.contact_id where leads.lead_score >= 90"
        )
    assert evaluation == EVALUATION_DATE

    drawn = {bar["band"]: (bar["leads"], bar["conversions"]) for bar in chart["bars"]}
    assert drawn == {band: (n, won) for band, (n, won, _) in mart.items()}
    assert chart["labels"] == {band: f"{rate:.1%}" for band, (_, _, rate) in mart.items()}
    # bar heights in proportion to the mart's rates
    peak = max(rate for _, _, rate in mart.values())
    tallest = max(bar["height"] for bar in chart["bars"])
    for bar in chart["bars"]:
        if mart[bar["band"]][2] > 0:
            assert bar["height"] / tallest == pytest.approx(mart[bar["band"]][2] / peak, abs=0.01)
    # the leak is gone: the top band shows the point-in-time rate, not the leaky one
    leaky = f"{top_won / top_leads:.1%}"
    assert leaky != chart["labels"]["90-100"]
    assert chart["labels"]["90-100"] == f"{mart['90-100'][2]:.1%}"
    assert f"Scores of {evaluation}" in chart["text"] and f"to {window_end}" in chart["text"]
    assert f"{leads:,} leads, {conversions:,} conversions" in chart["text"]
    assert f"ROC AUC {auc:.2f}" in chart["text"]


def test_weekly_chart_of_the_backfilled_warehouse_counts_its_transitions(calibrated_refresh):
    settings = calibrated_refresh
    page = Elements((settings.data_dir / "reports" / REPORT_FILE).read_text(encoding="utf-8"))
    as_of = date.fromisoformat(AS_OF)
    this_week = (as_of - timedelta(days=as_of.weekday())).isoformat()
    with connect(settings, read_only=True) as conn:
        expected = dict(
            conn.fetchall(
                "select to_stage, count(distinct contact_id) "
                f"from {relation_name('fct_lead_stage_transitions')} "
                "where to_stage in ('MQL', 'SQL') and transitioned_on between ? and ? "
                "and (direction = 'up' or (direction = 'entered' and transitioned_on > ?)) "
                "group by 1",
                [date.fromisoformat(this_week), as_of, EVALUATION_DATE],
            )
        )
    counts = {
        (label["attrs"]["data-week"], label["attrs"]["data-stage"]): label["text"]
        for label in page.in_chart("weekly-stages", "text", "value")
    }
    assert counts[(this_week, "MQL")] == f"{expected.get('MQL', 0):,}"
    assert counts[(this_week, "SQL")] == f"{expected.get('SQL', 0):,}"
    assert expected.get("MQL", 0) + expected.get("SQL", 0) > 0
    # the other eleven weeks have no snapshot (the backfill is 90 days back)
    assert sum(1 for (week, stage) in counts if stage == "") == 11


@pytest.mark.parametrize("width", WIDTHS)
def test_first_run_report_says_how_to_get_a_calibration(duckdb_refresh, tmp_path, width):
    """The acceptance warehouse has no snapshot 90 days back: no conversion bars at all."""
    settings, (first, _) = duckdb_refresh
    assert first.success
    report = settings.data_dir / "reports" / REPORT_FILE
    assert report.exists()
    page = render_in_chromium(report, tmp_path / "report.png", width)

    assert page["errors"] == []
    assert_fits(page, width)
    marks = {chart["chart"]: chart["marks"] for chart in page["charts"]}
    assert set(marks) == CHARTS
    assert marks["conversion-by-band"] == 0
    assert marks["segment-heatmap"] == 9 and marks["score-distribution"] >= 10
    text = page["conversion"]["text"]
    assert "No calibration snapshot yet" in text
    assert f"LEADSCORE_AS_OF_DATE={EVALUATION_DATE} .venv/bin/leadscore run" in text


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
