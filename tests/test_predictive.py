"""The predictive score: point-in-time features, a time-based split, the model card and the
comparison with the rule score on the held-out date.

The acceptance test takes the 20k-contact warehouse of the shared Dagster refresh, adds the
score snapshot of the evaluation date E (as-of minus 90 days) with dbt, and materializes the
predictive asset with Dagster. Its rule-score AUC must equal the calibration mart's (computed
independently in SQL and checked by pair counting in test_calibration), its features must
match a recount from the staged events, and its own AUC on E must beat the rule score's."""

from __future__ import annotations

import shutil
from datetime import date, datetime, timedelta

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest

from orchestration.definitions import defs
from orchestration.defs.automation.jobs import REFRESH_JOB_NAME
from orchestration.defs.predictive.assets import lead_conversion_model
from orchestration.defs.resources import WarehouseResource
from orchestration.demo.generator import generate_demo_data
from orchestration.lib.asset_keys import layer_key
from orchestration.lib.project_copy import copy_project
from orchestration.lib.seeds import seed_path
from orchestration.predictive.model import (
    PredictiveConfigError,
    PredictiveSettings,
    build_dataset,
    roc_auc,
    train_and_score,
)
from tests.conftest import AS_OF, INFO_LOGS, ProjectCopy

# Slow end-to-end: the second CI tier (`pytest -m acceptance`).
pytestmark = pytest.mark.acceptance

MODEL_KEY = layer_key("predictive", "lead_conversion_model")
TODAY = date.fromisoformat(AS_OF)
WINDOW_DAYS = 90
EVALUATION_DATE = TODAY - timedelta(days=WINDOW_DAYS)


def _metadata(result: dg.ExecuteInProcessResult) -> dict:
    [event] = [e for e in result.get_asset_materialization_events() if e.asset_key == MODEL_KEY]
    return {key: value.value for key, value in event.materialization.metadata.items()}


@pytest.fixture(scope="module")
def predicted(refreshed_warehouse, tmp_path_factory: pytest.TempPathFactory):
    """A copy of the refreshed 20k warehouse with E's score snapshot added, and one Dagster
    materialization of the predictive asset on it."""
    settings = refreshed_warehouse
    root = tmp_path_factory.mktemp("predictive")
    copy_project(root)
    shutil.copy(settings.duckdb_path, root / "warehouse.duckdb")
    project = ProjectCopy(root, root / "warehouse.duckdb")
    # Staging does not depend on the as-of date: only the scoring layer is rebuilt for E.
    history = ("+fct_lead_score_history", "--exclude", "path:models/staging")
    for as_of in (EVALUATION_DATE, TODAY):
        completed = project.dbt("run", "-s", *history, as_of=as_of)
        assert completed.returncode == 0, completed.stdout[-3000:]
    completed = project.dbt(
        "build",
        "-s",
        "int_calibration__scored_outcomes+",
        "int_predictive__sample_dates+",
        "int_predictive__behavior_features",
        as_of=TODAY,
    )
    assert completed.returncode == 0, completed.stdout[-3000:]
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("LEADSCORE_TARGET", "duckdb")
        patch.setenv("LEADSCORE_DATA_DIR", str(root))
        patch.setenv("LEADSCORE_AS_OF_DATE", AS_OF)
        result = dg.materialize(
            [lead_conversion_model],
            instance=dg.DagsterInstance.ephemeral(),
            resources={"warehouse": WarehouseResource()},
            run_config=INFO_LOGS,
        )
    assert result.success
    return project, _metadata(result)


def _frame(project: ProjectCopy, sql: str) -> pd.DataFrame:
    with duckdb.connect(str(project.duckdb_path), read_only=True) as conn:
        return conn.execute(sql).df()


