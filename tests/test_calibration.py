"""Calibration marts on generated data, point-in-time: scores from the snapshot of an
evaluation date E, outcomes from the won deals of the 90 days after it.

One copy of the dbt project is built twice against a DuckDB file loaded from 4,000 generated
contacts (enough conversions in one 90-day window for bands to be more than noise): as of E
(which writes E's score snapshot) and as of today (which evaluates it).
Every figure the marts show is recomputed here in Python from the score history and the
staged deals, with the thresholds and targets read from the seed CSVs."""

from __future__ import annotations

import csv
from datetime import datetime, timedelta

import pytest

from orchestration.demo.generator import TRUTH_FILE, generate_demo_data
from orchestration.ingest.loader import ingest_landing
from orchestration.lib.project_copy import copy_project
from orchestration.lib.seeds import seed_path
from orchestration.lib.warehouse import connect
from tests.conftest import TODAY, ProjectCopy, settings_for

CONTACTS, EVENTS, SEED = 4_000, 120_000, 11
WINDOW_DAYS = 90  # the default of the dbt var calibration_window_days
EVALUATION_DATE = TODAY - timedelta(days=WINDOW_DAYS)
MARTS = (
    "fct_calibration_by_band",
    "fct_calibration_by_dimension",
    "fct_calibration_metrics",
    "fct_threshold_suggestions",
)


def _rows(project: ProjectCopy, sql: str) -> list[dict]:
    import duckdb

    with duckdb.connect(str(project.duckdb_path), read_only=True) as conn:
        result = conn.execute(sql)
        names = [column[0] for column in result.description]
        return [dict(zip(names, row, strict=True)) for row in result.fetchall()]


@pytest.fixture(scope="module")
def calibrated(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("calibration")
    copy_project(root)
    generate_demo_data(
        root / "landing",
        contacts=CONTACTS,
        events=EVENTS,
        seed=SEED,
        as_of=TODAY,
        progress=False,
        truth_dir=root / "truth",
    )
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(root))
    with connect(settings) as conn:
        ingest_landing(conn, root / "landing", "raw", log=lambda message: None)
    project = ProjectCopy(root, root / "warehouse.duckdb")
    project.build(as_of=EVALUATION_DATE)
    project.build(as_of=TODAY)
    marts = {name: _rows(project, f"select * from marts.{name}") for name in MARTS}
    return project, marts


@pytest.fixture(scope="module")
def expected(calibrated):
    """The evaluation recomputed from the score history and the staged deals."""
    project, _ = calibrated
    snapshot = {
        contact: float(score)
        for contact, score in project.query(
            "select contact_id, lead_score from marts.fct_lead_score_history "
            f"where as_of_date = date '{EVALUATION_DATE}'"
        )
    }
    assert len(snapshot) > 500
    start = datetime.combine(EVALUATION_DATE + timedelta(days=1), datetime.min.time())
    end = start + timedelta(days=WINDOW_DAYS)
    customers, converted = set(), set()
    for contact, closed_at in project.query(
        "select contact_id, closed_at from staging.stg_crm__deals "
        "where is_won and contact_id is not null and closed_at is not null"
    ):
        if closed_at < start:
            customers.add(contact)
        elif closed_at < end:
            converted.add(contact)
    scores = {c: s for c, s in snapshot.items() if c not in customers}
    outcome = {c: c in converted for c in scores}
    assert 20 <= sum(outcome.values()) < len(outcome)
    return scores, outcome


def _seed(name: str) -> list[dict]:
    with seed_path(name).open(newline="") as handle:
        return list(csv.DictReader(handle))


def _stage_thresholds() -> tuple[float, float]:
    stages = sorted(
        float(row["min_score"])
        for row in _seed("scoring_thresholds")
        if row["band_type"] == "stage" and row["min_score"]
    )
    return stages[0], stages[-1]


