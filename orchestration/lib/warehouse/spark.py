"""Apache Spark in-process: a local session with the Hive catalog (Derby) and Parquet tables
under LEADSCORE_SPARK_DIR (``Settings.spark``), for trying the Spark SQL the models compile to.

Spark's embedded Derby metastore allows a single JVM: the Python session lives exactly as long
as the ``connect`` block and its JVM is shut down when the block ends, so that a dbt
subprocess (which starts a JVM of its own) can open the catalog afterwards. Tables are Parquet
files: there are no transactions and no DELETE / UPDATE (see ``SparkConnection``)."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import threading
import uuid
import warnings
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import reduce
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.settings import Settings
from orchestration.lib.warehouse.base import (
    RowChangesUnsupportedError,
    WarehouseConnection,
    arrow_rows,
    dict_rows,
    quote_ident,
)

# Settings of the Python session on top of the dbt profile's (Settings.spark_config()): they
# change how this module's SQL is read, not where the data lives.
SPARK_PYTHON_SESSION_CONFIG = {
    # quote_ident() quotes with double quotes, as DuckDB and PostgreSQL do.
    "spark.sql.ansi.doubleQuotedIdentifiers": "true",
    # Bind `?` parameters as values. Spark 4.1+ otherwise splices them into the SQL text as
    # escaped literals, which escapedStringLiterals then reads back with the backslashes kept
    # (a parameter "it's" would arrive as "it\'s").
    "spark.sql.legacy.parameterSubstitution.constantsOnly": "true",
    # No progress bars on stderr (Dagster's logs).
    "spark.ui.showConsoleProgress": "false",
}
SPARK_INSTALL_HINT = 'pip install -e ".[spark]"'
# Portable type names used by the Python writers -> Spark's names (Spark rejects a varchar
# without a length and has no `double precision`).
_SPARK_TYPES = {
    "varchar": "string",
    "text": "string",
    "double precision": "double",
    "float8": "double",
}
_CONSTRAINT = re.compile(r"\s+(not\s+null|unique|primary\s+key)\b", re.IGNORECASE)


def _backtick(name: str) -> str:
    """Spark's own identifier quoting (the catalog API does not read double quotes)."""
    return "`" + name.replace("`", "``") + "`"


@dataclass
class _SparkAppend:
    """Arrow batches bound for one table, staged as Parquet files until they are written."""

    target: str
    directory: Path
    overwrite: bool = False
    # One Parquet file (and writer) per distinct batch schema.
    writers: dict[pa.Schema, tuple[pq.ParquetWriter, Path]] = field(default_factory=dict)

    def add(self, batch: pa.Table) -> None:
        writer = self.writers.get(batch.schema)
        if writer is None:
            path = self.directory / f"part-{len(self.writers):04d}"
            path.mkdir(parents=True)
            writer = (pq.ParquetWriter(path / "data.parquet", batch.schema), path)
            self.writers[batch.schema] = writer
        writer[0].write_table(batch)

    def close(self) -> list[Path]:
        paths = []
        for writer, path in self.writers.values():
            writer.close()
            paths.append(path)
        self.writers = {}
        return paths


@dataclass
class _SparkWrites:
    """What a Spark ``transaction()`` block wrote: column additions, arrow appends grouped by
    table, and insert statements, in the order they were made."""

    staging: Path
    add_columns: list[str] = field(default_factory=list)
    # ("append", _SparkAppend) or ("sql", (statement, params))
    steps: list[tuple[str, Any]] = field(default_factory=list)
    appends: dict[str, _SparkAppend] = field(default_factory=dict)

    def append(self, target: str) -> _SparkAppend:
        if target not in self.appends:
            directory = self.staging / f"t{len(self.appends):03d}"
            self.appends[target] = _SparkAppend(target, directory)
            self.steps.append(("append", self.appends[target]))
        return self.appends[target]

    def discard(self) -> None:
        for append in self.appends.values():
            append.close()
        shutil.rmtree(self.staging, ignore_errors=True)