def test_the_model_beats_the_rule_score_on_the_held_out_date(predicted):
    project, metadata = predicted
    assert metadata["status"] == "trained"
    assert metadata["holdout_date"] == str(EVALUATION_DATE)
    card = _frame(
        project, "select * from marts.predictive_model_card order by trained_at desc limit 1"
    ).iloc[0]
    assert card.model_run_id == metadata["model_run_id"]
    # the rule score's AUC is the calibration mart's, on the same leads and outcomes
    [(mart_auc, mart_leads, mart_conversions)] = project.query(
        "select roc_auc, leads, conversions from marts.fct_calibration_metrics"
    )
    assert card.rule_score_auc == pytest.approx(mart_auc, abs=1e-9)
    assert metadata["rule_score_auc"] == pytest.approx(mart_auc, abs=1e-9)
    assert card.compared_examples == mart_leads == card.holdout_examples
    assert card.holdout_conversions == mart_conversions >= 100
    # the acceptance line
    assert card.holdout_auc > card.rule_score_auc
    assert metadata["holdout_auc"] == pytest.approx(card.holdout_auc)
    assert card.training_conversions >= 200


def test_training_dates_end_before_the_held_out_period(predicted):
    project, metadata = predicted
    dates = _frame(project, "select * from intermediate.int_predictive__sample_dates")
    holdout = dates[dates.sample_role == "holdout"].iloc[0]
    train = dates[dates.sample_role == "train"]
    assert len(train) == 6
    assert (train.outcome_end <= holdout.feature_end).all()
    assert sorted(str(d.date()) for d in train.feature_date) == metadata["training_dates"].split(
        ", "
    )
    steps = np.diff(sorted(train.feature_date)).astype("timedelta64[D]").astype(int)
    assert set(steps) == {30}


def test_examples_and_features_are_point_in_time(predicted):
    """Outcomes from the staged deals and behaviour counts from the staged events, recounted
    here for one training date."""
    project, _ = predicted
    day = _frame(
        project,
        "select min(feature_date) as d from intermediate.int_predictive__sample_dates "
        "where sample_role = 'train'",
    ).d.iloc[0]
    day = pd.Timestamp(day).date()
    end = datetime.combine(day + timedelta(days=1), datetime.min.time())
    examples = _frame(
        project,
        "select contact_id, is_converted, lead_age_days from intermediate.int_predictive__examples "
        f"where feature_date = date '{day}'",
    ).set_index("contact_id")
    contacts = _frame(project, "select contact_id, created_at from staging.stg_crm__contacts")
    won = _frame(
        project,
        "select contact_id, closed_at from staging.stg_crm__deals "
        "where is_won and contact_id is not null and closed_at is not null",
    )
    customers = set(won.contact_id[won.closed_at < end])
    existing = set(contacts.contact_id[contacts.created_at < end]) - customers
    assert set(examples.index) == existing
    converted = set(
        won.contact_id[(won.closed_at >= end) & (won.closed_at < end + timedelta(days=90))]
    )
    assert set(examples.index[examples.is_converted]) == converted & existing

    events = _frame(
        project,
        "select contact_id, occurred_at from staging.stg_marketing__events "
        "where event_type = 'page_view' and page_category = 'pricing'",
    )
    recent = events[(events.occurred_at < end) & (events.occurred_at >= end - timedelta(days=30))]
    before = events[events.occurred_at < end]
    features = _frame(
        project,
        "select contact_id, occurrences_30d, occurrences_total "
        "from intermediate.int_predictive__behavior_features "
        f"where rule_id = 'beh_pricing_page' and feature_date = date '{day}'",
    ).set_index("contact_id")
    assert features.occurrences_total.to_dict() == before.contact_id.value_counts().to_dict()
    counted = features.occurrences_30d[features.occurrences_30d > 0].to_dict()
    assert counted == recent.contact_id.value_counts().to_dict()


