"""The predictive model as a Dagster asset. It reads the features dbt built (read-only while
it trains), then writes the predictions, the model card and its calibration next to the marts.
Nothing downstream depends on it, so a model that cannot train yet never holds up the
refresh: it says why and the run goes on."""

import dagster as dg

from orchestration.defs.dbt.assets import dbt_key
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.asset_keys import DEFAULT_OWNERS, WAREHOUSE_POOL, layer_key
from orchestration.lib.dbt_manifest import relation_name, relation_parts
from orchestration.predictive.model import ModelResult, run_model

PREDICTIVE_GROUP = "predictive"
FEATURE_MODELS = ("int_predictive__examples", "int_predictive__behavior_features")


def _number(value: object) -> dg.MetadataValue:
    return dg.MetadataValue.null() if value is None else dg.MetadataValue.float(float(value))


def model_metadata(result: ModelResult) -> dict[str, dg.MetadataValue]:
    m = result.metrics
    metadata: dict[str, dg.MetadataValue] = {
        "status": dg.MetadataValue.text(result.status),
        "reason": dg.MetadataValue.text(result.reason),
        "model_run_id": dg.MetadataValue.text(result.run_id),
        "model_type": dg.MetadataValue.text(result.model_type),
        "holdout_date": dg.MetadataValue.text(str(result.holdout_date or "")),
        "training_dates": dg.MetadataValue.text(", ".join(map(str, result.training_dates))),
        "mode": dg.MetadataValue.text(result.mode or ""),
        "mode_reason": dg.MetadataValue.text(result.mode_reason),
        "training_window_days": _number(result.training_window_days),
        "features": dg.MetadataValue.int(len(result.features_used)),
        **{
            name: dg.MetadataValue.int(int(m[name]))
            for name in (
                "training_examples",
                "training_conversions",
                "holdout_examples",
                "holdout_conversions",
                "compared_examples",
                "scored_leads",
            )
        },
        **{
            name: _number(m.get(name))
            for name in (
                "holdout_auc",
                "rule_score_auc",
                "holdout_auc_all",
                "brier_score",
                "log_loss",
            )
        },
    }
    if result.calibration:
        lines = ["| bin | examples | mean predicted | observed |", "|---:|---:|---:|---:|"]
        lines += [
            f"| {row['bin']} | {row['examples']:,} | {row['mean_predicted']:.3f} | "
            f"{row['observed_rate']:.3f} |"
            for row in result.calibration
        ]
        metadata["calibration"] = dg.MetadataValue.md("\n".join(lines))
    if result.features_used:
        lines = ["| feature | name | kind |", "|---|---|---|"]
        lines += [
            f"| {row['label']} | `{row['feature']}` | {row['kind']} |"
            for row in result.features_used
        ]
        metadata["features_used"] = dg.MetadataValue.md("\n".join(lines))
    if result.features_excluded:
        lines = ["| column | why it is left out |", "|---|---|"]
        lines += [f"| `{row['feature']}` | {row['reason']} |" for row in result.features_excluded]
        metadata["features_excluded"] = dg.MetadataValue.md("\n".join(lines))
    if result.weights:
        lines = ["| feature | weight |", "|---|---:|"]
        lines += [f"| {row['feature']} | {row['weight']:+.3f} |" for row in result.weights[:15]]
        metadata["top_weights"] = dg.MetadataValue.md("\n".join(lines))
    return metadata


@dg.asset(
    key=layer_key(PREDICTIVE_GROUP, "lead_conversion_model"),
    group_name=PREDICTIVE_GROUP,
    pool=WAREHOUSE_POOL,
    deps=[dbt_key(model) for model in FEATURE_MODELS],
    owners=DEFAULT_OWNERS,
    kinds={"python", "scikitlearn"},
    description="Trains a conversion model (logistic regression by default, seeds/predictive/"
    "predictive_settings.csv) on point-in-time features of past dates, judged on the "
    "calibration evaluation date against the rule score, or, when those hold too few "
    "conversions (an export whose outcomes are known only at its date), on the leads known at "
    "the as-of date with a held-out share of them. It reads the lead's own contact and company "
    "columns too, leaving out those that identify, name or date a lead or record the outcome. "
    "Writes per lead the probability of a won deal, its top contributing factors and a "
    "blended priority (marts.predictive_lead_scores), plus the model card (marts."
    "predictive_model_card: mode, features used and left out, metrics; marts."
    "predictive_model_calibration). Below the configured number of training conversions it "
    "does not train and says why.",
)
def lead_conversion_model(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    result = run_model(
        warehouse.settings,
        relation=relation_name,
        output_schema=relation_parts("dim_leads")[0],
        log=context.log.info,
    )
    if not result.trained:
        context.log.warning(f"predictive model not trained: {result.reason}")
    return dg.MaterializeResult(metadata=model_metadata(result))