def test_the_default_evaluation_date_is_the_latest_snapshot_with_a_full_window(calibrated):
    _, marts = calibrated
    [metrics] = marts["fct_calibration_metrics"]
    assert metrics["evaluation_date"] == EVALUATION_DATE
    assert metrics["window_end_date"] == TODAY
    assert {row["evaluation_date"] for row in marts["fct_calibration_by_band"]} == {EVALUATION_DATE}


def test_conversion_rises_with_score_band(calibrated, expected):
    _, marts = calibrated
    scores, outcome = expected
    bands = sorted(marts["fct_calibration_by_band"], key=lambda row: row["band_floor"])
    # every band's counts, recomputed (scores of 100 belong to the 90-100 band)
    recomputed: dict[int, list[int]] = {}
    for contact, score in scores.items():
        floor = min(int(score // 10), 9) * 10
        counts = recomputed.setdefault(floor, [0, 0])
        counts[0] += 1
        counts[1] += outcome[contact]
    assert {row["band_floor"]: [row["leads"], row["conversions"]] for row in bands} == recomputed
    total = sum(row["conversions"] for row in bands)
    assert sum(row["share_of_conversions"] for row in bands) == pytest.approx(1.0)
    assert bands[0]["cumulative_share_of_conversions"] == pytest.approx(1.0)
    assert bands[-1]["conversions_at_or_above"] == bands[-1]["conversions"]
    assert bands[-1]["lift"] == pytest.approx(
        (bands[-1]["conversions"] / bands[-1]["leads"]) / (total / len(scores))
    )

    # the acceptance line: conversion rises with the band
    def rate(rows):
        return sum(r["conversions"] for r in rows) / sum(r["leads"] for r in rows)

    top = [row for row in bands if row["band_floor"] >= 60]
    bottom = [row for row in bands if row["band_floor"] < 30]
    assert rate(top) > 3 * rate(bottom)
    assert (
        _spearman([row["band_floor"] for row in bands], [row["conversion_rate"] for row in bands])
        >= 0.6
    )


def test_score_bands_follow_the_generators_hidden_propensity(calibrated):
    """The generator's ground truth (never loaded) against the bands."""
    project, marts = calibrated
    with (project.root / "truth" / TRUTH_FILE).open(newline="") as handle:
        propensity = {row["contact_id"]: float(row["propensity"]) for row in csv.DictReader(handle)}
    by_band: dict[int, list[float]] = {}
    for contact, floor in project.query(
        "select contact_id, band_floor from intermediate.int_calibration__scored_outcomes"
    ):
        if contact in propensity:
            by_band.setdefault(floor, []).append(propensity[contact])
    mean = {floor: sum(values) / len(values) for floor, values in by_band.items()}
    top = [m for floor, m in mean.items() if floor >= 60]
    bottom = [m for floor, m in mean.items() if floor < 30]
    assert min(top) > max(bottom)
    rates = {row["band_floor"]: row["conversion_rate"] for row in marts["fct_calibration_by_band"]}
    assert set(rates) == set(mean)


def _spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(values):
        order = sorted(range(len(values)), key=lambda i: values[i])
        result = [0.0] * len(values)
        i = 0
        while i < len(order):
            j = i
            while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
                j += 1
            for k in range(i, j + 1):
                result[order[k]] = (i + j) / 2 + 1
            i = j + 1
        return result

    rx, ry = ranks(xs), ranks(ys)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    var = (sum((a - mx) ** 2 for a in rx) * sum((b - my) ** 2 for b in ry)) ** 0.5
    return cov / var


def test_auc_precision_and_recall_match_an_independent_computation(calibrated, expected):
    _, marts = calibrated
    scores, outcome = expected
    [metrics] = marts["fct_calibration_metrics"]
    positives = [scores[c] for c in scores if outcome[c]]
    negatives = [scores[c] for c in scores if not outcome[c]]
    # AUC as the share of (converter, non-converter) pairs ranked right, ties counting half
    pairs = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    auc = pairs / (len(positives) * len(negatives))
    assert metrics["roc_auc"] == pytest.approx(auc, abs=1e-9)
    assert 0.6 < auc < 1
    assert (metrics["leads"], metrics["conversions"]) == (len(scores), len(positives))

    mql, sql = _stage_thresholds()
    for prefix, threshold in (("mql", mql), ("sql", sql)):
        selected = [c for c in scores if scores[c] >= threshold]
        hits = sum(outcome[c] for c in selected)
        assert metrics[f"{prefix}_threshold"] == threshold
        assert (metrics[f"{prefix}_leads"], metrics[f"{prefix}_conversions"]) == (
            len(selected),
            hits,
        )
        assert metrics[f"{prefix}_precision"] == pytest.approx(hits / len(selected), abs=1e-9)
        assert metrics[f"{prefix}_recall"] == pytest.approx(hits / len(positives), abs=1e-9)


def test_conversion_by_stage_grade_and_segment_adds_up(calibrated, expected):
    _, marts = calibrated
    scores, outcome = expected
    rows = marts["fct_calibration_by_dimension"]
    for dimension in ("lead_stage", "fit_grade", "segment"):
        mine = [row for row in rows if row["dimension"] == dimension]
        assert sum(row["leads"] for row in mine) == len(scores), dimension
        assert sum(row["conversions"] for row in mine) == sum(outcome.values()), dimension
    mql, sql = _stage_thresholds()
    stage = {row["dimension_value"]: row for row in rows if row["dimension"] == "lead_stage"}
    assert stage["SQL"]["leads"] == sum(1 for s in scores.values() if s >= sql)
    assert stage["MQL"]["leads"] == sum(1 for s in scores.values() if mql <= s < sql)
    assert stage["SQL"]["conversion_rate"] > stage["Cold"]["conversion_rate"]


def test_threshold_suggestions_meet_the_seed_targets(calibrated, expected):
    _, marts = calibrated
    scores, outcome = expected
    rows = {(r["stage"], r["target_type"]): r for r in marts["fct_threshold_suggestions"]}
    mql, sql = _stage_thresholds()
    current = {"MQL": mql, "SQL": sql}

    def at_or_above(cutoff: float) -> tuple[int, int]:
        selected = [c for c in scores if scores[c] >= cutoff]
        return len(selected), sum(outcome[c] for c in selected)

    cutoffs = range(0, 101)
    for target in _seed("calibration_targets"):
        stage = target["stage"]
        rate_target = float(target["target_conversion_rate"])
        capacity = float(target["weekly_capacity"]) * WINDOW_DAYS / 7
        meets_rate = [
            c
            for c in cutoffs
            if at_or_above(c)[0] and at_or_above(c)[1] / at_or_above(c)[0] >= rate_target
        ]
        fits_capacity = [c for c in cutoffs if 0 < at_or_above(c)[0] <= capacity]
        for target_type, candidates in (
            ("target_conversion_rate", meets_rate),
            ("weekly_capacity", fits_capacity),
        ):
            row = rows[(stage, target_type)]
            assert row["current_threshold"] == current[stage]
            assert (row["current_leads"], row["current_conversions"]) == at_or_above(current[stage])
            # the lowest whole-point cut-off reached by a score that meets the target
            reached = [c for c in candidates if any(int(s // 1) == c for s in scores.values())]
            expected_cutoff = min(reached) if reached else None
            assert row["suggested_threshold"] == expected_cutoff, (stage, target_type)
            if expected_cutoff is not None:
                leads, hits = at_or_above(expected_cutoff)
                assert (row["suggested_leads"], row["suggested_conversions"]) == (leads, hits)


def test_the_marts_are_empty_without_a_snapshot_on_the_evaluation_date(calibrated):
    """Runs last in this module: it rebuilds the calibration models for a date never scored."""
    project, marts = calibrated
    assert all(marts[name] for name in MARTS)
    completed = project.dbt(
        "build",
        "--select",
        "path:models/intermediate/calibration",
        "path:models/marts/calibration",
        "--vars",
        '{calibration_date: "2001-01-01"}',
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    for name in MARTS:
        assert project.query(f"select count(*) from marts.{name}") == [(0,)], name
