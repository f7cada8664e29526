"""Run `suggest-rules` against the warehouse: read the dataset and the settings, learn, write
the rules folder, backtest it against the current rules, and say how both did."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from orchestration.learning.dataset import LeadDataset, build_dataset
from orchestration.learning.indicators import Indicator
from orchestration.learning.suggest import (
    SETTINGS_SEED,
    LearningSettings,
    RuleLearningError,
    Suggestion,
    learn,
    roc_auc,
    write_rules_folder,
)
from orchestration.lib.dbt_manifest import manifest, relation_name
from orchestration.lib.seeds import SEEDS_DIR, seed_path
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import connect, quote_ident

DEFAULT_WINDOW_DAYS = 90  # the dbt var calibration_window_days' default


@dataclass
class SuggestionRun:
    suggestion: Suggestion
    out_dir: Path
    dataset: LeadDataset
    indicators: list[Indicator]
    backtest: object | None  # orchestration.backtest.engine.BacktestReport

    def holdout_auc(self, scores: dict[str, tuple[str, float]]) -> float | None:
        """ROC AUC of `scores` (contact -> (stage, score)) on the held-out leads."""
        frame = self.dataset.frame[self.dataset.frame["holdout"]]
        frame = frame[frame["contact_id"].isin(scores)]
        values = np.array([scores[contact][1] for contact in frame["contact_id"]])
        return roc_auc(frame["converted"].to_numpy(int), values)

    def conversion_by_stage(self, scores: dict[str, tuple[str, float]]) -> dict[str, tuple]:
        """stage -> (leads, conversions) among the dataset's leads."""
        out: dict[str, tuple[int, int]] = {}
        for contact, converted in self.dataset.frame[["contact_id", "converted"]].itertuples(
            index=False
        ):
            if contact in scores:
                leads, wins = out.get(scores[contact][0], (0, 0))
                out[scores[contact][0]] = (leads + 1, wins + int(converted))
        return out

    def write_scores(self) -> Path:
        """backtest/scores.parquet: per lead of the dataset, whether it was held out and
        converted, and the stage and score each rule set gives it on the evaluation date
        (ids and numbers only)."""
        frame = self.dataset.frame[["contact_id", "holdout", "converted"]].copy()
        for name, result in (
            ("current", self.backtest.baseline),
            ("suggested", self.backtest.candidate),
        ):
            frame[f"{name}_stage"] = frame["contact_id"].map(
                lambda lead, leads=result.leads: leads.get(lead, (None, None))[0]
            )
            frame[f"{name}_score"] = frame["contact_id"].map(
                lambda lead, leads=result.leads: leads.get(lead, (None, None))[1]
            )
        path = self.out_dir / "backtest" / "scores.parquet"
        path.parent.mkdir(exist_ok=True)
        frame.rename(columns={"holdout": "held_out"}).to_parquet(path, index=False)
        (self.out_dir / "backtest" / "report.json").write_text(
            json.dumps(self.backtest.to_json(), indent=2, default=str) + "\n"
        )
        return path

    def summary(self) -> str:
        s, m = self.suggestion, self.suggestion.metrics
        outcome = (
            "converted: won by then, a snapshot"
            if s.window_days == 0
            else f"converted: won within {s.window_days} days after"
        )
        lines = [
            f"Suggested rules from {m['leads']:,} leads open on {s.evaluation_date} ({outcome}); "
            f"{m['holdout_leads']:,} held out ({m['holdout_conversions']:,} conversions) by a "
            "hash of the lead's id.",
            f"  {m['candidate_conditions']} candidate conditions, {m['rules']} rules kept, "
            f"base score {s.base_points}; MQL from {s.mql_threshold}, SQL from "
            f"{s.sql_threshold}.",
        ]
        if s.excluded:
            lines.append("  Left out: " + "; ".join(s.excluded))
        rows = [("held-out ROC AUC", "")]
        if self.backtest is not None:
            rows.append(
                ("  suggested rules", _auc(self.holdout_auc(self.backtest.candidate.leads)))
            )
            rows.append(("  current rules", _auc(self.holdout_auc(self.backtest.baseline.leads))))
        else:
            rows.append(("  suggested rules (formula)", _auc(m["holdout_auc_suggested_formula"])))
        rows.append(
            ("  logistic regression, same conditions", _auc(m["holdout_auc_logistic_regression"]))
        )
        width = max(len(name) for name, _ in rows)
        lines += [f"{name.ljust(width)}  {value}".rstrip() for name, value in rows]
        if self.backtest is not None:
            if s.window_days > 0:
                lines += ["", self.backtest.summary()]
            lines += ["", "Leads per stage and their conversion (every lead of the dataset):"]
            for name, result in (
                ("current", self.backtest.baseline),
                ("suggested", self.backtest.candidate),
            ):
                parts = []
                for stage, (leads, wins) in sorted(
                    self.conversion_by_stage(result.leads).items(),
                    key=lambda item: (
                        self.backtest.stage_order.index(item[0])
                        if item[0] in self.backtest.stage_order
                        else 99
                    ),
                ):
                    parts.append(f"{stage} {wins:,}/{leads:,} ({wins / leads:.1%})")
                lines.append(f"  {name:<9}  " + ", ".join(parts))
        lines += [
            "",
            f"Written to {self.out_dir} (where each point came from: provenance/rules.csv). "
            "Nothing changed in production: review the CSVs, then copy them into "
            f"seeds/scoring/ (cp {self.out_dir}/*.csv seeds/scoring/) and run again.",
        ]
        return "\n".join(lines)


