"""The lead report as one self-contained HTML page: inline SVG charts and CSS, no scripts
and nothing fetched from the network, so it opens from a file, an e-mail or a BI portal.

Every chart is a <figure data-chart="..."> whose drawn marks carry class="mark", which is
what the browser test counts. The charts are SVGs with a viewBox drawn at 100% of their card,
so they scale down to a phone's width; tables scroll inside their own box.

The conversion chart is point-in-time: the scores of an evaluation date E against the deals
won in the window after E (fct_calibration_by_band), never today's scores against deals
already won, which would flatter the top bands (a lead that converted scores high because
it converted)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

STAGE_COLOURS = ("#9fb3c8", "#f0b429", "#2f855a", "#6b46c1", "#c53030")
BAR = "#3b82f6"
WIDTH = 640
# The window docs/calibration.md ("No snapshot, no rows") backfills for (dbt var
# calibration_window_days, default 90): how far back the first snapshot must be.
DEFAULT_WINDOW_DAYS = 90


@dataclass(frozen=True)
class CalibrationBand:
    """One row of fct_calibration_by_band."""

    label: str  # score_band, e.g. "90-100"
    floor: int
    leads: int
    conversions: int
    lift: float | None = None

    @property
    def rate(self) -> float:
        return self.conversions / self.leads if self.leads else 0.0


@dataclass(frozen=True)
class Calibration:
    """The evaluation of fct_calibration_metrics and its bands."""

    evaluation_date: str
    window_end_date: str
    window_days: int
    leads: int
    conversions: int
    roc_auc: float | None
    bands: Sequence[CalibrationBand]


@dataclass(frozen=True)
class StageWeek:
    """Leads that became MQL / SQL in the week starting on `week_start` (a Monday);
    `observed` is False when the score history has no snapshot in that week."""

    week_start: str
    new_mql: int
    new_sql: int
    observed: bool = True


@dataclass(frozen=True)
class ReportData:
    as_of_date: str
    total_leads: int
    stage_order: Sequence[str]  # lowest band first
    score_bins: Sequence[tuple[int, str, int]]  # (bin start, stage, leads)
    segments: Sequence[tuple[str, int, float | None, str]]  # (segment, leads, conversion, route)
    heatmap: Sequence[tuple[str, str, int]]  # (company tier, engagement level, leads)
    stage_counts: Sequence[tuple[str, int]]
    customers: int  # leads with a deal won by the as-of date
    calibration: Calibration | None  # None: no calibration snapshot yet
    weekly_stages: Sequence[StageWeek]  # oldest week first
    mql_label: str = "MQL"
    sql_label: str = "SQL"
    history_start: str | None = None  # first snapshot of the score history


def _figure(chart: str, title: str, body: str, caption: str, extra: str = "") -> str:
    return (
        f'<figure class="card" data-chart="{chart}"><h2>{escape(title)}</h2>{body}'
        f"<figcaption>{escape(caption)}</figcaption>{extra}</figure>"
    )


def _svg(height: int, body: str, label: str) -> str:
    return (
        f'<svg role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" preserveAspectRatio="xMidYMid meet" '
        f'xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


def _table(summary: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """The numbers behind a chart, folded away, in a box that scrolls on its own."""
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in rows
    )
    return (
        f"<details><summary>{escape(summary)}</summary>"
        f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></details>"
    )


def _legend(items: Sequence[tuple[str, str]]) -> str:
    return "".join(f'<tspan fill="{colour}">■</tspan> {escape(label)}  ' for label, colour in items)


def score_distribution(data: ReportData) -> str:
    """Stacked bars: leads per 10-point score bin, coloured by stage."""
    bins = list(range(0, 100, 10))
    colours = dict(zip(data.stage_order, STAGE_COLOURS, strict=False))
    totals = {b: 0 for b in bins}
    for start, _, leads in data.score_bins:
        totals[start] = totals.get(start, 0) + leads
    peak = max(totals.values(), default=0) or 1
    left, bottom, height, slot = 50, 250, 220, (WIDTH - 70) / len(bins)
    parts = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#555"/>']
    offsets = {b: 0.0 for b in bins}
    for stage in data.stage_order:
        for start, bin_stage, leads in data.score_bins:
            if bin_stage != stage or leads == 0:
                continue
            bar = leads / peak * height
            offsets[start] += bar
            x = left + bins.index(start) * slot + 4
            parts.append(
                f'<rect class="mark" x="{x:.1f}" y="{bottom - offsets[start]:.1f}" '
                f'width="{slot - 8:.1f}" height="{bar:.1f}" fill="{colours.get(stage, BAR)}">'
                f"<title>{escape(stage)}, score {start}-{start + 9}: {leads:,} leads</title></rect>"
            )
    for start in bins:
        x = left + bins.index(start) * slot + slot / 2
        parts.append(f'<text x="{x:.1f}" y="{bottom + 16}" text-anchor="middle">{start}</text>')
    parts.append(f'<text x="{left - 6}" y="{bottom - height}" text-anchor="end">{peak:,}</text>')
    legend = _legend([(stage, colours.get(stage, BAR)) for stage in data.stage_order])
    parts.append(f'<text x="{left}" y="{bottom + 36}">{legend}</text>')
    return _figure(
        "score-distribution",
        "Lead score distribution by stage",
        _svg(300, "".join(parts), "Histogram of lead scores by stage"),
        "Leads per 10-point lead-score bin; colour shows the stage the score maps to.",
    )


def _week_label(week_start: str) -> str:
    day = date.fromisoformat(week_start)
    return f"{day:%b} {day.day}"


def weekly_stage_changes(data: ReportData) -> str:
    """Two bars a week: leads that became MQL and SQL, one row per week, oldest first."""
    weeks = list(data.weekly_stages)
    colours = dict(zip(data.stage_order, STAGE_COLOURS, strict=False))
    series = [
        ("mql", data.mql_label, colours.get(data.mql_label, STAGE_COLOURS[1])),
        ("sql", data.sql_label, colours.get(data.sql_label, STAGE_COLOURS[2])),
    ]
    peak = max((max(week.new_mql, week.new_sql) for week in weeks), default=0) or 1
    left, top, row_height, bar_height = 70, 30, 36, 13
    room = WIDTH - left - 70
    parts = [f'<text x="{left}" y="16">{_legend([(label, c) for _, label, c in series])}</text>']
    for index, week in enumerate(weeks):
        y = top + index * row_height
        parts.append(
            f'<text x="{left - 8}" y="{y + 20}" text-anchor="end">'
            f"{escape(_week_label(week.week_start))}</text>"
        )
        if not week.observed:
            parts.append(
                f'<text class="value" data-week="{week.week_start}" data-stage="" '
                f'x="{left}" y="{y + 20}" fill="#829ab1">no score snapshot this week</text>'
            )
            continue
        for offset, (key, label, colour) in enumerate(series):
            count = week.new_mql if key == "mql" else week.new_sql
            bar_y = y + 4 + offset * (bar_height + 3)
            width = count / peak * room
            if count:
                parts.append(
                    f'<rect class="mark" x="{left}" y="{bar_y}" width="{width:.1f}" '
                    f'height="{bar_height}" fill="{colour}" data-week="{week.week_start}" '
                    f'data-stage="{escape(label)}" data-count="{count}"><title>week of '
                    f"{week.week_start}: {count:,} new {escape(label)}</title></rect>"
                )
            parts.append(
                f'<text class="value" data-week="{week.week_start}" data-stage="{escape(label)}" '
                f'x="{left + width + 5:.1f}" y="{bar_y + bar_height - 2}">{count:,}</text>'
            )
    caption = (
        f"Leads that became {data.mql_label} or {data.sql_label}, per week (weeks start on "
        f"Monday; the last one runs to {data.as_of_date}): a rise to the stage between two "
        "daily score snapshots, or a new lead scored straight into it. A change is dated by the "
        "first snapshot that shows it."
    )
    if data.history_start:
        caption += (
            f" The score history starts on {data.history_start}: leads already in a stage then "
            "are not counted as new."
        )
    if any(not week.observed for week in weeks):
        caption += (
            " Weeks without a snapshot have no figures; the changes of such a gap fall in the "
            "week of the next snapshot."
        )
    table = _table(
        "Weekly numbers",
        ["Week starting", f"New {data.mql_label}", f"New {data.sql_label}"],
        [
            [week.week_start, f"{week.new_mql:,}", f"{week.new_sql:,}"]
            if week.observed
            else [week.week_start, "no snapshot", "no snapshot"]
            for week in weeks
        ],
    )
    return _figure(
        "weekly-stages",
        f"New {data.mql_label}s and {data.sql_label}s per week",
        _svg(
            top + len(weeks) * row_height + 6,
            "".join(parts),
            f"New {data.mql_label}s and {data.sql_label}s per week",
        ),
        caption,
        table,
    )


def segment_sizes(data: ReportData) -> str:
    """Horizontal bars: leads per segment, with conversion rate."""
    rows = list(data.segments)
    peak = max((leads for _, leads, _, _ in rows), default=0) or 1
    left, row_height = 170, 30
    parts = []
    for index, (segment, leads, conversion, route) in enumerate(rows):
        y = 10 + index * row_height
        width = leads / peak * (WIDTH - left - 150)
        rate = "n/a" if conversion is None else f"{conversion:.1%} converted"
        parts.append(
            f'<text x="{left - 8}" y="{y + 17}" text-anchor="end">{escape(segment)}</text>'
            f'<rect class="mark" x="{left}" y="{y + 4}" width="{max(width, 1):.1f}" height="20" '
            f'fill="{BAR}"><title>{escape(segment)}: {leads:,} leads, route {escape(route)}'
            f"</title></rect>"
            f'<text x="{left + width + 6:.1f}" y="{y + 18}">{leads:,} · {rate}</text>'
        )
    return _figure(
        "segment-sizes",
        "Segment sizes",
        _svg(20 + len(rows) * row_height, "".join(parts), "Leads per segment"),
        "Leads per segment of the segment matrix, with the share that has a won deal.",
    )


def _no_calibration(data: ReportData) -> str:
    try:
        backfill = str(date.fromisoformat(data.as_of_date) - timedelta(days=DEFAULT_WINDOW_DAYS))
    except ValueError:
        backfill = "YYYY-MM-DD"
    return (
        '<div class="notice" data-state="no-calibration">'
        "<p><strong>No calibration snapshot yet.</strong> This chart compares the scores leads "
        "had on a past evaluation date with the deals they won in the 90 days after it, and the "
        "score history holds no snapshot that old yet (it starts with the first run). Today's "
        "scores against deals already won would flatter the top bands: a lead that converted "
        "scores high because it converted.</p>"
        "<p>To get one now, backfill a snapshot 90 days back, then refresh today "
        "(docs/calibration.md, "
        "“No snapshot, no rows”):</p>"
        f"<pre><code>LEADSCORE_AS_OF_DATE={backfill} .venv/bin/leadscore run\n"
        ".venv/bin/leadscore run</code></pre>"
        "<p>With daily refreshes it also appears by itself 90 days after the first one.</p></div>"
    )


def conversion_by_band(data: ReportData) -> str:
    """Bars: conversion rate per score band on the evaluation date (does the score rank
    leads?), from fct_calibration_by_band, or a note on how to get a calibration."""
    title = "Conversion rate by score band"
    calibration = data.calibration
    if calibration is None or not calibration.bands:
        return _figure(
            "conversion-by-band",
            title,
            _no_calibration(data),
            "Point-in-time calibration (fct_calibration_by_band) needs a score snapshot "
            "at least 90 days old.",
        )
    rows = sorted(calibration.bands, key=lambda band: band.floor)
    overall = calibration.conversions / calibration.leads if calibration.leads else 0.0
    peak = max([band.rate for band in rows] + [overall]) or 1
    left, bottom, height = 50, 250, 220
    slot = (WIDTH - 70) / len(rows)
    parts = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#555"/>']
    for index, band in enumerate(rows):
        bar = band.rate / peak * height
        x = left + index * slot + 4
        middle = x + (slot - 8) / 2
        parts.append(
            f'<rect class="mark" x="{x:.1f}" y="{bottom - bar:.1f}" width="{slot - 8:.1f}" '
            f'height="{max(bar, 0.5):.1f}" fill="#2f855a" data-band="{escape(band.label)}" '
            f'data-leads="{band.leads}" data-conversions="{band.conversions}">'
            f"<title>score {escape(band.label)} on {calibration.evaluation_date}: "
            f"{band.conversions:,} of {band.leads:,} leads won a deal</title></rect>"
            f'<text class="rate" data-band="{escape(band.label)}" x="{middle:.1f}" '
            f'y="{bottom - bar - 4:.1f}" text-anchor="middle">{band.rate:.1%}</text>'
            f'<text x="{middle:.1f}" y="{bottom + 16}" text-anchor="middle">{band.floor}</text>'
        )
    line_y = bottom - overall / peak * height
    parts.append(
        f'<line x1="{left}" y1="{line_y:.1f}" x2="{WIDTH - 10}" y2="{line_y:.1f}" '
        'stroke="#627d98" stroke-dasharray="4 3"/>'
        f'<text x="{left - 6}" y="{line_y + 4:.1f}" text-anchor="end">{overall:.1%}</text>'
    )
    auc = "n/a" if calibration.roc_auc is None else f"{calibration.roc_auc:.2f}"
    evaluation = calibration.evaluation_date
    caption = (
        f"Scores of {evaluation} against outcomes: the share of each score band's leads that "
        f"won a deal in the {calibration.window_days} days after {evaluation} (to "
        f"{calibration.window_end_date}); leads already customers on {evaluation} are left out. "
        f"Dashed: all {calibration.leads:,} leads, {calibration.conversions:,} conversions "
        f"({overall:.1%}). ROC AUC {auc}."
    )
    try:
        window_end = date.fromisoformat(evaluation) + timedelta(days=calibration.window_days)
        if date.fromisoformat(calibration.window_end_date) < window_end:
            caption += (
                f" The window is not over: outcomes are known to {calibration.window_end_date}."
            )
    except ValueError:
        pass
    table = _table(
        "Band numbers",
        ["Score band", "Leads", "Won", "Rate", "Lift"],
        [
            [
                band.label,
                f"{band.leads:,}",
                f"{band.conversions:,}",
                f"{band.rate:.1%}",
                "" if band.lift is None else f"{band.lift:.2f}",
            ]
            for band in rows
        ],
    )
    return _figure(
        "conversion-by-band",
        title,
        _svg(280, "".join(parts), f"Conversion rate per lead-score band on {evaluation}"),
        caption,
        table,
    )


def segment_heatmap(data: ReportData) -> str:
    """The segment matrix as a heat map: company tier x engagement level."""
    tiers = ["Enterprise", "Mid-Market", "SMB"]
    levels = ["High", "Medium", "Low"]
    for tier, level, _ in data.heatmap:
        if tier not in tiers:
            tiers.append(tier)
        if level not in levels:
            levels.append(level)
    cells = {(tier, level): leads for tier, level, leads in data.heatmap}
    peak = max(cells.values(), default=0) or 1
    left, top, cell_w, cell_h = 130, 30, 150, 60
    parts = []
    for col, level in enumerate(levels):
        x = left + col * cell_w + cell_w / 2
        parts.append(
            f'<text x="{x:.0f}" y="{top - 10}" text-anchor="middle">{escape(level)}</text>'
        )
    for row, tier in enumerate(tiers):
        y = top + row * cell_h
        parts.append(f'<text x="{left - 10}" y="{y + 35}" text-anchor="end">{escape(tier)}</text>')
        for col, level in enumerate(levels):
            leads = cells.get((tier, level), 0)
            shade = 0.08 + 0.85 * leads / peak
            x = left + col * cell_w
            parts.append(
                f'<rect class="mark" x="{x}" y="{y}" width="{cell_w - 4}" height="{cell_h - 4}" '
                f'fill="rgba(59,130,246,{shade:.2f})"><title>{escape(tier)} x {escape(level)}: '
                f"{leads:,} leads</title></rect>"
                f'<text x="{x + cell_w / 2 - 2:.0f}" y="{y + 34}" text-anchor="middle">'
                f"{leads:,}</text>"
            )
    return _figure(
        "segment-heatmap",
        "Segment matrix: company tier x engagement",
        _svg(
            top + len(tiers) * cell_h + 10,
            "".join(parts),
            "Heat map of leads by tier and engagement",
        ),
        "Leads by company tier (rows) and engagement level (columns).",
    )


CHARTS = (
    score_distribution,
    weekly_stage_changes,
    conversion_by_band,
    segment_sizes,
    segment_heatmap,
)


def render_report(data: ReportData) -> str:
    stages = dict(data.stage_counts)
    top_stage = data.stage_order[-1] if data.stage_order else ""
    tiles = [
        ("Leads", f"{data.total_leads:,}"),
        (f"{top_stage} leads", f"{stages.get(top_stage, 0):,}"),
        (
            "Customers (won deal)",
            f"{data.customers / data.total_leads:.1%}" if data.total_leads else "n/a",
        ),
        ("Scored as of", escape(data.as_of_date)),
    ]
    tile_html = "".join(
        f'<div class="tile"><div class="value">{value}</div><div>{escape(label)}</div></div>'
        for label, value in tiles
    )
    charts = "".join(chart(data) for chart in CHARTS)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lead scoring and segments, {escape(data.as_of_date)}</title>
<style>
*, *::before, *::after {{ box-sizing: border-box; }}
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f4f6f8; color: #1f2933;
        overflow-wrap: break-word; }}
header {{ background: #102a43; color: white; padding: 20px 32px; }}
header h1 {{ margin: 0; font-size: 22px; }}
main {{ padding: 24px 32px; display: grid; gap: 20px;
        grid-template-columns: repeat(auto-fit, minmax(min(100%, 560px), 1fr)); }}
main > * {{ min-width: 0; }}
.tiles {{ display: flex; gap: 16px; padding: 20px 32px 0; flex-wrap: wrap; }}
.tile {{ background: white; border-radius: 8px; padding: 14px 20px; min-width: 160px;
         flex: 0 1 auto; box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
.tile .value {{ font-size: 26px; font-weight: 600; }}
.card {{ background: white; border-radius: 8px; margin: 0; padding: 16px 20px;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
.card h2 {{ font-size: 16px; margin: 0 0 8px; }}
svg {{ display: block; width: 100%; max-width: 100%; height: auto; }}
svg text {{ font-size: 12px; fill: #334e68; }}
figcaption {{ font-size: 12px; color: #627d98; margin-top: 6px; }}
details {{ margin-top: 8px; font-size: 13px; }}
summary {{ cursor: pointer; color: #334e68; }}
.table-wrap {{ max-width: 100%; overflow-x: auto; }}
table {{ border-collapse: collapse; margin-top: 6px; }}
th, td {{ padding: 3px 10px; text-align: right; border-bottom: 1px solid #e4e7eb;
          white-space: nowrap; }}
th:first-child, td:first-child {{ text-align: left; }}
.notice {{ background: #fffbea; border: 1px solid #f0b429; border-radius: 6px;
           padding: 4px 14px; font-size: 14px; }}
pre {{ background: #f0f4f8; padding: 8px 10px; border-radius: 4px; font-size: 12px;
       white-space: pre-wrap; overflow-wrap: anywhere; }}
@media (max-width: 600px) {{
  header {{ padding: 14px 16px; }}
  .tiles {{ padding: 14px 12px 0; gap: 10px; }}
  .tile {{ min-width: 0; flex: 1 1 140px; padding: 10px 14px; }}
  .tile .value {{ font-size: 22px; }}
  main {{ padding: 14px 12px; gap: 14px; }}
  .card {{ padding: 12px; }}
}}
</style></head>
<body>
<header><h1>Lead scoring and segments</h1>
<div>Scores and segments as of {escape(data.as_of_date)}</div></header>
<section class="tiles">{tile_html}</section>
<main>{charts}</main>
</body></html>
"""
