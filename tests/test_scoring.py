"""Scoring configuration is data: edits to the seed CSVs change scores with no code edit, bad
rows stop the build naming the rule, and history accumulates across as-of dates.

Each test works on its own copy of the dbt project (dbt_project/, seeds/, macros/) so it can
edit seeds freely, and builds it with the real dbt CLI against a DuckDB file loaded by the
real ingest code from generated landing files."""

from __future__ import annotations

from datetime import timedelta

import pytest

from orchestration.lib.seeds import seed_path
from tests.conftest import TODAY, ProjectCopy


def test_changing_weights_in_seeds_changes_scores_with_no_code_edit(project: ProjectCopy):
    project.build()
    before = project.scores()
    pricing_leads = {
        contact
        for (contact,) in project.query(
            "select contact_id from marts.fct_lead_score_components "
            "where rule_id = 'beh_pricing_page'"
        )
    }
    assert pricing_leads

    def double_pricing(rows):
        for row in rows:
            if row["rule_id"] == "beh_pricing_page":
                row["points"], row["max_points"] = "20", "40"
        return rows

    def halve_behaviour(rows):
        for row in rows:
            if row["score_part"] == "behavior":
                row["weight"] = "0.5"
        return rows

    project.edit_seed("scoring_behavior_rules", double_pricing)
    project.edit_seed("scoring_weights", halve_behaviour)
    project.build()
    after = project.scores()

    assert set(after) == set(before)
    changed_behaviour = {c for c in before if before[c][1] != after[c][1]}
    assert changed_behaviour <= pricing_leads  # only the edited rule moved behaviour scores
    assert changed_behaviour  # and it did move them
    for contact, (fit, behavior, lead) in after.items():
        assert fit == before[contact][0]
        expected = min(max(fit + 0.5 * behavior, 0.0), 100.0)  # the lead limits in the seed
        assert lead == pytest.approx(expected, abs=1e-6), contact


def test_malformed_rule_rows_fail_the_build_naming_each_rule(project: ProjectCopy):
    def add_bad_fit_rules(rows):
        template = dict(rows[0])
        return [
            *rows,
            {**template, "rule_id": "fit_typo_operator", "operator": "equalz"},
            {**template, "rule_id": "fit_wordy_points", "points": "ten"},
            {**template, "rule_id": "fit_decision_maker"},  # a second row with this id
        ]

    def add_bad_behaviour_rule(rows):
        return [*rows, {**rows[0], "rule_id": "beh_bad_decay", "half_life_days": "-3"}]

    project.build()  # a working warehouse, then an analyst edits the seeds
    fit_rules = seed_path("scoring_fit_rules", project.seeds)
    original_fit_rules = fit_rules.read_text()
    project.edit_seed("scoring_fit_rules", add_bad_fit_rules)
    completed = project.dbt("build", "--select", "scoring_fit_rules+")
    assert completed.returncode != 0
    assert "scoring_fit_rules row 'fit_typo_operator': operator must be one of" in completed.stdout
    assert "scoring_fit_rules row 'fit_wordy_points': points must be a number" in completed.stdout
    assert (
        "scoring_fit_rules row 'fit_decision_maker': rule_id is used more than once"
        in completed.stdout
    )
    assert "SKIP relation marts.dim_leads" in completed.stdout  # nothing scored with bad rules

    fit_rules.write_text(original_fit_rules)
    project.edit_seed("scoring_behavior_rules", add_bad_behaviour_rule)
    completed = project.dbt("build", "--select", "scoring_behavior_rules+")
    assert completed.returncode != 0
    assert (
        "scoring_behavior_rules row 'beh_bad_decay': half_life_days must be a positive number"
        in completed.stdout
    )


def test_history_accumulates_and_transitions_follow_the_stages(project: ProjectCopy):
    earlier = TODAY - timedelta(days=45)
    project.build(as_of=earlier)
    project.build(as_of=TODAY)

    dates = project.query(
        "select as_of_date, count(*) from marts.fct_lead_score_history group by 1 order by 1"
    )
    assert [d for d, _ in dates] == [earlier, TODAY]

    # score_change on dim_leads is the difference between the two snapshots.
    mismatches = project.query(
        "select count(*) from marts.dim_leads l "
        "join marts.fct_lead_score_history h "
        f"on h.contact_id = l.contact_id and h.as_of_date = date '{earlier}' "
        "where l.previous_as_of_date <> h.as_of_date "
        "or abs(l.score_change - (l.lead_score - h.lead_score)) > 1e-9"
    )
    assert mismatches == [(0,)]

    # A transition is recorded exactly where a lead's stage differs between the snapshots.
    stage_changes = project.query(
        "select count(*) from marts.fct_lead_score_history a "
        "join marts.fct_lead_score_history b on a.contact_id = b.contact_id "
        f"where a.as_of_date = date '{earlier}' and b.as_of_date = date '{TODAY}' "
        "and a.lead_stage <> b.lead_stage"
    )[0][0]
    later_transitions = project.query(
        "select direction, count(*) from marts.fct_lead_stage_transitions "
        f"where transitioned_on = date '{TODAY}' group by 1"
    )
    new_leads = project.query(
        "select count(*) from marts.fct_lead_score_history b "
        f"where b.as_of_date = date '{TODAY}' and b.contact_id not in "
        f"(select contact_id from marts.fct_lead_score_history where as_of_date = date '{earlier}')"
    )[0][0]
    by_direction = dict(later_transitions)
    assert stage_changes > 0
    assert by_direction.get("up", 0) + by_direction.get("down", 0) == stage_changes
    assert by_direction.get("entered", 0) == new_leads  # leads created since the earlier date

    # Re-running a date replaces its snapshot instead of adding a second one.
    project.build(as_of=TODAY)
    assert project.query(
        "select count(*) from marts.fct_lead_score_history group by as_of_date order by 1"
    ) == [(n,) for _, n in sorted(dates, key=lambda row: row[1])]

    # A backfill between the two snapshots: the transitions, rebuilt for two dates only, equal
    # the stage changes recomputed from the whole history, and dim_leads compares with the
    # snapshot just before the backfilled date.
    middle = earlier + timedelta(days=20)
    project.build(as_of=middle)
    recomputed = (
        "select contact_id, as_of_date, lead_stage, lag(lead_stage) over "
        "(partition by contact_id order by as_of_date) as before from marts.fct_lead_score_history"
    )
    expected = project.query(
        f"select contact_id, as_of_date, coalesce(before, '-'), lead_stage from ({recomputed}) "
        "where before is null or before <> lead_stage order by 1, 2"
    )
    actual = project.query(
        "select contact_id, transitioned_on, coalesce(from_stage, '-'), to_stage "
        "from marts.fct_lead_stage_transitions order by 1, 2"
    )
    assert any(row[1] == middle for row in expected)
    assert any(row[1] == TODAY and row[2] != "-" for row in expected)
    assert actual == expected
    assert project.query(
        "select count(*), count(distinct previous_as_of_date), min(previous_as_of_date) "
        "from marts.dim_leads where previous_as_of_date is not null"
    ) == [(dates[0][1], 1, earlier)]