def _auc(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def raw_relation_for(settings: Settings) -> Callable[[str], str]:
    """The relation a raw contract table is read from: the landing files' raw table, or the
    adapter model when the dbt project reads a Fivetran source (var crm_source)."""
    nodes = manifest()["nodes"]

    def relation(table: str) -> str:
        for source in ("hubspot", "salesforce"):
            name = f"adapter_{source}__{table}"
            if f"model.leadscore.{name}" in nodes:
                return relation_name(name)
        return f"{quote_ident(settings.raw_schema)}.{quote_ident(table)}"

    return relation


def read_settings(path: Path | None = None) -> LearningSettings:
    """The settings CSV (default: the project's seed) as the analyst left it (read from the
    file: suggest-rules runs on demand, not after a build)."""
    path = path or seed_path(SETTINGS_SEED)
    seen: dict[str, str | None] = {}
    with path.open(newline="") as handle:
        for row in csv.DictReader(handle):
            name = (row.get("setting") or "").strip()
            if name in seen:
                raise RuleLearningError(f"row '{name}' appears twice in {path}")
            seen[name] = row.get("value")
    return LearningSettings.from_rows(seen)


def suggest_rules(
    settings: Settings,
    *,
    as_of: date | None = None,
    window_days: int | None = None,
    out_dir: Path | None = None,
    backtest: bool = True,
    baseline_dir: Path | None = None,
    learning: LearningSettings | None = None,
    log: Callable[[str], None] = print,
) -> SuggestionRun:
    """Learn rules as of `as_of` (default: today minus the window) from the outcomes of the
    `window_days` days after it, write the folder and (by default) backtest it. `learning`
    replaces the settings of seeds/scoring/rule_learning_settings.csv; `baseline_dir` the
    rules the suggestion is compared with (default: the project's seeds)."""
    window = DEFAULT_WINDOW_DAYS if window_days is None else window_days
    if window < 0:
        raise RuleLearningError(f"window days must be 0 (a snapshot) or more, got {window}")
    evaluation = as_of or datetime.now(UTC).date() - timedelta(days=window)
    learning = learning or read_settings()
    with connect(settings, read_only=True) as conn:
        log(f"reading the leads open on {evaluation} and their outcomes")
        dataset = build_dataset(
            conn,
            relation_name,
            raw_relation_for(settings),
            evaluation,
            window,
            learning.holdout_share,
        )
    if dataset.frame.empty:
        raise RuleLearningError(
            f"no lead was open on {evaluation}: choose a date after the first contacts (--as-of)"
        )
    suggestion, indicators = learn(dataset, learning, log)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    folder = write_rules_folder(
        suggestion,
        SEEDS_DIR,
        out_dir or settings.data_dir / "suggested_rules" / stamp,
    )
    log(f"rules written to {folder}")
    report = None
    if backtest:
        from orchestration.backtest.engine import run_backtest

        # A snapshot's outcomes are known on the date itself; the backtest's calibration looks
        # after it, so its own figures say little there: the held-out comparison does.
        report = run_backtest(
            settings,
            folder,
            evaluation,
            baseline_dir=baseline_dir,
            window_days=max(window, 1),
            log=log,
        )
    run = SuggestionRun(suggestion, folder, dataset, indicators, report)
    if report is not None:
        run.write_scores()
        suggestion.metrics["holdout_auc_suggested"] = run.holdout_auc(report.candidate.leads)
        suggestion.metrics["holdout_auc_current"] = run.holdout_auc(report.baseline.leads)
        saved = json.loads((folder / "suggestion.json").read_text())
        saved["metrics"] = suggestion.metrics
        (folder / "suggestion.json").write_text(json.dumps(saved, indent=2, default=str) + "\n")
    return run
