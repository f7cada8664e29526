"""The spark target on real Apache Spark: a local session with the Hive catalog in an embedded
Derby metastore, in a temporary data directory. Landing ingest, the deferred writes that stand
in for transactions, reads, predictive writes, and the hand-over of the metastore to a dbt
subprocess once the Python session (and its JVM) is gone.

Starting a session costs about ten seconds, so the tests share one (``spark_warehouse``);
the hand-over test closes it and the next use opens a fresh one. Needs the ``spark`` extra
(``pip install -e ".[dev,spark]"``) and Java 17: without PySpark the session tests fail with
that install hint (they never skip)."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import jinja2
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from orchestration.backtest.engine import _scratch_warehouse
from orchestration.ingest import loader
from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.ingest.loader import IngestFailedError, ingest_landing
from orchestration.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT, Settings, load_settings
from orchestration.lib.warehouse import WarehouseConnection, connect, quote_ident
from orchestration.lib.warehouse import spark as spark_engine
from orchestration.predictive.model import (
    CALIBRATION_TABLE,
    MODEL_CARD_TABLE,
    PREDICTIONS_TABLE,
    ModelResult,
    PredictiveSettings,
    write_outputs,
)
from orchestration.sync.destinations import NotConfiguredError
from orchestration.sync.engine import Destination, SyncEngine, SyncStateUnsupportedError
from orchestration.sync.runner import run_sync

OWNERS_HEADER = ",".join(RAW_CONTRACT["crm_owners"])
EVENTS_HEADER = ",".join(RAW_CONTRACT["marketing_events"])


def spark_settings(data_dir: Path, **extra: str) -> Settings:
    """Settings of a spark warehouse in `data_dir`, from these variables only (not the
    caller's environment, which may point LEADSCORE_SPARK_* elsewhere)."""
    return load_settings(
        {"LEADSCORE_TARGET": "spark", "LEADSCORE_DATA_DIR": str(data_dir), **extra}
    )


def write(landing: Path, relative: str, text: str) -> Path:
    path = landing / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def quiet(message: str) -> None:
    """Log sink (the loader's messages are asserted on through its report)."""


def count(conn: WarehouseConnection, relation: str) -> int:
    return conn.fetchall(f"select count(*) from {relation}")[0][0]


# -- settings and the dbt profile (no session needed) -------------------------------------


def render_profile_spark_output(env: dict[str, str]) -> dict:
    """The `spark` output of dbt_project/profiles.yml rendered the way dbt renders it:
    env_var(name, default) reads `env`."""

    def env_var(name: str, default: str | None = None) -> str:
        if name in env:
            return env[name]
        if default is None:
            raise KeyError(name)
        return default

    output = yaml.safe_load((DBT_PROJECT_DIR / "profiles.yml").read_text())["leadscore"]["outputs"][
        "spark"
    ]

    def render(value: object) -> object:
        if isinstance(value, str):
            return jinja2.Environment().from_string(value).render(env_var=env_var)
        if isinstance(value, dict):
            return {key: render(item) for key, item in value.items()}
        return value

    return render(output)


def test_spark_config_is_what_the_dbt_profile_builds(tmp_path: Path):
    settings = spark_settings(
        tmp_path,
        LEADSCORE_SPARK_CORES="3",
        LEADSCORE_SPARK_DRIVER_MEMORY="2g",
        LEADSCORE_SPARK_SHUFFLE_PARTITIONS="6",
        LEADSCORE_SPARK_SCHEMA="ls",
    )
    # dbt's subprocess gets settings.dbt_env(): its session must be configured identically.
    profile = render_profile_spark_output(settings.dbt_env())
    assert settings.spark_config() == {
        key: str(value) for key, value in profile["server_side_parameters"].items()
    }
    assert profile["method"] == "session"
    assert profile["schema"] == settings.spark.schema == "ls"
    config = settings.spark_config()
    assert config["spark.master"] == "local[3]"
    assert config["spark.sql.warehouse.dir"] == f"{tmp_path}/spark/warehouse"
    assert config["spark.hadoop.javax.jdo.option.ConnectionURL"] == (
        f"jdbc:derby:;databaseName={tmp_path}/spark/metastore_db;create=true"
    )
    assert config["spark.sql.parser.escapedStringLiterals"] == "true"
    assert "spark" in settings.describe_warehouse().lower()
    assert str(settings.spark.warehouse_dir) in settings.describe_warehouse()


def test_spark_defaults_match_the_profile_defaults():
    """Nothing set: the profile's ../data/spark (relative to dbt_project/) is the directory
    Python uses, and the other defaults agree too."""
    settings = load_settings({"LEADSCORE_TARGET": "spark"})
    assert settings.spark.dir == PROJECT_ROOT / "data" / "spark"
    profile = render_profile_spark_output({})
    parameters = profile["server_side_parameters"]
    rendered_dir = parameters["spark.driver.extraJavaOptions"].removeprefix("-Dderby.system.home=")
    assert (DBT_PROJECT_DIR / rendered_dir).resolve() == settings.spark.dir
    assert parameters["spark.master"] == settings.spark_config()["spark.master"] == "local[*]"
    for key in ("spark.driver.memory", "spark.sql.shuffle.partitions"):
        assert str(parameters[key]) == settings.spark_config()[key]
    assert profile["schema"] == settings.spark.schema == "leadscore"


@pytest.mark.parametrize(
    ("name", "value"),
    [("LEADSCORE_SPARK_CORES", "two"), ("LEADSCORE_SPARK_SHUFFLE_PARTITIONS", "0")],
)
def test_bad_spark_numbers_are_refused(tmp_path: Path, name: str, value: str):
    with pytest.raises(ValueError, match=name):
        spark_settings(tmp_path, **{name: value})


def test_a_missing_pyspark_names_the_extra_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    assert spark_engine._SparkProcess.users == 0, "needs no Spark session open"
    monkeypatch.setitem(sys.modules, "pyspark.sql", None)  # as if PySpark were not installed
    with (
        pytest.raises(ImportError, match=r'pip install -e "\.\[spark\]"'),
        connect(spark_settings(tmp_path)),
    ):
        pass


def test_reading_a_spark_warehouse_that_does_not_exist_says_so(tmp_path: Path):
    settings = spark_settings(tmp_path)
    with (
        pytest.raises(FileNotFoundError, match="no Spark warehouse at"),
        connect(settings, read_only=True),
    ):
        pass
    assert not settings.spark.dir.exists()


def test_unconfigured_destinations_are_skipped_on_spark_before_a_session_starts(
    tmp_path: Path,
):
    settings = spark_settings(tmp_path)
    with pytest.raises(NotConfiguredError, match="LEADSCORE_HUBSPOT_TOKEN"):
        run_sync("hubspot", settings, env={})
    # Refused before a session was started or the warehouse directory created.
    assert not settings.spark.dir.exists()


# -- one shared session -------------------------------------------------------------------


class SparkWarehouse:
    """A connection opened on first use and kept for the next tests; ``close()`` ends the
    session (JVM included) and the next use of ``conn`` opens a new one."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self._stack: ExitStack | None = None
        self._conn: WarehouseConnection | None = None

    @property
    def conn(self) -> WarehouseConnection:
        if self._conn is None:
            self._stack = ExitStack()
            self._conn = self._stack.enter_context(connect(self.settings))
        return self._conn

    def close(self) -> None:
        if self._stack is not None:
            stack, self._stack, self._conn = self._stack, None, None
            stack.close()


@pytest.fixture(scope="module")
def spark_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SparkWarehouse]:
    data_dir = tmp_path_factory.mktemp("spark_data")
    # Small and quick: two cores, little memory, few shuffle partitions.
    wh = SparkWarehouse(
        spark_settings(
            data_dir,
            LEADSCORE_SPARK_CORES="2",
            LEADSCORE_SPARK_DRIVER_MEMORY="1g",
            LEADSCORE_SPARK_SHUFFLE_PARTITIONS="2",
        )
    )
    try:
        yield wh
    finally:
        wh.close()


def test_ingest_loads_text_with_lineage_and_skips_loaded_files(
    spark_warehouse: SparkWarehouse, tmp_path: Path
):
    conn = spark_warehouse.conn
    landing = tmp_path / "landing"
    write(
        landing,
        "crm_owners/2025/owners.csv",
        f"{OWNERS_HEADER},Favourite Colour\n"
        'O1,"Lee, Ann",ann@example.com,AE,NA,green\n'
        "O2,O'Brien \\d+,,SDR,007,\n",
    )
    (landing / "marketing_events").mkdir(parents=True)
    occurred = datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    pq.write_table(
        pa.table(
            {
                "event_id": ["E1", "E2", "E3"],
                "contact_id": ["C1", None, "C3"],
                "email": [None, "a@b.co", None],
                "event_type": ["page_view", "demo_request", "page_view"],
                "page_url": [None, None, None],
                "page_category": pa.array(["pricing"] * 3).dictionary_encode(),
                "campaign_id": pa.array([7, None, 9], pa.int64()),
                "occurred_at": pa.array([occurred] * 3, pa.timestamp("us", tz="Europe/Berlin")),
            }
        ),
        landing / "marketing_events" / "part-0.parquet",
    )

    report = ingest_landing(conn, landing, "raw_a", log=quiet)

    assert report.rows_loaded("crm_owners") == 2
    assert report.rows_loaded("marketing_events") == 3
    owners = conn.fetch_dicts(
        "select owner_id, name, region, favourite_colour, _file_id, _source_file, "
        "_source_row, _loaded_at from raw_a.crm_owners order by _source_row"
    )
    assert [row["owner_id"] for row in owners] == ["O1", "O2"]
    assert owners[0]["name"] == "Lee, Ann"
    assert owners[1]["name"] == "O'Brien \\d+"  # quote and backslash arrive as written
    assert owners[1]["region"] == "007"  # text stays text
    assert owners[0]["favourite_colour"] == "green"  # the extra column was added
    assert owners[1]["favourite_colour"] is None  # empty field is NULL
    assert [row["_source_row"] for row in owners] == [1, 2]
    assert {row["_source_file"] for row in owners} == {"crm_owners/2025/owners.csv"}
    events = conn.fetchall(
        "select event_id, campaign_id, occurred_at, _file_id from raw_a.marketing_events "
        "order by event_id"
    )
    assert [row[:3] for row in events] == [
        ("E1", "7", "2025-03-01 12:30:00.000000Z"),
        ("E2", None, "2025-03-01 12:30:00.000000Z"),
        ("E3", "9", "2025-03-01 12:30:00.000000Z"),
    ]
    # Lineage types: bigint / string / timestamp (naive UTC in Python, as on DuckDB).
    types = dict((name, kind) for name, kind, _ in conn.fetchall("describe table raw_a.crm_owners"))
    assert [types[c] for c in ("owner_id", "_file_id", "_source_file", "_loaded_at")] == [
        "string",
        "bigint",
        "string",
        "timestamp",
    ]
    manifest = conn.fetchall(
        "select file_id, file_path, table_name, row_count, loaded_at "
        "from raw_a._ingest_manifest order by file_id"
    )
    # Tables load in contract order: events before owners.
    assert [row[:4] for row in manifest] == [
        (1, "marketing_events/part-0.parquet", "marketing_events", 3),
        (2, "crm_owners/2025/owners.csv", "crm_owners", 2),
    ]
    assert {row[3] for row in events} == {1}
    assert {row["_file_id"] for row in owners} == {2}
    loaded_at = manifest[0][4]
    assert loaded_at.tzinfo is None
    assert abs((datetime.now(UTC).replace(tzinfo=None) - loaded_at).total_seconds()) < 600
    assert {row["_loaded_at"] for row in owners} == {loaded_at}
    # Every contract table exists, so dbt can build on a partial delivery.
    for table, columns in RAW_CONTRACT.items():
        assert conn.table_columns("raw_a", table)[: len(columns)] == list(columns)

    second = ingest_landing(conn, landing, "raw_a", log=quiet)

    assert [load.status for load in second.loads] == ["skipped", "skipped"]
    assert count(conn, "raw_a.crm_owners") == 2
    assert count(conn, "raw_a.marketing_events") == 3
    assert count(conn, "raw_a._ingest_manifest") == 2


def test_a_malformed_file_leaves_no_rows_no_column_and_no_manifest_row(
    spark_warehouse: SparkWarehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    conn = spark_warehouse.conn
    # Small CSV blocks: the good rows before the bad one are read (and staged) in earlier
    # batches, so nothing but the deferred write keeps them out of the table.
    monkeypatch.setattr(loader, "CSV_BLOCK_BYTES", 256)
    good_rows = "".join(f"E{i},C{i},,page_view,,,,2025-01-01,x\n" for i in range(60))
    landing = tmp_path / "landing"
    write(
        landing,
        "marketing_events/bad.csv",
        f"{EVENTS_HEADER},Utm Source\n{good_rows}E99,C99,,page_view,,,,2025-01-01,x,surplus\n",
    )
    write(landing, "crm_owners/good.csv", f"{OWNERS_HEADER}\nO1,Ann,,AE,NA\n")

    with pytest.raises(IngestFailedError) as failure:
        ingest_landing(conn, landing, "raw_b", log=quiet)

    assert "marketing_events/bad.csv: line 62 has 10 fields, the header has 9" in str(failure.value)
    assert count(conn, "raw_b.marketing_events") == 0
    assert "utm_source" not in conn.table_columns("raw_b", "marketing_events")
    assert conn.fetchall("select file_path, row_count from raw_b._ingest_manifest") == [
        ("crm_owners/good.csv", 1)
    ]
    assert count(conn, "raw_b.crm_owners") == 1
    # No staged Parquet is left behind.
    staging = spark_warehouse.settings.spark.dir / "staging"
    assert not any(path.is_file() for path in staging.rglob("*"))


def test_fetch_arrow_and_fetch_dicts_round_trip(spark_warehouse: SparkWarehouse):
    conn = spark_warehouse.conn
    conn.execute('create schema if not exists "rt"')
    conn.create_table(
        "rt",
        "values",
        [
            ("name", "varchar not null"),
            ("n", "bigint"),
            ("x", "double precision"),
            ("day", "date"),
            ("at", "timestamp"),
            ("ok", "boolean"),
            ("note", "varchar"),
        ],
        constraints=["primary key (name)"],  # left out on Spark
    )
    tricky = 'it\'s \\ "quoted" \u00fc \u20ac'
    batch = pa.table(
        {
            "name": ["a", tricky, "c"],
            "n": pa.array([1, None, 2**40], pa.int64()),
            "x": [1.5, None, -0.25],
            "day": pa.array([date(2025, 1, 1), None, date(2024, 2, 29)], pa.date32()),
            "at": pa.array(
                [datetime(2025, 1, 1, 12, 0, 1, 250_000), None, datetime(1999, 12, 31, 23, 59)],
                pa.timestamp("us"),
            ),
            "ok": [True, None, False],
        }
    )
    conn.append_arrow("rt", "values", batch)

    arrow = conn.fetch_arrow('select name, n, x, day, at, ok, note from "rt"."values"')
    # Every value back as written; the column the batch did not have is null.
    expected = batch.append_column("note", pa.array([None] * 3, pa.string()))
    assert sorted(arrow.to_pylist(), key=lambda row: row["name"]) == sorted(
        expected.to_pylist(), key=lambda row: row["name"]
    )
    assert arrow.schema.field("at").type == pa.timestamp("us")  # naive UTC, as on DuckDB
    assert arrow.schema.field("day").type == pa.date32()
    assert arrow.schema.field("n").type == pa.int64()

    # `?` parameters: a string with a quote and a backslash, a datetime and a date.
    rows = conn.fetch_dicts(
        'select name, n, at from "rt"."values" where name = ? or (at = ? and day = ?) '
        "order by name",
        [tricky, datetime(2025, 1, 1, 12, 0, 1, 250_000), date(2025, 1, 1)],
    )
    assert rows == [
        {"name": "a", "n": 1, "at": datetime(2025, 1, 1, 12, 0, 1, 250_000)},
        {"name": tricky, "n": None, "at": None},
    ]
    assert conn.fetchall('select count(*), sum(n), avg(x) from "rt"."values"') == [
        (3, 1 + 2**40, 0.625)
    ]
    assert conn.fetchall("select cast(1.5 as decimal(4, 2)) as d, 'x' as d") == [
        (Decimal("1.50"), "x")
    ]
    assert conn.table_columns("rt", "values") == ["name", "n", "x", "day", "at", "ok", "note"]
    assert conn.table_columns("rt", "missing") == []
    assert conn.table_columns("no_such_schema", "values") == []


def test_transaction_writes_only_when_the_block_succeeds(spark_warehouse: SparkWarehouse):
    conn = spark_warehouse.conn
    conn.execute('create schema if not exists "tx"')
    conn.create_table("tx", "t", [("k", "varchar"), ("v", "bigint")])
    conn.append_arrow("tx", "t", pa.table({"k": ["old"], "v": [0]}))

    with pytest.raises(RuntimeError, match="boom"), conn.transaction():
        conn.append_arrow("tx", "t", pa.table({"k": ["lost"], "v": [1]}))
        conn.execute('insert into "tx"."t" (k, v) values (?, ?)', ["lost too", 2])
        assert count(conn, '"tx"."t"') == 1  # nothing written yet
        raise RuntimeError("boom")
    assert conn.fetchall('select k from "tx"."t"') == [("old",)]

    with conn.transaction():
        conn.empty_table("tx", "t")
        conn.append_arrow("tx", "t", pa.table({"k": ["a", "b"], "v": [1, 2]}))
        conn.append_arrow("tx", "t", pa.table({"k": ["c"], "v": pa.array([None], pa.int64())}))
        conn.execute('insert into "tx"."t" (k, v) values (?, ?)', ["d", 4])
        assert count(conn, '"tx"."t"') == 1
    # The old row was replaced (insert overwrite), then the statement's row appended.
    assert sorted(conn.fetchall('select k, v from "tx"."t"')) == [
        ("a", 1),
        ("b", 2),
        ("c", None),
        ("d", 4),
    ]

    with pytest.raises(Exception, match="DELETE"):
        conn.execute('delete from "tx"."t"')


def test_sync_engine_refuses_a_spark_connection(spark_warehouse: SparkWarehouse):
    with pytest.raises(SyncStateUnsupportedError, match="sync_ledger"):
        SyncEngine(spark_warehouse.conn, Destination(), schema="s", payload_table="p")


def test_predictive_outputs_replace_the_predictions_and_append_the_cards(
    spark_warehouse: SparkWarehouse,
):
    conn = spark_warehouse.conn

    def result(run_id: str, leads: list[str] | None) -> ModelResult:
        predictions = None
        if leads is not None:
            predictions = pd.DataFrame(
                {
                    "contact_id": leads,
                    "as_of_date": [date(2025, 6, 1)] * len(leads),
                    "conversion_probability": [0.25] * len(leads),
                    "probability_percentile": [50.0] * len(leads),
                    "lead_score": [70.0] * len(leads),
                    "blended_priority": [0.5] * len(leads),
                    "top_factors": ["fit"] * len(leads),
                }
            )
        return ModelResult(
            run_id=run_id,
            trained_at=datetime(2025, 6, 1, 8, 0),
            as_of_date=date(2025, 6, 1),
            status="trained" if leads else "not_trained",
            reason="" if leads else "too few conversions",
            settings=PredictiveSettings(),
            model_type="logistic_regression",
            metrics={"training_examples": 10},
            calibration=[
                {
                    "bin": 1,
                    "examples": 10,
                    "mean_predicted": 0.2,
                    "observed_rate": 0.1,
                    "min_predicted": 0.0,
                    "max_predicted": 0.4,
                }
            ]
            if leads
            else [],
            predictions=predictions,
        )

    def table(name: str) -> str:
        return f"{quote_ident('marts_p')}.{quote_ident(name)}"

    write_outputs(conn, "marts_p", result("run1", ["C1", "C2"]))
    write_outputs(conn, "marts_p", result("run2", ["C3"]))
    assert conn.fetchall(f"select model_run_id, contact_id from {table(PREDICTIONS_TABLE)}") == [
        ("run2", "C3")
    ]
    write_outputs(conn, "marts_p", result("run3", None))  # not trained: predictions emptied

    assert count(conn, table(PREDICTIONS_TABLE)) == 0
    cards = conn.fetchall(
        f"select model_run_id, status, reason, training_examples, trained_at "
        f"from {table(MODEL_CARD_TABLE)} order by model_run_id"
    )
    assert cards == [
        ("run1", "trained", "", 10, datetime(2025, 6, 1, 8, 0)),
        ("run2", "trained", "", 10, datetime(2025, 6, 1, 8, 0)),
        ("run3", "not_trained", "too few conversions", 10, datetime(2025, 6, 1, 8, 0)),
    ]
    assert count(conn, table(CALIBRATION_TABLE)) == 2


def test_backtest_scratch_schemas_are_dropped_afterwards(
    spark_warehouse: SparkWarehouse, tmp_path: Path
):
    settings = spark_warehouse.settings
    conn = spark_warehouse.conn
    conn.execute('create schema if not exists "leadscore_keep"')

    # Its clean-up connects while this session is open: nested blocks share the session.
    with _scratch_warehouse(settings, tmp_path) as scratch:
        schema = scratch.settings.spark.schema
        assert schema.startswith("leadscore_backtest_")
        assert scratch.env["LEADSCORE_SPARK_SCHEMA"] == schema
        assert scratch.env["LEADSCORE_SPARK_DIR"] == str(settings.spark.dir)
        for name in (schema, f"{schema}_staging"):  # what dbt would build
            conn.execute(f"create schema {quote_ident(name)}")
            conn.create_table(name, "t", [("a", "varchar")])
            conn.append_arrow(name, "t", pa.table({"a": ["x"]}))

    schemas = {name for (name,) in conn.fetchall("show schemas")}
    assert not {name for name in schemas if name.startswith(schema)}
    assert "leadscore_keep" in schemas
    assert not (settings.spark.warehouse_dir / f"{schema}_staging.db").exists()


# -- the metastore hand-over to dbt (closes the shared session) ----------------------------
