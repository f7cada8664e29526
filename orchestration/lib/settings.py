"""Every setting the project reads, in one place, from environment variables, checked before
any work is done.

``load_settings()`` reads every ``LEADSCORE_*`` variable (see docs/configuration.md) into one
typed, frozen ``Settings`` object. A value that is not valid raises
``SettingsError`` (a ``ValueError``) whose message names the variable, the value and what is
allowed, e.g. ``LEADSCORE_PG_PORT='54x2' is not valid: a whole number from 1 to 65535``; every
bad variable is reported at once, one per line. An empty value counts as unset (the default).
Secrets (``LEADSCORE_PG_PASSWORD``, tokens, ``LEADSCORE_SYNC_PG_CONNINFO``) are not kept here:
they are read where they are used, so they never sit in a repr or a log line, and a URL that
may carry one is never echoed in an error.

The dbt profile (``dbt_project/profiles.yml``) reads the same variables, so the Python
assets and dbt always talk to the same warehouse; it checks the DuckDB ones again itself, for
a dbt run started by hand.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
# The dbt installed next to this interpreter: every dbt run of the project uses it, also from
# an environment that was never activated (whatever `dbt` is first on PATH).
DBT_EXECUTABLE = Path(sys.executable).parent / "dbt"
TARGETS = ("duckdb", "postgres", "spark")
SYNC_FILE_FORMATS = ("parquet", "csv")
SPARK_FILE_FORMATS = ("parquet", "delta", "iceberg", "hudi", "orc")

DEFAULT_DUCKDB_MEMORY_LIMIT = "80%"
# How long a refresh waits for another program's lock on the DuckDB file.
DEFAULT_LOCK_TIMEOUT_SECONDS = 60
MAX_LOCK_TIMEOUT_SECONDS = 24 * 3600
# The longest CSV field the loader reads (its reader's block grows to twice this when a
# file needs it; Arrow's blocks are at most 2 GiB, hence the ceiling).
DEFAULT_CSV_MAX_FIELD_BYTES = 64 << 20
MIN_CSV_MAX_FIELD_BYTES = 1 << 10
MAX_CSV_MAX_FIELD_BYTES = 512 << 20
# Below this DuckDB cannot even load a small file (it fails with an out-of-memory error).
MIN_DUCKDB_MEMORY_BYTES = 16_000_000

_SIZE_FACTORS = {"": 1, "k": 1000, "m": 1000**2, "g": 1000**3, "t": 1000**4}
_SIZE = re.compile(r"(?P<number>\d+(?:\.\d+)?)\s*(?:(?P<prefix>[kmgt])(?P<binary>i)?b?|b)?", re.I)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,62}")
_WHOLE = re.compile(r"\d{1,9}")

MEMORY_LIMIT_ALLOWED = (
    "a size of at least 16MB such as 4GB, 500MB or 2.5GiB, or a share of RAM above 0% and at "
    "most 100% such as 80%"
)
CSV_MAX_FIELD_ALLOWED = "a size from 1KiB to 512MiB such as 64MiB or 100MB, or a number of bytes"
SCHEMA_ALLOWED = (
    "a schema name of letters, digits and _ that does not start with a digit (at most 63 "
    "characters)"
)
URL_ALLOWED = "an absolute http:// or https:// URL"


class SettingsError(ValueError):
    """One or more ``LEADSCORE_*`` variables are not valid; the message names each variable,
    its value (unless it may hold a secret) and what is allowed, one per line."""

    def __init__(self, problems: list[str], variables: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems
        self.variables = variables


def invalid(variable: str, value: str, allowed: str, *, secret: bool = False) -> str:
    """The message for one bad value: ``NAME='value' is not valid: <what is allowed>``."""
    if secret:
        return f"{variable} is not valid (its value is not shown: it may hold a secret): {allowed}"
    return f"{variable}={value!r} is not valid: {allowed}"


# -- parsers: each returns the typed value or raises ValueError ------------------------------


def _size_bytes(text: str) -> tuple[float, str]:
    """(bytes, canonical text) of a size such as 4GB, 500 MB, 2.5GiB, 4g or 1024."""
    match = _SIZE.fullmatch(text)
    if not match:
        raise ValueError(text)
    number = float(match["number"])
    prefix = (match["prefix"] or "").lower()
    factor = _SIZE_FACTORS[prefix]
    if match["binary"]:
        factor = 1024 ** (" kmgt".index(prefix))
    unit = f"{prefix.upper()}{'iB' if match['binary'] else 'B'}" if prefix else "B"
    return number * factor, f"{match['number']}{unit}"


def parse_memory_limit(text: str) -> str:
    """DuckDB's memory limit, as the canonical text DuckDB reads (``4GB``, ``2.5GiB``,
    ``80%``): a size of at least 16MB, or a share of RAM in (0%, 100%]."""
    text = text.strip()
    percent = re.fullmatch(r"(\d+(?:\.\d+)?)\s*%", text)
    if percent:
        if not 0 < float(percent[1]) <= 100:
            raise ValueError(text)
        return f"{percent[1]}%"
    size, canonical = _size_bytes(text)
    if size < MIN_DUCKDB_MEMORY_BYTES:
        raise ValueError(text)
    return canonical


def _csv_field_bytes(text: str) -> int:
    size, _ = _size_bytes(text)
    if not MIN_CSV_MAX_FIELD_BYTES <= size <= MAX_CSV_MAX_FIELD_BYTES:
        raise ValueError(text)
    return int(size)


def _whole(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(text: str) -> int:
        if not _WHOLE.fullmatch(text):
            raise ValueError(text)
        number = int(text)
        if number < low or (high is not None and number > high):
            raise ValueError(text)
        return number

    return parse


def _one_of(choices: tuple[str, ...]) -> Callable[[str], str]:
    # Exact: dbt and the sync destinations read the same variables as they are.
    def parse(text: str) -> str:
        if text not in choices:
            raise ValueError(text)
        return text

    return parse


def _iso_date(text: str) -> date:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise ValueError(text)
    return date.fromisoformat(text)  # a ValueError for 2026-02-30


def _spark_cores(text: str) -> str:
    return "*" if text == "*" else str(_whole(1)(text))


def _jvm_memory(text: str) -> str:
    if not re.fullmatch(r"\d+[kmgt]?b?", text, re.I) or int(re.match(r"\d+", text)[0]) < 1:
        raise ValueError(text)
    return text


def _schema(text: str) -> str:
    if not _IDENTIFIER.fullmatch(text):
        raise ValueError(text)
    return text


def _url(text: str) -> str:
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc or " " in text:
        raise ValueError(text)
    return text


def _on_off(text: str) -> bool:
    lowered = text.lower()
    if lowered in ("on", "true", "1"):
        return True
    if lowered in ("off", "false", "0"):
        return False
    raise ValueError(text)


def _salesforce_version(text: str) -> str:
    if not re.fullmatch(r"v\d+\.\d+", text):
        raise ValueError(text)
    return text


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
    # dbt's table format (None: parquet, delta on Databricks; dbt_project.yml decides).
    file_format: str | None = None

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


@dataclass(frozen=True)
class SyncSettings:
    """The sync destinations' settings that are not secrets (``orchestration.sync`` reads
    the secrets, and these too, from the environment when it connects; they are checked
    here so that a bad value stops a refresh before it starts, not after the build)."""

    files_dir: Path | None = None  # None: <data dir>/sync
    files_format: str = "parquet"
    hubspot_base_url: str = "https://api.hubapi.com"
    salesforce_instance_url: str | None = None
    salesforce_api_version: str = "v60.0"
    # May embed a token: kept out of the repr.
    webhook_url: str | None = field(default=None, repr=False)


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
    duckdb_memory_limit: str = DEFAULT_DUCKDB_MEMORY_LIMIT
    duckdb_threads: int | None = None
    # dbt's threads (None: the profile's default, 2 on DuckDB and 4 on PostgreSQL).
    dbt_threads: int | None = None
    # How long opening the DuckDB file waits for another program's lock (e.g. a BI tool).
    lock_timeout_seconds: int = DEFAULT_LOCK_TIMEOUT_SECONDS
    # The longest field a landing CSV file may hold.
    csv_max_field_bytes: int = DEFAULT_CSV_MAX_FIELD_BYTES
    # LEADSCORE_AS_OF_DATE (None: today in UTC; dbt reads the variable itself).
    as_of_date: date | None = None
    # LEADSCORE_AUTOMATION: schedules and sensors running by default.
    automation: bool = False
    sync: SyncSettings = field(default_factory=SyncSettings)
    # LEADSCORE_ALERT_WEBHOOK_URL; may embed a token, so it stays out of the repr.
    alert_webhook_url: str | None = field(default=None, repr=False)

    @property
    def sync_files_dir(self) -> Path:
        return self.sync.files_dir or self.data_dir / "sync"

    def duckdb_config(self) -> dict[str, str | int]:
        """DuckDB's settings for a connection, checked again here: the values are bound as
        SQL parameters, and a ``Settings`` built by hand must not slip an unchecked value in."""
        try:
            memory_limit = parse_memory_limit(self.duckdb_memory_limit)
        except ValueError:
            raise SettingsError(
                [
                    invalid(
                        "LEADSCORE_DUCKDB_MEMORY_LIMIT",
                        self.duckdb_memory_limit,
                        MEMORY_LIMIT_ALLOWED,
                    )
                ],
                ["LEADSCORE_DUCKDB_MEMORY_LIMIT"],
            ) from None
        config: dict[str, str | int] = {"memory_limit": memory_limit}
        if self.duckdb_threads is not None:
            config["threads"] = int(self.duckdb_threads)
        return config

    def spark_config(self) -> dict[str, str]:
        """The Spark session configuration of the dbt profile's ``spark`` output."""
        return self.spark.config()

    def dbt_env(self) -> dict[str, str]:
        """Environment for a dbt subprocess, so its profile resolves to this warehouse."""
        optional = {
            "LEADSCORE_DUCKDB_THREADS": self.duckdb_threads,
            "LEADSCORE_DBT_THREADS": self.dbt_threads,
        }
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
            # dbt waits for a lock on the DuckDB file as the Python assets do (the profile).
            "LEADSCORE_LOCK_TIMEOUT_SECONDS": str(self.lock_timeout_seconds),
            # Absolute: the profile's default (../data/spark) is relative to dbt_project/.
            "LEADSCORE_SPARK_DIR": str(self.spark.dir),
            "LEADSCORE_SPARK_SCHEMA": self.spark.schema,
            "LEADSCORE_SPARK_CORES": self.spark.cores,
            "LEADSCORE_SPARK_DRIVER_MEMORY": self.spark.driver_memory,
            "LEADSCORE_SPARK_SHUFFLE_PARTITIONS": str(self.spark.shuffle_partitions),
            **{name: str(value) for name, value in optional.items() if value is not None},
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


