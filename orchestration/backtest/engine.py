"""Score a past as-of date with two rule sets and compare them, leaving production alone.

The dbt project, seeds and macros are copied to a temporary folder and the rules directory's
CSV files laid over the seeds. dbt then builds into a scratch warehouse: a temporary copy of
the DuckDB file (the production file is only read), or on PostgreSQL and Spark a scratch
target schema (the layers land in `<scratch>_staging`, ... and are dropped afterwards; raw is
only read).
Each rule set is scored as of the backtest date (the score history snapshot of that date in
the scratch warehouse), then the calibration models evaluate that snapshot against the won
deals of the window after it, so both rule sets are judged by the same SQL as the calibration
marts.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.project_copy import copy_project
from orchestration.lib.seed_patterns import SeedPatternError, check_seed_patterns
from orchestration.lib.seeds import SEEDS_DIR, seed_path, seed_paths
from orchestration.lib.settings import DBT_EXECUTABLE, Settings
from orchestration.lib.warehouse import WarehouseConnection, connect, quote_ident

SCORED_MODEL = "fct_lead_score_history"
CALIBRATION_MODELS = ("int_calibration__scored_outcomes", "fct_calibration_metrics")
CALIBRATION_SEEDS = ("calibration_targets",)
# Metrics compared between the rule sets, as named in fct_calibration_metrics.
METRICS = (
    "leads",
    "conversions",
    "roc_auc",
    "mql_leads",
    "mql_conversions",
    "mql_precision",
    "mql_recall",
    "sql_leads",
    "sql_conversions",
    "sql_precision",
    "sql_recall",
)
SCORE_TOLERANCE = 1e-6  # scores are rounded to 1e-6 in the warehouse


class BacktestError(RuntimeError):
    """A backtest that cannot run (bad arguments, a dbt failure); the message says why."""


@dataclass(frozen=True)
class RuleSetResult:
    """What one rule set gives on the backtest date."""

    name: str
    rules_dir: Path
    leads_per_stage: dict[str, int]
    metrics: dict[str, Any]
    # contact_id -> (stage, lead score)
    leads: dict[str, tuple[str, float]] = field(repr=False)


@dataclass(frozen=True)
class StageChange:
    contact_id: str
    baseline_stage: str | None
    candidate_stage: str | None
    baseline_score: float | None
    candidate_score: float | None


@dataclass(frozen=True)
class BacktestReport:
    as_of_date: date
    stage_order: list[str]
    baseline: RuleSetResult
    candidate: RuleSetResult
    stage_changes: list[StageChange]
    score_changes: int

    @property
    def differing_metrics(self) -> list[str]:
        def differs(a: Any, b: Any) -> bool:
            if isinstance(a, float) and isinstance(b, float):
                return abs(a - b) > 1e-12
            return a != b

        names = [
            f"leads_{stage}"
            for stage in self.stage_order
            if self.baseline.leads_per_stage.get(stage, 0)
            != self.candidate.leads_per_stage.get(stage, 0)
        ]
        names += [
            name
            for name in METRICS
            if differs(self.baseline.metrics.get(name), self.candidate.metrics.get(name))
        ]
        return names

    @property
    def has_differences(self) -> bool:
        return bool(self.stage_changes or self.score_changes or self.differing_metrics)

    def rows(self) -> list[tuple[str, Any, Any]]:
        """(measure, baseline, candidate) rows of the side-by-side comparison."""
        rows: list[tuple[str, Any, Any]] = [
            (
                f"leads {stage}",
                self.baseline.leads_per_stage.get(stage, 0),
                self.candidate.leads_per_stage.get(stage, 0),
            )
            for stage in self.stage_order
        ]
        rows += [
            (name, self.baseline.metrics.get(name), self.candidate.metrics.get(name))
            for name in METRICS
        ]
        return rows

    def summary(self) -> str:
        def text(value: Any) -> str:
            if value is None:
                return "-"
            if isinstance(value, float):
                return f"{value:.4f}"
            return f"{value:,}" if isinstance(value, int) else str(value)

        metrics = self.baseline.metrics
        lines = [
            f"Backtest as of {self.as_of_date}: outcomes are won deals closed in the "
            f"{metrics.get('window_days')} days after it (up to {metrics.get('window_end_date')}).",
            f"  baseline:  {self.baseline.rules_dir}",
            f"  candidate: {self.candidate.rules_dir}",
            "  (leads <stage>: every lead scored on the date; the metrics below count the leads "
            "that were not customers yet)",
            "",
        ]
        rows = [("measure", "baseline", "candidate", "change")]
        for name, base, cand in self.rows():
            change = ""
            if isinstance(base, int | float) and isinstance(cand, int | float):
                delta = cand - base
                change = (
                    ""
                    if delta == 0
                    else (f"{delta:+,}" if isinstance(delta, int) else f"{delta:+.4f}")
                )
            rows.append((name, text(base), text(cand), change))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            lines.append(
                "  "
                + "  ".join(
                    cell.ljust(width) if i == 0 else cell.rjust(width)
                    for i, (cell, width) in enumerate(zip(row, widths, strict=True))
                ).rstrip()
            )
        lines.append("")
        if not self.has_differences:
            lines.append("No differences: both rule sets score every lead the same.")
        else:
            moves: dict[tuple[str, str], int] = {}
            for change in self.stage_changes:
                key = (
                    change.baseline_stage or "(not scored)",
                    change.candidate_stage or "(not scored)",
                )
                moves[key] = moves.get(key, 0) + 1
            lines.append(
                f"{len(self.stage_changes):,} leads would change stage, "
                f"{self.score_changes:,} leads would change score"
                + (
                    f"; metrics that differ: {', '.join(self.differing_metrics)}"
                    if self.differing_metrics
                    else ""
                )
            )
            for (before, after), count in sorted(moves.items(), key=lambda item: -item[1]):
                lines.append(f"  {before} -> {after}: {count:,}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        def side(result: RuleSetResult) -> dict[str, Any]:
            return {
                "rules_dir": str(result.rules_dir),
                "leads_per_stage": result.leads_per_stage,
                "metrics": {k: _json_value(v) for k, v in result.metrics.items()},
            }

        return {
            "as_of_date": self.as_of_date.isoformat(),
            "baseline": side(self.baseline),
            "candidate": side(self.candidate),
            "has_differences": self.has_differences,
            "differing_metrics": self.differing_metrics,
            "stage_changes": len(self.stage_changes),
            "score_changes": self.score_changes,
        }


def _json_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def shipped_rules_dir() -> Path:
    return SEEDS_DIR


def rule_files(rules_dir: Path) -> dict[str, Path]:
    """The seed CSVs of a rules directory, by seed name; each must replace a shipped seed.
    They sit at the top of the folder (as suggest-rules writes them) or in domain folders as
    under seeds/, so a copy of seeds/ is a rules directory too."""
    if not rules_dir.is_dir():
        raise BacktestError(f"rules directory {rules_dir} does not exist")
    shipped = seed_paths()
    folders = {Path(), *(path.parent.relative_to(SEEDS_DIR) for path in shipped.values())}
    found = [path for folder in folders for path in (rules_dir / folder).glob("*.csv")]
    files = {path.stem: path for path in sorted(found)}
    unknown = sorted(set(files) - set(shipped))
    if unknown:
        raise BacktestError(
            f"{rules_dir} holds CSV files that are not seeds of the project: "
            f"{', '.join(name + '.csv' for name in unknown)} (expected names like "
            "scoring_behavior_rules.csv, scoring_fit_rules.csv, scoring_weights.csv, "
            "scoring_thresholds.csv)"
        )
    if not files:
        raise BacktestError(f"rules directory {rules_dir} holds no seed CSV files")
    return files


def _project_copy(root: Path, overlay: dict[str, Path]) -> Path:
    copy_project(root)
    for name, path in overlay.items():
        shutil.copyfile(path, seed_path(name, root / "seeds"))
    return root / "dbt_project"


@dataclass
class _Scratch:
    """Where the backtest's dbt runs write: never a production relation."""

    settings: Settings
    env: dict[str, str]


