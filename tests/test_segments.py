"""Segments are data: a different segment matrix rebuilds with no code change, owners stay
put between refreshes, and segment changes are recorded between refreshes. Each test builds
its own copy of the dbt project with the real dbt CLI (see ProjectCopy in conftest)."""

from __future__ import annotations

import json
from datetime import timedelta

from orchestration.lib.seeds import seed_path
from tests.conftest import TODAY, ProjectCopy

HEADER = (
    "segment,priority,company_tier,engagement_levels,min_lead_score,max_lead_score,"
    "sales_action,campaign_track,route"
)
THREE_SEGMENTS = f"""{HEADER}
Hot,1,,,70,,Call today,Demo path,sdr
Warm,2,,,40,,Qualify,Education,nurture
Cold,3,,,,,Nurture,Awareness,nurture
"""


def test_a_three_segment_matrix_rebuilds_with_no_code_change(project: ProjectCopy):
    seed_path("segment_matrix", project.seeds).write_text(THREE_SEGMENTS)
    project.build()

    per_segment = dict(
        project.query("select segment, count(*) from marts.dim_lead_segments group by 1")
    )
    leads = project.query("select count(*) from marts.dim_leads")[0][0]
    assert set(per_segment) == {"Hot", "Warm", "Cold"}
    assert sum(per_segment.values()) == leads  # every lead in exactly one segment
    wrong = project.query(
        "select count(*) from marts.dim_lead_segments where "
        "(segment = 'Hot' and lead_score < 70) "
        "or (segment = 'Warm' and (lead_score < 40 or lead_score >= 70)) "
        "or (segment = 'Cold' and lead_score >= 40)"
    )
    assert wrong == [(0,)]
    summary = project.query("select segment, leads from marts.fct_segment_summary order by 1")
    assert dict(summary) == per_segment
    hot_owners = project.query(
        "select count(*) from marts.dim_lead_segments where segment = 'Hot' and owner_id is null"
    )
    assert hot_owners == [(0,)]  # the sdr route gives every Hot lead an owner


def test_owners_stay_put_between_refreshes_and_load_is_even(project: ProjectCopy):
    project.build()
    first = dict(project.query("select contact_id, owner_id from marts.fct_lead_owner_assignments"))
    project.build()
    second = project.query(
        "select contact_id, owner_id, is_new_assignment from marts.fct_lead_owner_assignments"
    )
    assert first
    assert {contact: owner for contact, owner, _ in second} == first
    assert not any(is_new for _, _, is_new in second)

    # New leads of one queue and region are dealt evenly: loads differ by at most one.
    loads = project.query(
        "select queue, region, owner_id, count(*) from marts.fct_lead_owner_assignments "
        "where owner_id is not null and region in "
        "(select region from staging.stg_crm__owners o where o.team = owner_team) "
        "group by 1, 2, 3"
    )
    by_pool: dict[tuple[str, str], list[int]] = {}
    for queue, region, _, n in loads:
        by_pool.setdefault((queue, region), []).append(n)
    assert by_pool
    for pool, counts in by_pool.items():
        assert max(counts) - min(counts) <= 1, (pool, counts)


def test_dbt_docs_generate_documents_the_bi_marts(project: ProjectCopy):
    project.build()
    completed = project.dbt("docs", "generate")
    assert completed.returncode == 0, completed.stdout[-3000:]
    catalog = json.loads((project.root / "dbt_project" / "target" / "catalog.json").read_text())
    manifest = json.loads((project.root / "dbt_project" / "target" / "manifest.json").read_text())
    for model in ("dim_lead_segments", "fct_segment_summary"):
        node = manifest["nodes"][f"model.leadscore.{model}"]
        assert node["contract"]["enforced"]
        assert all(column["description"] for column in node["columns"].values())
        assert f"model.leadscore.{model}" in catalog["nodes"]
    exposures = {e["name"] for e in manifest["exposures"].values()}
    assert {"lead_segment_report", "bi_parquet_export"} <= exposures


def test_segment_changes_between_refreshes_are_recorded(project: ProjectCopy):
    earlier = TODAY - timedelta(days=60)
    project.build(as_of=earlier)
    project.build(as_of=TODAY)

    moved = project.query(
        "select count(*) from marts.fct_lead_segment_history a "
        "join marts.fct_lead_segment_history b on a.contact_id = b.contact_id "
        f"where a.as_of_date = date '{earlier}' and b.as_of_date = date '{TODAY}' "
        "and a.segment <> b.segment"
    )[0][0]
    changes = project.query(
        "select count(*), min(old_segment <> new_segment), min(is_latest_refresh) "
        f"from marts.fct_lead_segment_changes where changed_on = date '{TODAY}'"
    )[0]
    assert moved > 0
    assert changes == (moved, True, True)
    # An owner follows the segment: a lead whose segment changed was not kept on its owner.
    kept_after_move = project.query(
        "select count(*) from marts.fct_lead_owner_assignments o "
        "join marts.fct_lead_segment_changes c on o.contact_id = c.contact_id "
        f"where c.changed_on = date '{TODAY}' and o.is_active and o.assigned_on < date '{TODAY}'"
    )
    assert kept_after_move == [(0,)]