T = TypeVar("T")


class _Reader:
    """Reads variables from ``env``, collecting every problem instead of stopping at the
    first, so that one run names every bad variable."""

    def __init__(self, env: Mapping[str, str]):
        self.env = env
        self.problems: list[str] = []
        self.variables: list[str] = []

    def text(self, name: str, default: str) -> str:
        value = self.env.get(name)
        return default if value is None or not value.strip() else value

    def typed(
        self,
        name: str,
        default: T,
        parse: Callable[[str], T],
        allowed: str,
        *,
        secret: bool = False,
    ) -> T:
        value = self.env.get(name)
        if value is None or not value.strip():
            return default
        try:
            return parse(value.strip())
        except ValueError:
            self.problems.append(invalid(name, value, allowed, secret=secret))
            self.variables.append(name)
            return default

    def path(self, name: str, default: Path, *, kind: str) -> Path:
        path = Path(self.text(name, str(default))).resolve()
        wrong = path.is_dir() if kind == "file" else path.exists() and not path.is_dir()
        if wrong:
            other = "a folder" if kind == "file" else "a file"
            self.problems.append(invalid(name, str(path), f"a {kind} path (this is {other})"))
            self.variables.append(name)
        return path


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Every ``LEADSCORE_*`` variable of ``environ`` (default: the process environment),
    checked; raises ``SettingsError`` naming every variable that is not valid."""
    read = _Reader(os.environ if environ is None else environ)
    target = read.typed(
        "LEADSCORE_TARGET", "duckdb", _one_of(TARGETS), f"one of {', '.join(TARGETS)}"
    )
    data_dir = read.path("LEADSCORE_DATA_DIR", PROJECT_ROOT / "data", kind="folder")
    schema = SCHEMA_ALLOWED
    whole_1 = "a whole number of 1 or more"
    settings = Settings(
        target=target,
        data_dir=data_dir,
        landing_dir=read.path("LEADSCORE_LANDING_DIR", data_dir / "landing", kind="folder"),
        duckdb_path=read.path("LEADSCORE_DUCKDB_PATH", data_dir / "warehouse.duckdb", kind="file"),
        raw_schema=read.typed("LEADSCORE_RAW_SCHEMA", "raw", _schema, schema),
        postgres=PostgresSettings(
            host=read.text("LEADSCORE_PG_HOST", "127.0.0.1"),
            port=read.typed(
                "LEADSCORE_PG_PORT", 5432, _whole(1, 65535), "a whole number from 1 to 65535"
            ),
            user=read.text("LEADSCORE_PG_USER", "postgres"),
            dbname=read.text("LEADSCORE_PG_DBNAME", "test"),
            schema=read.typed("LEADSCORE_PG_SCHEMA", "public", _schema, schema),
        ),
        spark=SparkSettings(
            dir=read.path("LEADSCORE_SPARK_DIR", data_dir / "spark", kind="folder"),
            schema=read.typed("LEADSCORE_SPARK_SCHEMA", "leadscore", _schema, schema),
            cores=read.typed(
                "LEADSCORE_SPARK_CORES", "*", _spark_cores, "* or a whole number of 1 or more"
            ),
            driver_memory=read.typed(
                "LEADSCORE_SPARK_DRIVER_MEMORY",
                "4g",
                _jvm_memory,
                "a JVM memory size such as 4g or 512m",
            ),
            shuffle_partitions=read.typed(
                "LEADSCORE_SPARK_SHUFFLE_PARTITIONS", 4, _whole(1), whole_1
            ),
            file_format=read.typed(
                "LEADSCORE_SPARK_FILE_FORMAT",
                None,
                _one_of(SPARK_FILE_FORMATS),
                f"one of {', '.join(SPARK_FILE_FORMATS)}",
            ),
        ),
        duckdb_memory_limit=read.typed(
            "LEADSCORE_DUCKDB_MEMORY_LIMIT",
            DEFAULT_DUCKDB_MEMORY_LIMIT,
            parse_memory_limit,
            MEMORY_LIMIT_ALLOWED,
        ),
        duckdb_threads=read.typed("LEADSCORE_DUCKDB_THREADS", None, _whole(1), whole_1),
        dbt_threads=read.typed("LEADSCORE_DBT_THREADS", None, _whole(1), whole_1),
        lock_timeout_seconds=read.typed(
            "LEADSCORE_LOCK_TIMEOUT_SECONDS",
            DEFAULT_LOCK_TIMEOUT_SECONDS,
            _whole(0, MAX_LOCK_TIMEOUT_SECONDS),
            f"a whole number of seconds from 0 to {MAX_LOCK_TIMEOUT_SECONDS}",
        ),
        csv_max_field_bytes=read.typed(
            "LEADSCORE_CSV_MAX_FIELD_BYTES",
            DEFAULT_CSV_MAX_FIELD_BYTES,
            _csv_field_bytes,
            CSV_MAX_FIELD_ALLOWED,
        ),
        as_of_date=read.typed(
            "LEADSCORE_AS_OF_DATE",
            None,
            _iso_date,
            "a date as YYYY-MM-DD that exists, such as 2026-11-20",
        ),
        automation=read.typed(
            "LEADSCORE_AUTOMATION", False, _on_off, "on or off (or true, false, 1, 0)"
        ),
        sync=SyncSettings(
            files_dir=(
                read.path("LEADSCORE_SYNC_FILES_DIR", data_dir / "sync", kind="folder")
                if read.text("LEADSCORE_SYNC_FILES_DIR", "")
                else None
            ),
            files_format=read.typed(
                "LEADSCORE_SYNC_FILES_FORMAT",
                "parquet",
                _one_of(SYNC_FILE_FORMATS),
                " or ".join(SYNC_FILE_FORMATS),
            ),
            hubspot_base_url=read.typed(
                "LEADSCORE_HUBSPOT_BASE_URL", "https://api.hubapi.com", _url, URL_ALLOWED
            ),
            salesforce_instance_url=read.typed(
                "LEADSCORE_SALESFORCE_INSTANCE_URL", None, _url, URL_ALLOWED
            ),
            salesforce_api_version=read.typed(
                "LEADSCORE_SALESFORCE_API_VERSION",
                "v60.0",
                _salesforce_version,
                "a version such as v60.0",
            ),
            webhook_url=read.typed("LEADSCORE_WEBHOOK_URL", None, _url, URL_ALLOWED, secret=True),
        ),
        alert_webhook_url=read.typed(
            "LEADSCORE_ALERT_WEBHOOK_URL", None, _url, URL_ALLOWED, secret=True
        ),
    )
    if read.problems:
        raise SettingsError(read.problems, read.variables)
    return settings