@contextmanager
def _scratch_warehouse(settings: Settings, workdir: Path) -> Iterator[_Scratch]:
    if settings.target == "duckdb":
        if not settings.duckdb_path.exists():
            raise BacktestError(
                f"no warehouse at {settings.duckdb_path}; run `leadscore run` first"
            )
        copy = workdir / "scratch.duckdb"
        shutil.copyfile(settings.duckdb_path, copy)
        wal = settings.duckdb_path.with_name(settings.duckdb_path.name + ".wal")
        if wal.exists():
            shutil.copyfile(wal, copy.with_name(copy.name + ".wal"))
        scratch_settings = Settings(**{**settings.__dict__, "duckdb_path": copy})
        yield _Scratch(scratch_settings, scratch_settings.dbt_env())
        return
    if settings.target == "spark":
        # Like PostgreSQL: scratch schemas in the same catalog (copying the metastore would not
        # do: it holds the production tables' absolute locations). Derby admits one JVM, and
        # the backtest's dbt runs and reads take turns, so this holds no session meanwhile.
        spark = settings.spark
        if not spark.metastore_dir.exists():
            raise BacktestError(f"no Spark warehouse at {spark.dir}; run `leadscore run` first")
        schema = f"leadscore_backtest_{uuid.uuid4().hex[:10]}"
        scratch_settings = replace(settings, spark=replace(spark, schema=schema))
        try:
            yield _Scratch(scratch_settings, scratch_settings.dbt_env())
        finally:
            with connect(settings) as conn:
                for (name,) in conn.fetchall("show schemas"):
                    if name == schema or name.startswith(schema + "_"):
                        conn.execute(f"drop schema {quote_ident(name)} cascade")
        return
    schema = f"leadscore_backtest_{uuid.uuid4().hex[:10]}"
    pg = settings.postgres
    scratch_settings = Settings(
        **{**settings.__dict__, "postgres": type(pg)(**{**pg.__dict__, "schema": schema})}
    )
    try:
        yield _Scratch(scratch_settings, scratch_settings.dbt_env())
    finally:
        with connect(settings) as conn:
            rows = conn.fetchall(
                "select schema_name from information_schema.schemata "
                "where schema_name = %s or schema_name like %s",
                [schema, schema + "\\_%"],
            )
            for (name,) in rows:
                conn.execute(f"drop schema {quote_ident(name)} cascade")