def test_every_open_lead_gets_a_probability_factors_and_a_blended_priority(predicted):
    project, metadata = predicted
    predictions = _frame(project, "select * from marts.predictive_lead_scores")
    leads = _frame(
        project,
        "select contact_id, lead_score from marts.fct_lead_score_history "
        f"where as_of_date = date '{AS_OF}'",
    )
    customers = _frame(
        project,
        "select distinct contact_id from staging.stg_crm__deals where is_won "
        f"and closed_at < date '{TODAY + timedelta(days=1)}'",
    )
    expected = set(leads.contact_id) - set(customers.contact_id)
    assert set(predictions.contact_id) == expected
    assert predictions.contact_id.is_unique
    assert metadata["scored_leads"] == len(predictions)
    assert predictions.conversion_probability.between(0, 1, inclusive="neither").all()
    assert (predictions.model_run_id == metadata["model_run_id"]).all()
    merged = predictions.merge(leads, on="contact_id", suffixes=("", "_history"))
    assert np.allclose(merged.lead_score, merged.lead_score_history)
    # blended priority: half the rule score's percentile, half the probability's (the seed)
    rule = merged.lead_score.rank(pct=True)
    probability = merged.conversion_probability.rank(pct=True)
    assert np.allclose(merged.blended_priority, 100 * (0.5 * rule + 0.5 * probability))
    # three factors each, in words, with signed log-odds effects
    top = predictions.nlargest(50, "conversion_probability")
    assert top.top_factors.str.count(r"\([+-]\d+\.\d\d\)").eq(3).all()
    assert top.top_factors.str.contains("Visited the pricing page|Requested a demo").mean() > 0.5


def test_the_model_card_calibration_adds_up(predicted):
    project, metadata = predicted
    bins = _frame(
        project,
        "select * from marts.predictive_model_calibration "
        f"where model_run_id = '{metadata['model_run_id']}' order by bin",
    )
    assert len(bins) == 10
    assert bins.examples.sum() == metadata["holdout_examples"]
    assert (bins.min_predicted.iloc[1:].to_numpy() >= bins.max_predicted.iloc[:-1].to_numpy()).all()
    observed = (bins.observed_rate * bins.examples).sum() / bins.examples.sum()
    assert observed == pytest.approx(metadata["holdout_conversions"] / metadata["holdout_examples"])
    # ranking shows in the bins: the top tenth converts far more often than the bottom half
    assert bins.observed_rate.iloc[-1] > 5 * bins.observed_rate.iloc[:5].mean()


def test_large_warehouses_train_on_a_stable_sample_and_score_in_slices(
    predicted, tmp_path, monkeypatch
):
    """The 20k warehouse with the cap lowered to 5,000 examples: a stable sample trains the
    model, every lead is still scored, and scoring in slices gives the same scores."""
    from orchestration.lib.dbt_manifest import relation_name, relation_parts
    from orchestration.predictive import model
    from tests.conftest import settings_for

    source, _ = predicted
    copy_project(tmp_path, source=source.root)
    shutil.copy(source.duckdb_path, tmp_path / "warehouse.duckdb")
    project = ProjectCopy(tmp_path, tmp_path / "warehouse.duckdb")

    def cap(rows):
        return [
            {**row, "value": "5000"} if row["setting"] == "max_training_examples" else row
            for row in rows
        ]

    project.edit_seed("predictive_settings", cap)
    examples = "select contact_id, feature_date from intermediate.int_predictive__examples"
    samples = []
    for _ in range(2):
        completed = project.dbt("build", "-s", "predictive_settings+", as_of=TODAY)
        assert completed.returncode == 0, completed.stdout[-3000:]
        samples.append(set(project.query(f"{examples} where sample_role <> 'score'")))
    assert samples[0] == samples[1]
    assert 5000 - 400 <= len(samples[0]) <= 5000 + 400
    [(open_leads,)] = project.query(
        "select count(*) from intermediate.int_predictive__examples where sample_role = 'score'"
    )
    assert open_leads == metadata_scored(predicted)

    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    runs = []
    for batch in (10**9, 3_000):
        monkeypatch.setattr(model, "SCORE_BATCH_LEADS", batch)
        result = model.run_model(
            settings, relation=relation_name, output_schema=relation_parts("dim_leads")[0]
        )
        assert result.trained
        assert result.metrics["training_examples"] + result.metrics["holdout_examples"] == len(
            samples[0]
        )
        runs.append(result.predictions.set_index("contact_id").sort_index())
    whole, sliced = runs
    assert len(whole) == len(sliced) == open_leads
    assert np.allclose(whole.conversion_probability, sliced.conversion_probability, atol=1e-12)
    assert (whole.top_factors == sliced.top_factors).all()
    assert np.allclose(whole.blended_priority, sliced.blended_priority)