def _spark_batch(batch: pa.Table) -> pa.Table:
    """A batch Spark reads back exactly: timestamps as UTC instants in microseconds (naive
    values are UTC throughout the project), dictionaries decoded, and all-null columns dropped
    (the insert names its columns, so a missing one is null whatever the column's type; Spark
    would refuse to cast an untyped null column to e.g. timestamp)."""
    columns, names = [], []
    for name, column in zip(batch.column_names, batch.columns, strict=True):
        kind = column.type
        if pa.types.is_null(kind):
            continue
        if pa.types.is_dictionary(kind):
            column = column.cast(kind.value_type)
            kind = column.type
        if pa.types.is_timestamp(kind):
            column = column.cast(pa.timestamp("us", tz="UTC"), safe=False)
        elif pa.types.is_date64(kind):
            column = column.cast(pa.date32())
        columns.append(column)
        names.append(name)
    if not columns and batch.num_rows:
        raise ValueError("cannot append rows whose every column is null")
    return pa.table(columns, names=names)


def _naive_utc(table: pa.Table) -> pa.Table:
    """Spark hands timestamps over as UTC instants; the other engines return naive UTC."""
    for index, kind in enumerate(table.schema.types):
        if pa.types.is_timestamp(kind) and kind.tz is not None:
            column = table.column(index).cast(pa.timestamp(kind.unit, tz="UTC"))
            naive = column.cast(pa.timestamp(kind.unit))
            table = table.set_column(index, table.field(index).name, naive)
    return table


def _spark_args(params: Sequence[Any] | None) -> list[Any] | None:
    if not params:
        return None
    # A naive datetime is UTC here; PySpark would read it in the Python process's time zone.
    return [
        value.replace(tzinfo=UTC) if isinstance(value, datetime) and value.tzinfo is None else value
        for value in params
    ]


def _first_keyword(sql: str) -> str:
    match = re.match(r"\s*(?:--[^\n]*\n\s*)*(\w+)", sql)
    return match.group(1).lower() if match else ""


