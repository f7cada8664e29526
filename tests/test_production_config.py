"""The production instance configuration: with DAGSTER_HOME holding the shipped dagster.yaml
and DAGSTER_PG_URL pointing at PostgreSQL, Dagster keeps its runs in PostgreSQL."""

from __future__ import annotations

import shutil

import dagster as dg
import psycopg

from orchestration.definitions import REFRESH_JOB_NAME, defs
from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.lib.asset_keys import raw_table_key
from orchestration.lib.settings import PROJECT_ROOT, load_settings

SHIPPED_CONFIG = PROJECT_ROOT / "orchestration" / "deploy" / "dagster.yaml"


def test_runs_are_stored_in_postgresql(postgres_database, tmp_path, monkeypatch):
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(SHIPPED_CONFIG, home / "dagster.yaml")
    pg = load_settings().postgres
    url = f"postgresql+psycopg2://{pg.user}@{pg.host}:{pg.port}/{postgres_database}"
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.setenv("DAGSTER_PG_URL", url)
    landing = tmp_path / "landing" / "crm_owners"
    landing.mkdir(parents=True)
    (landing / "owners.csv").write_text(",".join(RAW_CONTRACT["crm_owners"]) + "\nO1,Ann,,AE,NA\n")
    monkeypatch.setenv("LEADSCORE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LEADSCORE_TARGET", "duckdb")

    with dg.DagsterInstance.get() as instance:
        assert type(instance.run_storage).__name__ == "PostgresRunStorage"
        result = defs.resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
            instance=instance, asset_selection=[raw_table_key("crm_owners")]
        )
        assert result.success

    with psycopg.connect(url.replace("+psycopg2", "")) as conn:
        stored = conn.execute("select run_id, status from runs").fetchall()
    assert stored == [(result.run_id, "SUCCESS")]