def _dbt(
    project_dir: Path, env: dict[str, str], args: Sequence[str], log: Callable[[str], None]
) -> None:
    command = [
        str(DBT_EXECUTABLE),
        *args,
        # a test runs only when every model it reads was rebuilt here (singular tests that
        # read production-only marts such as dim_leads would compare two different dates)
        "--indirect-selection",
        "cautious",
        "--project-dir",
        str(project_dir),
        "--profiles-dir",
        str(project_dir),
    ]
    completed = subprocess.run(
        command,
        cwd=project_dir,
        env={**os.environ, **env, "DBT_USE_COLORS": "false"},
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        # dbt's own summary names the failing model or test; rows are never printed by it.
        tail = "\n".join(completed.stdout.strip().splitlines()[-25:])
        raise BacktestError(
            f"dbt {' '.join(args[:1])} failed in the backtest's scratch warehouse:\n{tail}"
        )
    log(f"dbt {' '.join(args)}: ok")


def _relation(project_dir: Path, name: str) -> str:
    manifest = json.loads((project_dir / "target" / "manifest.json").read_text())
    node = manifest["nodes"][f"model.leadscore.{name}"]
    return f"{quote_ident(node['schema'])}.{quote_ident(node['alias'])}"


def _score_rule_set(
    name: str,
    rules_dir: Path,
    project_dir: Path,
    scratch: _Scratch,
    as_of: date,
    selection: list[str],
    window_days: int | None,
    log: Callable[[str], None],
) -> RuleSetResult:
    vars_scoring = {"as_of_date": as_of.isoformat()}
    _dbt(
        project_dir,
        scratch.env,
        ["build", "--select", *selection, "--vars", json.dumps(vars_scoring)],
        log,
    )
    # The calibration models judge the snapshot of the backtest date against the deals won
    # after it, up to the configured as-of date (today by default).
    vars_calibration: dict[str, Any] = {"calibration_date": as_of.isoformat()}
    if window_days is not None:
        vars_calibration["calibration_window_days"] = window_days
    _dbt(
        project_dir,
        scratch.env,
        [
            "build",
            "--select",
            *CALIBRATION_SEEDS,
            *CALIBRATION_MODELS,
            "--vars",
            json.dumps(vars_calibration),
        ],
        log,
    )
    with connect(scratch.settings, read_only=True) as conn:
        leads = _fetch_snapshot(conn, _relation(project_dir, SCORED_MODEL), as_of)
        metrics_rows = conn.fetch_dicts(
            f"select * from {_relation(project_dir, 'fct_calibration_metrics')}"
        )
    if not leads:
        raise BacktestError(f"no lead was scored as of {as_of}: is there data before that date?")
    per_stage: dict[str, int] = {}
    for stage, _ in leads.values():
        per_stage[stage] = per_stage.get(stage, 0) + 1
    return RuleSetResult(
        name=name,
        rules_dir=rules_dir,
        leads_per_stage=per_stage,
        metrics=metrics_rows[0] if metrics_rows else {},
        leads=leads,
    )


def _fetch_snapshot(
    conn: WarehouseConnection, relation: str, as_of: date
) -> dict[str, tuple[str, float]]:
    rows = conn.fetchall(
        f"select contact_id, lead_stage, lead_score from {relation} "
        f"where as_of_date = {conn.placeholder}",
        [as_of],
    )
    return {contact: (stage, float(score)) for contact, stage, score in rows}


def _stage_order(project_dir: Path) -> list[str]:
    with seed_path("scoring_thresholds", project_dir.parent / "seeds").open() as handle:
        rows = [row for row in csv.DictReader(handle) if row["band_type"] == "stage"]
    rows.sort(key=lambda row: float(row["min_score"]) if row["min_score"] else float("-inf"))
    return [row["label"] for row in rows]


def run_backtest(
    settings: Settings,
    rules_dir: Path,
    as_of: date,
    baseline_dir: Path | None = None,
    window_days: int | None = None,
    log: Callable[[str], None] = print,
) -> BacktestReport:
    """Score `as_of` with the baseline rules (default: the shipped seeds) and the candidate
    rules, in a scratch warehouse, and compare them."""
    if as_of > datetime.now(UTC).date():
        raise BacktestError(f"as-of date {as_of} is in the future: backtests score the past")
    if window_days is not None and window_days < 1:
        raise BacktestError(f"window days must be a positive number, got {window_days}")
    candidate_files = rule_files(rules_dir)
    baseline_files = rule_files(baseline_dir) if baseline_dir is not None else {}
    for files in (baseline_files, candidate_files):
        try:
            check_seed_patterns(settings, overlay=files)
        except SeedPatternError as error:
            raise BacktestError(str(error)) from None
    with tempfile.TemporaryDirectory(prefix="leadscore-backtest-") as tmp:
        workdir = Path(tmp)
        baseline_project = _project_copy(workdir / "baseline", baseline_files)
        candidate_project = _project_copy(workdir / "candidate", candidate_files)
        with _scratch_warehouse(settings, workdir) as scratch:
            log(f"scoring {as_of} with the baseline rules ({baseline_dir or shipped_rules_dir()})")
            baseline = _score_rule_set(
                "baseline",
                baseline_dir or shipped_rules_dir(),
                baseline_project,
                scratch,
                as_of,
                [f"+{SCORED_MODEL}"],
                window_days,
                log,
            )
            # Only what the swapped seeds feed is rebuilt; the rest of the scratch warehouse
            # (staging, activity by day) is the same for both rule sets.
            changed = sorted(set(candidate_files) | set(baseline_files))
            log(f"scoring {as_of} with the candidate rules ({rules_dir})")
            candidate = _score_rule_set(
                "candidate",
                rules_dir,
                candidate_project,
                scratch,
                as_of,
                [f"{seed}+,+{SCORED_MODEL}" for seed in changed],
                window_days,
                log,
            )
            stage_order = _stage_order(candidate_project)
    return _compare(as_of, stage_order, baseline, candidate)


def _compare(
    as_of: date, stage_order: list[str], baseline: RuleSetResult, candidate: RuleSetResult
) -> BacktestReport:
    changes = []
    score_changes = 0
    for contact in sorted(set(baseline.leads) | set(candidate.leads)):
        before = baseline.leads.get(contact)
        after = candidate.leads.get(contact)
        if before is None or after is None or abs(before[1] - after[1]) > SCORE_TOLERANCE:
            score_changes += 1
        if (before and before[0]) != (after and after[0]):
            changes.append(
                StageChange(
                    contact_id=contact,
                    baseline_stage=before[0] if before else None,
                    candidate_stage=after[0] if after else None,
                    baseline_score=before[1] if before else None,
                    candidate_score=after[1] if after else None,
                )
            )
    extra = sorted({*baseline.leads_per_stage, *candidate.leads_per_stage} - set(stage_order))
    return BacktestReport(as_of, stage_order + extra, baseline, candidate, changes, score_changes)


def write_report(report: BacktestReport, data_dir: Path) -> Path:
    """`<data dir>/backtests/<UTC timestamp>/`: report.json (the comparison) and
    stage_changes.parquet (one row per lead that would change stage: ids and scores only)."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    out_dir = data_dir / "backtests" / stamp
    out_dir.mkdir(parents=True, exist_ok=False)
    (out_dir / "report.json").write_text(json.dumps(report.to_json(), indent=2, default=str) + "\n")
    changes = report.stage_changes
    table = pa.table(
        {
            "contact_id": pa.array([c.contact_id for c in changes], pa.string()),
            "baseline_stage": pa.array([c.baseline_stage for c in changes], pa.string()),
            "candidate_stage": pa.array([c.candidate_stage for c in changes], pa.string()),
            "baseline_score": pa.array([c.baseline_score for c in changes], pa.float64()),
            "candidate_score": pa.array([c.candidate_score for c in changes], pa.float64()),
        }
    )
    pq.write_table(table, out_dir / "stage_changes.parquet")
    return out_dir
