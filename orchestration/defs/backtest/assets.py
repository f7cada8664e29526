"""The backtest as a Dagster asset with run config. It writes only to a scratch warehouse and
to <data dir>/backtests, so it is left out of the refresh jobs and runs in its own job."""

from datetime import date
from pathlib import Path

import dagster as dg

from orchestration.backtest.engine import run_backtest, write_report
from orchestration.defs.resources import WarehouseResource
from orchestration.learning.runner import suggest_rules
from orchestration.lib.asset_keys import DEFAULT_OWNERS, WAREHOUSE_POOL, layer_key

BACKTEST_GROUP = "backtest"
BACKTEST_JOB_NAME = "backtest_rules"
SUGGEST_JOB_NAME = "suggest_rules"


class BacktestConfig(dg.Config):
    """`rules_dir`: a folder of seed CSVs (e.g. scoring_behavior_rules.csv) laid over the
    shipped seeds; `as_of_date`: the past date to score (YYYY-MM-DD); `baseline_dir`: the
    rules to compare with (default: the shipped seeds); `window_days`: days after the date a
    won deal counts as a conversion (default: the dbt var calibration_window_days)."""

    rules_dir: str
    as_of_date: str
    baseline_dir: str | None = None
    window_days: int | None = None

    def as_of(self) -> date:
        try:
            return date.fromisoformat(self.as_of_date)
        except ValueError:
            raise ValueError(
                f"as_of_date must be a date as YYYY-MM-DD, got {self.as_of_date!r}"
            ) from None


@dg.asset(
    key=layer_key(BACKTEST_GROUP, "rules_backtest"),
    group_name=BACKTEST_GROUP,
    pool=WAREHOUSE_POOL,
    owners=DEFAULT_OWNERS,
    kinds={"dbt", "json"},
    description="Scores a past as-of date with alternative rules and with the current ones in "
    "a scratch warehouse and compares them: leads per stage, conversions captured, ROC AUC, "
    "precision and recall at the MQL and SQL thresholds, and the leads that would change "
    "stage. Production marts and sync destinations are not touched.",
)
def rules_backtest(
    context: dg.AssetExecutionContext, config: BacktestConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    settings = warehouse.settings
    report = run_backtest(
        settings,
        rules_dir=Path(config.rules_dir),
        as_of=config.as_of(),
        baseline_dir=Path(config.baseline_dir) if config.baseline_dir else None,
        window_days=config.window_days,
        log=context.log.info,
    )
    out_dir = write_report(report, settings.data_dir)
    context.log.info(report.summary())

    def number(value: object) -> dg.MetadataValue:
        return (
            dg.MetadataValue.float(float(value)) if value is not None else dg.MetadataValue.null()
        )

    return dg.MaterializeResult(
        metadata={
            "as_of_date": config.as_of_date,
            "has_differences": dg.MetadataValue.bool(report.has_differences),
            "stage_changes": dg.MetadataValue.int(len(report.stage_changes)),
            "score_changes": dg.MetadataValue.int(report.score_changes),
            "differing_metrics": ", ".join(report.differing_metrics) or "none",
            **{
                f"{side}_{name}": number(value)
                for side, result in (("baseline", report.baseline), ("candidate", report.candidate))
                for name, value in result.metrics.items()
                if name in ("roc_auc", "mql_precision", "mql_recall", "sql_precision", "sql_recall")
            },
            "comparison": dg.MetadataValue.md(_markdown(report.rows())),
            "report": dg.MetadataValue.path(str(out_dir / "report.json")),
        }
    )


def _markdown(rows) -> str:
    lines = ["| measure | baseline | candidate |", "|---|---|---|"]
    lines += [f"| {name} | {base} | {cand} |" for name, base, cand in rows]
    return "\n".join(lines)


class SuggestConfig(dg.Config):
    """`as_of_date`: the evaluation date the leads are learned from (YYYY-MM-DD; default
    today minus the window); `window_days`: days after it a won deal counts as a conversion
    (default 90); `backtest`: also score the date with the suggestion and the current rules."""

    as_of_date: str | None = None
    window_days: int | None = None
    backtest: bool = True

    def as_of(self) -> date | None:
        if not self.as_of_date:
            return None
        return BacktestConfig(rules_dir="", as_of_date=self.as_of_date).as_of()


@dg.asset(
    key=layer_key(BACKTEST_GROUP, "suggested_rules"),
    group_name=BACKTEST_GROUP,
    pool=WAREHOUSE_POOL,
    owners=DEFAULT_OWNERS,
    kinds={"scikitlearn", "csv"},
    description="Learns rule points from outcomes: the conditions seed rules can state, "
    "fitted on the leads open on an evaluation date against the deals they won after it "
    "(a held-out share judges it), written as a folder of seed CSVs under <data dir>/"
    "suggested_rules with where each point came from, then backtested against the current "
    "rules. Nothing reaches the seeds until an analyst copies the CSVs.",
)
def suggested_rules(
    context: dg.AssetExecutionContext, config: SuggestConfig, warehouse: WarehouseResource
):
    run = suggest_rules(
        warehouse.settings,
        as_of=config.as_of(),
        window_days=config.window_days,
        backtest=config.backtest,
        log=context.log.info,
    )
    context.log.info(run.summary())
    metrics = run.suggestion.metrics
    return dg.MaterializeResult(
        metadata={
            "rules_dir": dg.MetadataValue.path(str(run.out_dir)),
            "evaluation_date": str(run.suggestion.evaluation_date),
            "rules": dg.MetadataValue.int(len(run.suggestion.rules)),
            "base_points": dg.MetadataValue.int(run.suggestion.base_points),
            **{
                name: dg.MetadataValue.float(float(metrics[name]))
                if metrics.get(name) is not None
                else dg.MetadataValue.null()
                for name in (
                    "holdout_auc_suggested",
                    "holdout_auc_current",
                    "holdout_auc_logistic_regression",
                )
            },
        }
    )


backtest_job = dg.define_asset_job(
    BACKTEST_JOB_NAME,
    selection=dg.AssetSelection.assets(rules_backtest),
    description="Backtest alternative scoring rules on a past date (run config "
    "`ops.rules_backtest.config`: rules_dir, as_of_date, optional baseline_dir, window_days).",
)

suggest_job = dg.define_asset_job(
    SUGGEST_JOB_NAME,
    selection=dg.AssetSelection.assets(suggested_rules),
    description="Learn rule points from outcomes and backtest them (run config "
    "`ops.backtest__suggested_rules.config`: optional as_of_date, window_days, backtest).",
)
