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
TARGETS = ("duckdb", "postgres", "spark")


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


@dataclass(frozen=True)
class SparkSettings:
    """Apache Spark in-process (target ``spark``): Parquet tables under ``<dir>/warehouse``,
    the Hive catalog in an embedded Derby metastore at ``<dir>/metastore_db``. Derby admits one
    JVM at a time, so the Python session and a dbt subprocess take turns (see
    ``orchestration.lib.warehouse.connect``)."""

    dir: Path
    # dbt's target schema; the layers land in <schema>_staging, <schema>_marts, ...
    schema: str = "leadscore"
    # Worker threads of local mode: a whole number, or "*" for every core.
    cores: str = "*"
    driver_memory: str = "4g"
    shuffle_partitions: int = 4

    @property
    def warehouse_dir(self) -> Path:
        return self.dir / "warehouse"

    @property
    def metastore_dir(self) -> Path:
        return self.dir / "metastore_db"

    def config(self) -> dict[str, str]:
        """The session configuration, key for key what the ``spark`` output of
        ``dbt_project/profiles.yml`` builds as ``server_side_parameters`` (a test renders the
        profile and compares), so Python and dbt open the same warehouse the same way."""
        spark_dir = self.dir.as_posix()
        return {
            "spark.master": f"local[{self.cores}]",
            "spark.driver.memory": self.driver_memory,
            "spark.sql.warehouse.dir": f"{spark_dir}/warehouse",
            "spark.hadoop.javax.jdo.option.ConnectionURL": (
                f"jdbc:derby:;databaseName={spark_dir}/metastore_db;create=true"
            ),
            "spark.driver.extraJavaOptions": f"-Dderby.system.home={spark_dir}",
            "spark.sql.shuffle.partitions": str(self.shuffle_partitions),
            "spark.sql.session.timeZone": "UTC",
            # Backslashes in string literals stay literal, as in DuckDB and PostgreSQL.
            "spark.sql.parser.escapedStringLiterals": "true",
            "spark.ui.enabled": "false",
        }


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
    spark: SparkSettings
    # DuckDB's memory limit (a size such as 4GB, or a share of RAM such as 50%) and worker
    # threads (None: every core); dbt's profile reads the same variables.
    duckdb_memory_limit: str = "80%"
    duckdb_threads: int | None = None

    def duckdb_config(self) -> dict[str, str | int]:
        config: dict[str, str | int] = {"memory_limit": self.duckdb_memory_limit}
        if self.duckdb_threads is not None:
            config["threads"] = self.duckdb_threads
        return config

    def spark_config(self) -> dict[str, str]:
        """The Spark session configuration of the dbt profile's ``spark`` output."""
        return self.spark.config()

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
            # Absolute: the profile's default (../data/spark) is relative to dbt_project/.
            "LEADSCORE_SPARK_DIR": str(self.spark.dir),
            "LEADSCORE_SPARK_SCHEMA": self.spark.schema,
            "LEADSCORE_SPARK_CORES": self.spark.cores,
            "LEADSCORE_SPARK_DRIVER_MEMORY": self.spark.driver_memory,
            "LEADSCORE_SPARK_SHUFFLE_PARTITIONS": str(self.spark.shuffle_partitions),
            **(
                {"LEADSCORE_DUCKDB_THREADS": str(self.duckdb_threads)}
                if self.duckdb_threads is not None
                else {}
            ),
        }

    def describe_warehouse(self) -> str:
        if self.target == "duckdb":
            return f"DuckDB file {self.duckdb_path}"
        if self.target == "spark":
            spark = self.spark
            return (
                f"Apache Spark local[{spark.cores}], Parquet tables in {spark.warehouse_dir}, "
                f"Derby metastore {spark.metastore_dir}, schema {spark.schema}"
            )
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
    cores = env.get("LEADSCORE_SPARK_CORES", "").strip() or "*"
    if cores != "*" and (not cores.isdigit() or int(cores) < 1):
        raise ValueError(f"LEADSCORE_SPARK_CORES={cores!r} must be * or a whole number >= 1")
    partitions = env.get("LEADSCORE_SPARK_SHUFFLE_PARTITIONS", "").strip() or "4"
    if not partitions.isdigit() or int(partitions) < 1:
        raise ValueError(
            f"LEADSCORE_SPARK_SHUFFLE_PARTITIONS={partitions!r} must be a whole number >= 1"
        )
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
        spark=SparkSettings(
            dir=Path(env.get("LEADSCORE_SPARK_DIR", data_dir / "spark")).resolve(),
            schema=env.get("LEADSCORE_SPARK_SCHEMA", "leadscore"),
            cores=cores,
            driver_memory=env.get("LEADSCORE_SPARK_DRIVER_MEMORY", "").strip() or "4g",
            shuffle_partitions=int(partitions),
        ),
        duckdb_memory_limit=env.get("LEADSCORE_DUCKDB_MEMORY_LIMIT", "").strip() or "80%",
        duckdb_threads=int(threads) if threads else None,
    )
