"""The lead report as one self-contained HTML page: inline SVG charts and CSS, no scripts
and nothing fetched from the network, so it opens from a file, an e-mail or a BI portal.

Every chart is a <figure data-chart="..."> whose drawn marks carry class="mark", which is
what the browser test counts."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

STAGE_COLOURS = ("#9fb3c8", "#f0b429", "#2f855a", "#6b46c1", "#c53030")
BAR = "#3b82f6"
WIDTH = 640


@dataclass(frozen=True)
class ReportData:
    as_of_date: str
    total_leads: int
    stage_order: Sequence[str]  # lowest band first
    score_bins: Sequence[tuple[int, str, int]]  # (bin start, stage, leads)
    segments: Sequence[tuple[str, int, float | None, str]]  # (segment, leads, conversion, route)
    conversion_bands: Sequence[tuple[int, int, int]]  # (band start, leads, converted)
    heatmap: Sequence[tuple[str, str, int]]  # (company tier, engagement level, leads)
    stage_counts: Sequence[tuple[str, int]]
    converted_leads: int


def _figure(chart: str, title: str, svg: str, caption: str) -> str:
    return (
        f'<figure class="card" data-chart="{chart}"><h2>{escape(title)}</h2>{svg}'
        f"<figcaption>{escape(caption)}</figcaption></figure>"
    )


def _svg(height: int, body: str, label: str) -> str:
    return (
        f'<svg role="img" aria-label="{escape(label)}" viewBox="0 0 {WIDTH} {height}" '
        f'width="100%" xmlns="http://www.w3.org/2000/svg">{body}</svg>'
    )


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
    legend = "".join(
        f'<tspan fill="{colours.get(stage, BAR)}">■</tspan> {escape(stage)}  '
        for stage in data.stage_order
    )
    parts.append(f'<text x="{left}" y="{bottom + 36}">{legend}</text>')
    return _figure(
        "score-distribution",
        "Lead score distribution by stage",
        _svg(300, "".join(parts), "Histogram of lead scores by stage"),
        "Leads per 10-point lead-score bin; colour shows the stage the score maps to.",
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


def conversion_by_band(data: ReportData) -> str:
    """Bars: conversion rate per 10-point score band (does the score rank leads?)."""
    rows = [(start, leads, won) for start, leads, won in data.conversion_bands if leads > 0]
    rates = [won / leads for _, leads, won in rows]
    peak = max(rates, default=0) or 1
    left, bottom, height = 50, 250, 220
    slot = (WIDTH - 70) / max(len(rows), 1)
    parts = [f'<line x1="{left}" y1="{bottom}" x2="{WIDTH - 10}" y2="{bottom}" stroke="#555"/>']
    for index, ((start, leads, won), rate) in enumerate(zip(rows, rates, strict=True)):
        bar = rate / peak * height
        x = left + index * slot + 4
        parts.append(
            f'<rect class="mark" x="{x:.1f}" y="{bottom - bar:.1f}" width="{slot - 8:.1f}" '
            f'height="{max(bar, 0.5):.1f}" fill="#2f855a"><title>score {start}-{start + 9}: '
            f"{won:,} of {leads:,} converted</title></rect>"
            f'<text x="{x + (slot - 8) / 2:.1f}" y="{bottom - bar - 4:.1f}" '
            f'text-anchor="middle">{rate:.0%}</text>'
            f'<text x="{x + (slot - 8) / 2:.1f}" y="{bottom + 16}" text-anchor="middle">'
            f"{start}</text>"
        )
    return _figure(
        "conversion-by-band",
        "Conversion rate by score band",
        _svg(280, "".join(parts), "Conversion rate per lead-score band"),
        "Share of leads in each 10-point score band that have a won deal.",
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


def render_report(data: ReportData) -> str:
    stages = dict(data.stage_counts)
    top_stage = data.stage_order[-1] if data.stage_order else ""
    tiles = [
        ("Leads", f"{data.total_leads:,}"),
        (f"{top_stage} leads", f"{stages.get(top_stage, 0):,}"),
        (
            "Converted (won deal)",
            f"{data.converted_leads / data.total_leads:.1%}" if data.total_leads else "n/a",
        ),
        ("Scored as of", escape(data.as_of_date)),
    ]
    tile_html = "".join(
        f'<div class="tile"><div class="value">{value}</div><div>{escape(label)}</div></div>'
        for label, value in tiles
    )
    charts = "".join(
        chart(data)
        for chart in (score_distribution, segment_sizes, conversion_by_band, segment_heatmap)
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Lead scoring and segments, {escape(data.as_of_date)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0; background: #f4f6f8; color: #1f2933; }}
header {{ background: #102a43; color: white; padding: 20px 32px; }}
header h1 {{ margin: 0; font-size: 22px; }}
main {{ padding: 24px 32px; display: grid; gap: 20px;
        grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); }}
.tiles {{ display: flex; gap: 16px; padding: 20px 32px 0; flex-wrap: wrap; }}
.tile {{ background: white; border-radius: 8px; padding: 14px 20px; min-width: 160px;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
.tile .value {{ font-size: 26px; font-weight: 600; }}
.card {{ background: white; border-radius: 8px; margin: 0; padding: 16px 20px;
         box-shadow: 0 1px 3px rgba(0,0,0,.12); }}
.card h2 {{ font-size: 16px; margin: 0 0 8px; }}
svg text {{ font-size: 12px; fill: #334e68; }}
figcaption {{ font-size: 12px; color: #627d98; margin-top: 6px; }}
</style></head>
<body>
<header><h1>Lead scoring and segments</h1>
<div>Scores and segments as of {escape(data.as_of_date)}</div></header>
<section class="tiles">{tile_html}</section>
<main>{charts}</main>
</body></html>
"""