class SparkConnection(WarehouseConnection):
    """A Spark connection (``raw`` a SparkSession). Tables are Parquet: there are no
    transactions and no DELETE / UPDATE; see ``transaction()`` for what it promises here."""

    dialect = "spark"
    supports_row_changes = False

    def __init__(self, raw: Any, *, staging_dir: Path):
        super().__init__(raw)
        # Where appended batches are staged as Parquet before one insert reads them.
        self._staging_dir = staging_dir
        self._pending: _SparkWrites | None = None

    @classmethod
    @contextmanager
    def open(cls, settings: Settings, *, read_only: bool = False) -> Iterator[SparkConnection]:
        """The session is started for the block and stopped, JVM and all, when it ends
        (``read_only`` only checks that the warehouse exists: Spark has no read-only
        session). Blocks nested in one process share the session."""
        spark = settings.spark
        if read_only and not spark.metastore_dir.exists():
            raise FileNotFoundError(f"no Spark warehouse at {spark.dir}; run `leadscore run` first")
        spark.dir.mkdir(parents=True, exist_ok=True)
        with _spark_session(settings) as session:
            yield cls(session, staging_dir=spark.dir / "staging")

    # -- dialect ----------------------------------------------------------------------------

    def sql_type(self, name: str) -> str:
        return _SPARK_TYPES.get(name.strip().lower(), name)

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        constraints: Sequence[str] = (),
    ) -> None:
        """Spark's Parquet tables take no constraints: they are left out."""
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        definitions = [
            f"{quote_ident(name)} {self.sql_type(_CONSTRAINT.sub('', kind))}"
            for name, kind in columns
        ]
        self.execute(
            f"create table if not exists {target} ({', '.join(definitions)}) using parquet"
        )

    def add_columns(self, schema: str, table: str, columns: Sequence[tuple[str, str]]) -> None:
        """Inside a ``transaction()`` this waits for the end of the block, like the writes."""
        if not columns:
            return
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        definitions = ", ".join(
            f"{quote_ident(name)} {self.sql_type(kind)}" for name, kind in columns
        )
        statement = f"alter table {target} add columns ({definitions})"
        if self._pending is not None:
            self._pending.add_columns.append(statement)
        else:
            self._raw.sql(statement)

    def empty_table(self, schema: str, table: str) -> None:
        """``truncate table``; inside ``transaction()`` the table's appends of the block
        replace its rows instead (one ``insert overwrite`` when the block ends)."""
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        if self._pending is not None:
            self._pending.append(target).overwrite = True
        else:
            self._raw.sql(f"truncate table {target}")

    # -- SQL --------------------------------------------------------------------------------

    def _check(self, sql: str) -> str:
        keyword = _first_keyword(sql)
        if keyword in ("delete", "update", "merge"):
            raise RowChangesUnsupportedError(
                f"{keyword.upper()} is not supported on the spark target: its tables are "
                "Parquet files, which cannot change rows in place (that needs Delta Lake)"
            )
        return keyword

    def _arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        self._check(sql)
        return _naive_utc(self._raw.sql(sql, args=_spark_args(params)).toArrow())

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        if self._check(sql) == "insert" and self._pending is not None:
            self._pending.steps.append(("sql", (sql, params)))
        else:
            self._raw.sql(sql, args=_spark_args(params))

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return arrow_rows(self._arrow(sql, params))

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        table = self._arrow(sql, params)
        return dict_rows(table.column_names, arrow_rows(table))

    def fetch_arrow(self, sql: str) -> pa.Table:
        return self._arrow(sql)

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Spark has no transactions. The block's writes are deferred instead:
        ``append_arrow`` batches (staged as Parquet files), ``insert`` statements passed to
        ``execute``, ``add_columns`` and ``empty_table`` are recorded, and written only when
        the block ends without an error: first the added columns, then one insert job per
        target table (its batches read together; ``insert overwrite`` after
        ``empty_table``) and the insert statements, in the order the block made them. A block
        that raises writes nothing. Other statements (DDL, reads) run at once, and reads inside
        the block do not see its own writes. Writing the deferred steps is not atomic: should
        Spark fail half way through them (e.g. a full disk), the earlier steps stay written;
        put the bookkeeping (a manifest row) last, as the ingest does. A nested block joins the
        outer one."""
        if self._pending is not None:
            yield
            return
        self._staging_dir.mkdir(parents=True, exist_ok=True)
        pending = _SparkWrites(Path(tempfile.mkdtemp(prefix="tx-", dir=self._staging_dir)))
        self._pending = pending
        try:
            yield
        except BaseException:
            self._pending = None
            pending.discard()
            raise
        self._pending = None
        try:
            self._flush(pending)
        finally:
            pending.discard()

    def _flush(self, pending: _SparkWrites) -> None:
        for statement in pending.add_columns:
            self._raw.sql(statement)
        for kind, step in pending.steps:
            if kind == "sql":
                statement, params = step
                self._raw.sql(statement, args=_spark_args(params))
            else:
                self._insert(step)

    def _insert(self, append: _SparkAppend) -> None:
        """One insert job for every batch staged for a table (by column name: the table's
        columns missing from the batches are null)."""
        paths = append.close()
        if not paths:
            if append.overwrite:
                self._raw.sql(f"truncate table {append.target}")
            return
        frames = [self._raw.read.parquet(str(path)) for path in paths]
        frame = reduce(lambda a, b: a.unionByName(b, allowMissingColumns=True), frames)
        view = f"_leadscore_append_{uuid.uuid4().hex[:12]}"
        frame.createOrReplaceTempView(view)
        try:
            columns = ", ".join(quote_ident(name) for name in frame.columns)
            verb = "insert overwrite table" if append.overwrite else "insert into"
            self._raw.sql(
                f"{verb} {append.target} ({columns}) select {columns} from {quote_ident(view)}"
            )
        finally:
            self._raw.catalog.dropTempView(view)

    def column_types(self, schema: str, table: str) -> dict[str, str]:
        name = f"{_backtick(schema)}.{_backtick(table)}"
        if not self._raw.catalog.tableExists(name):
            return {}
        return {column: kind.lower() for column, kind in self._raw.table(name).dtypes}

    def append_arrow(self, schema: str, table: str, batch: pa.Table) -> None:
        """Inside ``transaction()`` the batch is staged and written when the block ends."""
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        if self._pending is not None:
            append = self._pending.append(target)
            if batch.num_rows:
                append.add(_spark_batch(batch))
            return
        with self.transaction():
            self.append_arrow(schema, table, batch)


class _SparkProcess:
    """The one Spark session (and JVM) of this process, shared by nested ``connect`` blocks
    and stopped, JVM included, when the outermost one ends."""

    lock = threading.Lock()
    session: Any = None
    config: dict[str, str] | None = None
    users = 0


def _start_spark(config: dict[str, str]) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as error:
        raise ImportError(
            f"the spark target needs PySpark and dbt-spark: {SPARK_INSTALL_HINT} (and Java 17)"
        ) from error
    builder = SparkSession.builder.enableHiveSupport()
    for key, value in config.items():
        builder = builder.config(key, value)
    with warnings.catch_warnings():
        # PySpark's type converters import its test helpers, which warn about pandas 3; this
        # module never hands Spark a pandas object.
        warnings.filterwarnings("ignore", message="PySpark does not yet fully support pandas")
        session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    try:
        # Every failing query is raised in Python already; Spark would log it again.
        jvm = session.sparkContext._jvm
        log4j = jvm.org.apache.logging.log4j
        log4j.core.config.Configurator.setLevel("SQLQueryContextLogger", log4j.Level.OFF)
    except Exception:  # a logging backend other than log4j 2: keep Spark's default
        pass
    return session


def _stop_spark(session: Any) -> None:
    """Stop the session and shut its JVM down, so that Derby's lock on the metastore is
    released before a dbt subprocess (with a JVM of its own) opens it."""
    from pyspark import SparkContext
    from pyspark.sql import SparkSession

    gateway = session.sparkContext._gateway
    try:
        session.stop()
    finally:
        gateway.shutdown()
        process = getattr(gateway, "proc", None)  # None when PySpark did not launch the JVM
        if process is not None:
            process.stdin.close()  # PySpark's JVM exits when its stdin closes
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()  # our own child; Derby's lock must not outlive the block
                process.wait()
        SparkContext._gateway = None
        SparkContext._jvm = None
        SparkSession._instantiatedSession = None
        SparkSession._activeSession = None


@contextmanager
def _spark_session(settings: Settings) -> Iterator[Any]:
    config = {**settings.spark_config(), **SPARK_PYTHON_SESSION_CONFIG}
    with _SparkProcess.lock:
        if _SparkProcess.users == 0:
            session = _start_spark(config)
            try:
                # The metastore is opened lazily; open it now, so that a catalog held by
                # another JVM fails here, with a message that says so.
                session.sql("show schemas").collect()
            except Exception as error:
                _stop_spark(session)
                raise RuntimeError(
                    f"cannot open the Spark metastore {settings.spark.metastore_dir}: Derby "
                    "admits one JVM at a time; is a dbt run or another leadscore process using "
                    f"it? ({str(error).splitlines()[0][:300]})"
                ) from error
            _SparkProcess.session, _SparkProcess.config = session, config
        elif _SparkProcess.config != config:
            raise RuntimeError(
                "a Spark session with another configuration is open in this process; close "
                "it before connecting to a different Spark warehouse"
            )
        _SparkProcess.users += 1
    try:
        yield _SparkProcess.session
    finally:
        with _SparkProcess.lock:
            _SparkProcess.users -= 1
            if _SparkProcess.users == 0:
                session, _SparkProcess.session, _SparkProcess.config = (
                    _SparkProcess.session,
                    None,
                    None,
                )
                _stop_spark(session)
