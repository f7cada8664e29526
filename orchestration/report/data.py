"""What the HTML report shows, read from the marts (read-only) into a ``ReportData``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta

from orchestration.lib.dbt_manifest import relation_name
from orchestration.lib.warehouse import WarehouseConnection
from orchestration.report.html import Calibration, CalibrationBand, ReportData, StageWeek

WEEKS = 12  # of new MQLs and SQLs


def _day(value: object) -> date:
    """A DATE column's value as a date, whichever engine returned it."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def load_calibration(conn: WarehouseConnection) -> Calibration | None:
    """The latest evaluation of the calibration marts, or None while they are empty (no score
    snapshot on an evaluation date yet)."""
    metrics = conn.fetch_dicts(
        "select evaluation_date, window_end_date, window_days, leads, conversions, roc_auc "
        f"from {relation_name('fct_calibration_metrics')} order by evaluation_date desc"
    )
    if not metrics:
        return None
    latest = metrics[0]
    evaluation = _day(latest["evaluation_date"])
    bands = [
        CalibrationBand(
            label=str(row["score_band"]),
            floor=int(row["band_floor"]),
            leads=int(row["leads"]),
            conversions=int(row["conversions"]),
            lift=None if row["lift"] is None else float(row["lift"]),
        )
        for row in conn.fetch_dicts(
            "select score_band, band_floor, leads, conversions, lift, evaluation_date "
            f"from {relation_name('fct_calibration_by_band')} order by band_floor"
        )
        if _day(row["evaluation_date"]) == evaluation
    ]
    if not bands:
        return None
    return Calibration(
        evaluation_date=evaluation.isoformat(),
        window_end_date=_day(latest["window_end_date"]).isoformat(),
        window_days=int(latest["window_days"]),
        leads=int(latest["leads"]),
        conversions=int(latest["conversions"]),
        roc_auc=None if latest["roc_auc"] is None else float(latest["roc_auc"]),
        bands=bands,
    )


def week_starts(as_of: date, weeks: int = WEEKS) -> list[date]:
    """The Mondays of the `weeks` weeks up to the as-of date's week, oldest first."""
    current = as_of - timedelta(days=as_of.weekday())
    return [current - timedelta(weeks=back) for back in range(weeks - 1, -1, -1)]


def weekly_stage_counts(
    as_of: date,
    changes: Iterable[tuple[str, str, date]],
    snapshot_dates: Iterable[date],
    mql: str,
    sql: str,
    weeks: int = WEEKS,
) -> list[StageWeek]:
    """Distinct leads per week that became `mql` / `sql` (changes: contact, stage reached,
    date), over the `weeks` weeks to the as-of date; a week without a score snapshot is
    marked unobserved, a week with snapshots and no change counts zero."""
    starts = week_starts(as_of, weeks)
    first = starts[0]

    def monday(day: date) -> date:
        return day - timedelta(days=day.weekday())

    leads: dict[tuple[date, str], set[str]] = {}
    for contact, stage, day in changes:
        if first <= day <= as_of:
            leads.setdefault((monday(day), stage), set()).add(contact)
    observed = {monday(day) for day in snapshot_dates if first <= day <= as_of}
    return [
        StageWeek(
            week_start=start.isoformat(),
            new_mql=len(leads.get((start, mql), ())),
            new_sql=len(leads.get((start, sql), ())),
            observed=start in observed,
        )
        for start in starts
    ]


def load_weekly_stages(
    conn: WarehouseConnection, as_of: date, mql: str, sql: str
) -> tuple[list[StageWeek], date | None]:
    """New MQLs and SQLs per week from fct_lead_stage_transitions: rises into the stage
    (direction 'up') and new leads scored straight into it ('entered'), except the entries
    of the history's first snapshot, which are leads that were there before it began."""
    history = relation_name("fct_lead_score_history")
    p = conn.placeholder
    [(history_start,)] = conn.fetchall(f"select min(as_of_date) from {history}")
    if history_start is None:
        return weekly_stage_counts(as_of, [], [], mql, sql), None
    history_start = _day(history_start)
    first = week_starts(as_of)[0]
    snapshots = conn.fetchall(
        f"select distinct as_of_date from {history} where as_of_date between {p} and {p}",
        [first, as_of],
    )
    changes = conn.fetchall(
        "select contact_id, to_stage, transitioned_on "
        f"from {relation_name('fct_lead_stage_transitions')} "
        f"where to_stage in ({p}, {p}) and transitioned_on between {p} and {p} "
        f"and (direction = 'up' or (direction = 'entered' and transitioned_on > {p}))",
        [mql, sql, first, as_of, history_start],
    )
    weeks = weekly_stage_counts(
        as_of,
        [(str(contact), str(stage), _day(day)) for contact, stage, day in changes],
        [_day(day) for (day,) in snapshots],
        mql,
        sql,
    )
    return weeks, history_start


def load_report_data(conn: WarehouseConnection) -> ReportData:
    leads = relation_name("dim_leads")
    band = "least(cast(floor(lead_score / 10) as integer), 9) * 10"
    stage_counts = conn.fetchall(f"select lead_stage, count(*) from {leads} group by 1")
    [(as_of, customers)] = conn.fetchall(
        f"select max(as_of_date), sum(case when is_customer then 1 else 0 end) from {leads}"
    )
    stage_bands = conn.fetchall(
        f"select label, band_rank, upper_bound from {relation_name('stg_scoring__score_bands')} "
        "where band_type = 'stage' order by band_rank"
    )
    stage_order = [label for label, _, _ in stage_bands]
    # as fct_calibration_metrics names them: MQL the second stage band, SQL the top one
    mql = next((label for label, rank, _ in stage_bands if rank == 2), "MQL")
    sql = next((label for label, _, upper in stage_bands if upper is None), "SQL")
    as_of_day = _day(as_of)
    weekly, history_start = load_weekly_stages(conn, as_of_day, mql, sql)
    return ReportData(
        as_of_date=as_of_day.isoformat(),
        total_leads=sum(n for _, n in stage_counts),
        stage_order=stage_order,
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
                f"from {relation_name('fct_segment_summary')} order by segment_priority"
            )
        ],
        heatmap=[
            (tier, level, int(n))
            for tier, level, n in conn.fetchall(
                "select company_tier, engagement_level, count(*) "
                f"from {relation_name('dim_lead_segments')} group by 1, 2"
            )
        ],
        stage_counts=[(stage, int(n)) for stage, n in stage_counts],
        customers=int(customers or 0),
        calibration=load_calibration(conn),
        weekly_stages=weekly,
        mql_label=mql,
        sql_label=sql,
        history_start=None if history_start is None else history_start.isoformat(),
    )