def metadata_scored(predicted) -> int:
    return predicted[1]["scored_leads"]


def test_too_few_outcomes_do_not_train_and_the_refresh_goes_on(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    generate_demo_data(landing, contacts=300, events=6_000, seed=5, as_of=TODAY, progress=False)
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADSCORE_LANDING_DIR", str(landing))
    monkeypatch.setenv("LEADSCORE_TARGET", "duckdb")
    monkeypatch.setenv("LEADSCORE_AS_OF_DATE", AS_OF)
    result = defs.resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=INFO_LOGS
    )
    assert result.success
    metadata = _metadata(result)
    assert metadata["status"] == "not_trained"
    conversions = metadata["training_conversions"]
    assert conversions < 40
    assert f"only {conversions} conversions" in metadata["reason"]
    assert "min_training_conversions" in metadata["reason"]
    materialized = {e.asset_key for e in result.get_asset_materialization_events()}
    assert {dg.AssetKey(["sync", "files"]), dg.AssetKey(["report", "lead_segment_report"])} <= (
        materialized
    )
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as conn:
        [(status, reason)] = conn.execute(
            "select status, reason from marts.predictive_model_card"
        ).fetchall()
        [(predictions,)] = conn.execute(
            "select count(*) from marts.predictive_lead_scores"
        ).fetchall()
    assert (status, reason) == ("not_trained", metadata["reason"])
    assert predictions == 0


# --- The model code on data whose answer is known ----------------------------------------------


