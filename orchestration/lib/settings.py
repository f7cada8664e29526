"""Every setting the project reads, in one place, from environment variables.

The dbt profile (``dbt_project/profiles.yml``) reads the same variables, so the Python
assets and dbt always talk to the same warehouse.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
TARGETS = ("duckdb", "postgres")


@dataclass(frozen=True)
class PostgresSettings:
    host: str
    port: int
    user: str
    dbname: str
    schema: str
    # Read from the environment at connect time only, so it never sits in a repr or a log line.
    password_env: str = "LEADSCORE_PG_PASSWORD"

    def conninfo(self) -> str:
        parts = {
            "host": self.host,
            "port": str(self.port),
            "user": self.user,
            "dbname": self.dbname,
        }
        password = os.environ.get(self.password_env)
        if password:
            parts["password"] = password
        return " ".join(f"{key}={_quote(value)}" for key, value in parts.items())


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"


@dataclass(frozen=True)
class Settings:
    target: str
    data_dir: Path
    landing_dir: Path
    duckdb_path: Path
    raw_schema: str
    postgres: PostgresSettings
    # DuckDB's memory limit (a size such as 4GB, or a share of RAM such as 50%) and worker
    # threads (None: every core); dbt's profile reads the same variables.
    duckdb_memory_limit: str = "80%"
    duckdb_threads: int | None = None

    def duckdb_config(self) -> dict[str, str | int]:
        config: dict[str, str | int] = {"memory_limit": self.duckdb_memory_limit}
        if self.duckdb_threads is not None:
            config["threads"] = self.duckdb_threads
        return config

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess, so its profile resolves to this warehouse."""
        return {
            "LEADSCORE_TARGET": self.target,
            "LEADSCORE_DUCKDB_PATH": str(self.duckdb_path),
            "LEADSCORE_RAW_SCHEMA": self.raw_schema,
            "LEADSCORE_PG_HOST": self.postgres.host,
            "LEADSCORE_PG_PORT": str(self.postgres.port),
            "LEADSCORE_PG_USER": self.postgres.user,
            "LEADSCORE_PG_DBNAME": self.postgres.dbname,
            "LEADSCORE_PG_SCHEMA": self.postgres.schema,
            "LEADSCORE_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            **(
                {"LEADSCORE_DUCKDB_THREADS": str(self.duckdb_threads)}
                if self.duckdb_threads is not None
                else {}
            ),
        }

    def describe_warehouse(self) -> str:
        if self.target == "duckdb":
            return f"DuckDB file {self.duckdb_path}"
        pg = self.postgres
        return f"PostgreSQL {pg.user}@{pg.host}:{pg.port}/{pg.dbname}"


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    env = os.environ if environ is None else environ
    target = env.get("LEADSCORE_TARGET", "duckdb")
    if target not in TARGETS:
        raise ValueError(
            f"LEADSCORE_TARGET={target!r} is not a supported target; "
            f"use one of {', '.join(TARGETS)}"
        )
    data_dir = Path(env.get("LEADSCORE_DATA_DIR", PROJECT_ROOT / "data")).resolve()
    threads = env.get("LEADSCORE_DUCKDB_THREADS", "").strip()
    if threads and (not threads.isdigit() or int(threads) < 1):
        raise ValueError(f"LEADSCORE_DUCKDB_THREADS={threads!r} must be a whole number >= 1")
    return Settings(
        target=target,
        data_dir=data_dir,
        landing_dir=Path(env.get("LEADSCORE_LANDING_DIR", data_dir / "landing")).resolve(),
        duckdb_path=Path(env.get("LEADSCORE_DUCKDB_PATH", data_dir / "warehouse.duckdb")).resolve(),
        raw_schema=env.get("LEADSCORE_RAW_SCHEMA", "raw"),
        postgres=PostgresSettings(
            host=env.get("LEADSCORE_PG_HOST", "127.0.0.1"),
            port=int(env.get("LEADSCORE_PG_PORT", "5432")),
            user=env.get("LEADSCORE_PG_USER", "postgres"),
            dbname=env.get("LEADSCORE_PG_DBNAME", "test"),
            schema=env.get("LEADSCORE_PG_SCHEMA", "public"),
        ),
        duckdb_memory_limit=env.get("LEADSCORE_DUCKDB_MEMORY_LIMIT", "").strip() or "80%",
        duckdb_threads=int(threads) if threads else None,
    )
