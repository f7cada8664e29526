"""The Dagster Definitions load, and the asset graph wires ingest into dbt the way the
project promises (raw sources are the ingest assets, layers are groups, tests are checks)."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import REFRESH_JOB_NAME, defs
from orchestration.defs.backtest.assets import BACKTEST_GROUP, BACKTEST_JOB_NAME, SUGGEST_JOB_NAME
from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.lib.asset_keys import raw_table_key
from orchestration.sync.runner import DESTINATIONS


def asset_graph():
    return defs.resolve_asset_graph()


def test_definitions_load_and_the_refresh_job_covers_every_asset_but_the_backtest():
    defs.validate_loadable(defs)
    job = defs.resolve_job_def(REFRESH_JOB_NAME)
    graph = asset_graph()
    backtest = {node.key for node in graph.asset_nodes if node.group_name == BACKTEST_GROUP}
    assert backtest == {
        dg.AssetKey(["backtest", "rules_backtest"]),
        dg.AssetKey(["backtest", "suggested_rules"]),
    }
    assert set(job.asset_layer.asset_graph.get_all_asset_keys()) >= (
        set(graph.materializable_asset_keys) - backtest
    )


def test_the_backtest_runs_only_in_its_own_job():
    """A scheduled refresh must never run a backtest or learn rules (they need config and
    score the past); each runs in its own job."""
    backtest = dg.AssetKey(["backtest", "rules_backtest"])
    suggest = dg.AssetKey(["backtest", "suggested_rules"])
    for job_name in (REFRESH_JOB_NAME, "refresh_new_events"):
        keys = defs.resolve_job_def(job_name).asset_layer.asset_graph.get_all_asset_keys()
        assert not {backtest, suggest} & set(keys), job_name
    own = defs.resolve_job_def(BACKTEST_JOB_NAME).asset_layer.asset_graph.get_all_asset_keys()
    assert set(own) == {backtest}
    own = defs.resolve_job_def(SUGGEST_JOB_NAME).asset_layer.asset_graph.get_all_asset_keys()
    assert set(own) == {suggest}


def test_raw_tables_are_ingest_assets_and_dbt_staging_depends_on_them():
    graph = asset_graph()
    for table in RAW_CONTRACT:
        node = graph.get(raw_table_key(table))
        assert node.group_name == "ingest"
        assert node.is_materializable  # produced by the ingest asset, not an external source
    events = graph.get(dg.AssetKey(["staging", "base_marketing__events"]))
    assert raw_table_key("marketing_events") in events.parent_keys
    assert dg.AssetKey(["staging", "stg_crm__contact_identity"]) in events.parent_keys


def test_layers_are_groups():
    groups = {node.key: node.group_name for node in asset_graph().asset_nodes}
    assert groups[dg.AssetKey(["staging", "stg_crm__contacts"])] == "staging"
    assert groups[dg.AssetKey(["quarantine", "quarantine_marketing__events"])] == "quarantine"
    assert groups[dg.AssetKey(["audit", "audit_raw_reconciliation"])] == "audit"
    assert groups[dg.AssetKey(["config", "event_types"])] == "config"
    assert groups[dg.AssetKey(["scoring", "dim_leads"])] == "scoring"
    assert groups[dg.AssetKey(["scoring", "int_scoring__rule_activity_by_day"])] == "scoring"
    assert groups[dg.AssetKey(["segments", "dim_lead_segments"])] == "segments"
    assert groups[dg.AssetKey(["report", "lead_segment_report"])] == "report"
    assert groups[dg.AssetKey(["calibration", "fct_calibration_by_band"])] == "calibration"


def test_report_assets_run_after_the_marts_they_read():
    graph = asset_graph()
    report = graph.get(dg.AssetKey(["report", "lead_segment_report"]))
    export = graph.get(dg.AssetKey(["report", "bi_parquet_export"]))
    assert dg.AssetKey(["segments", "fct_segment_summary"]) in report.parent_keys
    assert dg.AssetKey(["scoring", "dim_leads"]) in report.parent_keys
    assert dg.AssetKey(["segments", "dim_accounts"]) in export.parent_keys


def test_dbt_tests_are_asset_checks_including_reconciliation():
    checks = {(key.asset_key.to_user_string(), key.name) for key in asset_graph().asset_check_keys}
    reconciliation = [name for asset, name in checks if asset == "audit/audit_raw_reconciliation"]
    assert any("raw_rows_staged_rows_quarantined_rows_merged" in name for name in reconciliation)
    assert ("staging/stg_crm__contacts", "unique_stg_crm__contacts_email") in checks


def test_every_outward_asset_depends_directly_on_the_gated_mart():
    """Dagster's blocking checks only stop direct dependents of the checked asset."""
    from orchestration.defs.quality.checks import GATED_MART, QUALITY_CHECKS

    graph = asset_graph()
    gated = dg.AssetKey(["segments", GATED_MART])
    blocking = {
        spec.name
        for check in QUALITY_CHECKS
        for spec in check.check_specs
        if spec.blocking and spec.asset_key == gated
    }
    assert blocking == {
        "event_volume_is_normal",
        "sql_share_is_stable",
        "raw_rows_are_usable",
        "leads_were_scored",
    }
    outward = [
        dg.AssetKey(["report", "lead_segment_report"]),
        dg.AssetKey(["report", "bi_parquet_export"]),
    ]
    syncs = [dg.AssetKey(["sync", name]) for name in DESTINATIONS]
    assert set(DESTINATIONS) == {"files", "hubspot", "salesforce", "webhook", "postgres"}
    for key in outward + syncs:
        assert gated in graph.get(key).parent_keys, key


def test_each_sync_destination_is_an_asset_reading_its_payload_model():
    graph = asset_graph()
    for destination, model, kind in (
        ("files", "sync_files__leads", "parquet"),
        ("hubspot", "sync_hubspot__contacts", "hubspot"),
        ("salesforce", "sync_salesforce__leads", "salesforce"),
        ("webhook", "sync_webhook__leads", "webhook"),
        ("postgres", "sync_postgres__leads", "postgres"),
    ):
        node = graph.get(dg.AssetKey(["sync", destination]))
        assert node.group_name == "sync"
        assert dg.AssetKey(["sync", model]) in node.parent_keys
        assert kind in node.kinds
        assert node.pools == {"warehouse"}  # one warehouse writer at a time (DuckDB)