def _synthetic(n: int = 3_000, seed: int = 1) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Leads on three training dates, one holdout and one score date. Pricing-page visits
    make conversion 15 times likelier; nothing else matters."""
    rng = np.random.default_rng(seed)
    rows, behaviour = [], []
    roles = [("train", date(2026, 1, 1)), ("train", date(2026, 2, 1)), ("train", date(2026, 3, 1))]
    roles += [("holdout", date(2026, 6, 1)), ("score", date(2026, 9, 1))]
    for role, day in roles:
        visits = rng.poisson(0.4, n)
        probability = np.where(visits > 0, 0.30, 0.02)
        converted = rng.random(n) < probability
        for i in range(n):
            rows.append(
                {
                    "contact_id": f"C{i:05d}",
                    "feature_date": day,
                    "sample_role": role,
                    "seniority": rng.choice(["executive", "manager", "individual"]),
                    "department": "marketing",
                    "industry": rng.choice(["Technology", "Retail"]),
                    "size_band": "Mid-Market",
                    "email_domain_type": "valid",
                    "lead_source": "organic_search",
                    "persona": "manager",
                    "employee_count": 500,
                    "lead_age_days": int(rng.integers(1, 300)),
                    "rule_lead_score": float(rng.integers(0, 100)),
                    "is_converted": None if role == "score" else bool(converted[i]),
                }
            )
            if visits[i]:
                behaviour.append(
                    {
                        "contact_id": f"C{i:05d}",
                        "feature_date": day,
                        "rule_id": "beh_pricing_page",
                        "rule_type": "event",
                        "occurrences_7d": 0,
                        "occurrences_30d": int(visits[i]),
                        "occurrences_90d": int(visits[i]),
                        "occurrences_total": int(visits[i]),
                        "decayed_occurrences": 0.5 * visits[i],
                        "days_since_last": 10,
                    }
                )
    return pd.DataFrame(rows), pd.DataFrame(behaviour)


def test_on_known_data_the_signal_is_learned_and_named():
    examples, behaviour = _synthetic()
    dataset = build_dataset(examples, behaviour, {"beh_pricing_page": "Visited the pricing page"})
    result = train_and_score(
        dataset, PredictiveSettings(min_training_conversions=50), as_of=None, window_days=90
    )
    assert result.trained
    # the best possible AUC here: visits say everything there is to know
    holdout = examples[examples.sample_role == "holdout"].reset_index(drop=True)
    visited = holdout.contact_id.isin(
        behaviour.contact_id[behaviour.feature_date == date(2026, 6, 1)]
    )
    best = roc_auc(holdout.is_converted.astype(bool).to_numpy(), visited.to_numpy(dtype=float))
    assert result.metrics["holdout_auc"] == pytest.approx(best, abs=0.03)
    assert result.metrics["rule_score_auc"] == pytest.approx(0.5, abs=0.05)  # random scores
    predictions = result.predictions.set_index("contact_id")
    scored_visitors = set(behaviour.contact_id[behaviour.feature_date == date(2026, 9, 1)])
    is_visitor = predictions.index.isin(scored_visitors)
    assert predictions.conversion_probability[is_visitor].mean() == pytest.approx(0.30, abs=0.06)
    assert predictions.conversion_probability[~is_visitor].mean() == pytest.approx(0.02, abs=0.01)
    first = predictions.top_factors[is_visitor].str.split("; ").str[0]
    assert first.str.startswith("Visited the pricing page").all()
    assert predictions.top_factors[is_visitor].str.contains(r"\(\+\d").all()


def test_roc_auc_matches_scikit_learn_with_ties():
    from sklearn.metrics import roc_auc_score

    rng = np.random.default_rng(3)
    outcomes = rng.random(500) < 0.2
    scores = rng.integers(0, 10, 500).astype(float)  # many ties
    assert roc_auc(outcomes, scores) == pytest.approx(roc_auc_score(outcomes, scores), abs=1e-12)
    assert roc_auc(np.zeros(5, dtype=bool), np.arange(5)) is None


def test_bad_settings_name_every_row_at_fault():
    rows = {
        "training_dates": "0",
        "training_step_days": "thirty",
        "min_training_conversions": "40",
        "model": "random_forest",
        "regularization": "0.1",
        "top_factors": "3",
        "blend_weight": "1.5",
        "learning_rate": "0.1",
    }
    with pytest.raises(PredictiveConfigError) as error:
        PredictiveSettings.from_rows(rows)
    message = str(error.value)
    assert "seeds/predictive/predictive_settings.csv" in message
    for fragment in (
        "row 'training_dates': 0 must be between 1 and 52",
        "row 'training_step_days': 'thirty' is not a whole number",
        "row 'model': 'random_forest' must be one of",
        "row 'blend_weight': 1.5 must be between 0.0 and 1.0",
        "row 'learning_rate': unknown setting",
    ):
        assert fragment in message
    defaults = PredictiveSettings.from_rows(
        {
            "training_dates": "6",
            "training_step_days": "30",
            "min_training_conversions": "40",
            "regularization": "0.1",
            "top_factors": "3",
            "model": "",
            "blend_weight": "",
        }
    )
    assert defaults.blend_weight is None and defaults.model == "logistic_regression"


def test_the_shipped_settings_are_valid():
    import csv

    with seed_path("predictive_settings").open(newline="") as handle:
        rows = {row["setting"]: row["value"] for row in csv.DictReader(handle)}
    settings = PredictiveSettings.from_rows(rows)
    assert settings.model == "logistic_regression" and settings.blend_weight == 0.5
