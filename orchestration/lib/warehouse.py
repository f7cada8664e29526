"""The one way Python code talks to the warehouse (DuckDB, PostgreSQL or Apache Spark).

DuckDB allows a single writer per file: callers open a connection for the duration of one
unit of work and close it before dbt runs, and readers that run after dbt use
``read_only=True``. Spark's embedded Derby metastore allows a single JVM: the Python session
lives exactly as long as the ``connect`` block and its JVM is shut down when the block ends,
so that a dbt subprocess (which starts a JVM of its own) can open the catalog afterwards.
Everything that differs between the engines lives here.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import subprocess
import tempfile
import threading
import time
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
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from orchestration.lib.settings import Settings

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


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _backtick(name: str) -> str:
    """Spark's own identifier quoting (the catalog API does not read double quotes)."""
    return "`" + name.replace("`", "``") + "`"


def supports_row_changes(dialect: str) -> bool:
    """Whether the engine's tables can DELETE / UPDATE rows: not Spark's Parquet tables."""
    return dialect != "spark"


class RowChangesUnsupportedError(RuntimeError):
    """DELETE / UPDATE / MERGE on a warehouse whose tables cannot change rows in place."""


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


def _arrow_rows(table: pa.Table) -> list[tuple]:
    """Rows as tuples, by position (names in a result may repeat)."""
    return list(zip(*(column.to_pylist() for column in table.columns), strict=True))


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


class WarehouseConnection:
    """A thin, engine-neutral connection: SQL, transactions, column lookup and bulk append.

    On Spark (``dialect == "spark"``, ``raw`` a SparkSession) tables are Parquet: there are no
    transactions and no DELETE / UPDATE; see ``transaction()`` for what it promises there."""

    def __init__(self, dialect: str, raw: Any, *, staging_dir: Path | None = None):
        self.dialect = dialect
        self._raw = raw
        # Spark: where appended batches are staged as Parquet before one insert reads them.
        self._staging_dir = staging_dir
        self._pending: _SparkWrites | None = None

    # -- dialect ----------------------------------------------------------------------------

    @property
    def supports_row_changes(self) -> bool:
        """Whether tables can DELETE / UPDATE rows (not Spark's Parquet tables)."""
        return supports_row_changes(self.dialect)

    @property
    def text_type(self) -> str:
        return self.sql_type("varchar")

    def sql_type(self, name: str) -> str:
        """The engine's spelling of a portable column type (varchar, double precision, ...)."""
        if self.dialect == "spark":
            return _SPARK_TYPES.get(name.strip().lower(), name)
        return name

    def create_table(
        self,
        schema: str,
        table: str,
        columns: Sequence[tuple[str, str]],
        constraints: Sequence[str] = (),
    ) -> None:
        """``create table if not exists``. Column types are portable names, optionally with
        ``not null`` / ``unique`` / ``primary key``; ``constraints`` are table constraints.
        Spark's Parquet tables take no constraints, so on Spark they are left out."""
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        if self.dialect == "spark":
            definitions = [
                f"{quote_ident(name)} {self.sql_type(_CONSTRAINT.sub('', kind))}"
                for name, kind in columns
            ]
            self.execute(
                f"create table if not exists {target} ({', '.join(definitions)}) using parquet"
            )
            return
        definitions = [f"{quote_ident(name)} {kind}" for name, kind in columns]
        definitions += list(constraints)
        self.execute(f"create table if not exists {target} ({', '.join(definitions)})")

    def add_columns(self, schema: str, table: str, columns: Sequence[tuple[str, str]]) -> None:
        """Add nullable columns. Inside a Spark ``transaction()`` this waits for the end of
        the block, like the writes (DuckDB and PostgreSQL roll it back on failure)."""
        if not columns:
            return
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        if self.dialect == "spark":
            definitions = ", ".join(
                f"{quote_ident(name)} {self.sql_type(kind)}" for name, kind in columns
            )
            statement = f"alter table {target} add columns ({definitions})"
            if self._pending is not None:
                self._pending.add_columns.append(statement)
            else:
                self._raw.sql(statement)
            return
        for name, kind in columns:
            self.execute(f"alter table {target} add column {quote_ident(name)} {kind}")

    def empty_table(self, schema: str, table: str) -> None:
        """Remove every row. DuckDB / PostgreSQL: ``delete from`` (transactional). Spark:
        ``truncate table``; inside ``transaction()`` the table's appends of the block replace
        its rows instead (one ``insert overwrite`` when the block ends)."""
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        if self.dialect != "spark":
            self.execute(f"delete from {target}")
        elif self._pending is not None:
            self._pending.append(target).overwrite = True
        else:
            self._raw.sql(f"truncate table {target}")

    # -- SQL --------------------------------------------------------------------------------

    def _spark_check(self, sql: str) -> str:
        keyword = _first_keyword(sql)
        if keyword in ("delete", "update", "merge"):
            raise RowChangesUnsupportedError(
                f"{keyword.upper()} is not supported on the spark target: its tables are "
                "Parquet files, which cannot change rows in place (that needs Delta Lake)"
            )
        return keyword

    def _spark_arrow(self, sql: str, params: Sequence[Any] | None = None) -> pa.Table:
        self._spark_check(sql)
        return _naive_utc(self._raw.sql(sql, args=_spark_args(params)).toArrow())

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        if self.dialect == "spark":
            if self._spark_check(sql) == "insert" and self._pending is not None:
                self._pending.steps.append(("sql", (sql, params)))
            else:
                self._raw.sql(sql, args=_spark_args(params))
        elif self.dialect == "duckdb":
            self._raw.execute(sql, params or [])
        else:
            with self._raw.cursor() as cur:
                cur.execute(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        if self.dialect == "spark":
            return _arrow_rows(self._spark_arrow(sql, params))
        if self.dialect == "duckdb":
            return self._raw.execute(sql, params or []).fetchall()
        with self._raw.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()

    def fetch_dicts(self, sql: str, params: Sequence[Any] | None = None) -> list[dict[str, Any]]:
        if self.dialect == "spark":
            table = self._spark_arrow(sql, params)
            names = table.column_names
            return [dict(zip(names, row, strict=True)) for row in _arrow_rows(table)]
        if self.dialect == "duckdb":
            result = self._raw.execute(sql, params or [])
            names = [column[0] for column in result.description]
            return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
        with self._raw.cursor() as cur:
            cur.execute(sql, params)
            names = [column.name for column in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def fetch_arrow(self, sql: str) -> pa.Table:
        """A query's result as an Arrow table (for Parquet exports and reports)."""
        if self.dialect == "spark":
            return self._spark_arrow(sql)
        if self.dialect == "duckdb":
            # A relation converts straight to Arrow (a DB-API result would copy the rows once
            # more); DuckDB 2 renamed fetch_arrow_table to to_arrow_table.
            relation = self._raw.sql(sql)
            to_arrow = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
            return to_arrow()
        with self._raw.cursor() as cur:
            cur.execute(sql)
            names = [column.name for column in cur.description]
            rows = cur.fetchall()
        return pa.table({name: [row[i] for row in rows] for i, name in enumerate(names)})

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing: used so that a failing file load leaves no partial rows behind.

        Spark has no transactions. There the block's writes are deferred instead:
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
        if self.dialect == "spark":
            if self._pending is not None:
                yield
                return
            if self._staging_dir is None:
                raise RuntimeError("a Spark connection needs a staging directory")
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
                self._spark_flush(pending)
            finally:
                pending.discard()
            return
        if self.dialect == "duckdb":
            self._raw.execute("begin transaction")
            try:
                yield
            except BaseException:
                self._raw.execute("rollback")
                raise
            self._raw.execute("commit")
        else:
            with self._raw.transaction():
                yield

    def _spark_flush(self, pending: _SparkWrites) -> None:
        for statement in pending.add_columns:
            self._raw.sql(statement)
        for kind, step in pending.steps:
            if kind == "sql":
                statement, params = step
                self._raw.sql(statement, args=_spark_args(params))
            else:
                self._spark_insert(step)

    def _spark_insert(self, append: _SparkAppend) -> None:
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

    def table_columns(self, schema: str, table: str) -> list[str]:
        """The table's columns in order; [] when it does not exist."""
        return list(self.column_types(schema, table))

    def column_types(self, schema: str, table: str) -> dict[str, str]:
        """The table's columns in order with their declared types, lower case; {} when it
        does not exist."""
        if self.dialect == "spark":
            name = f"{_backtick(schema)}.{_backtick(table)}"
            if not self._raw.catalog.tableExists(name):
                return {}
            return {column: kind.lower() for column, kind in self._raw.table(name).dtypes}
        placeholder = self.placeholder
        rows = self.fetchall(
            "select column_name, data_type from information_schema.columns "
            f"where table_schema = {placeholder} and table_name = {placeholder} "
            "order by ordinal_position",
            [schema, table],
        )
        return {column: str(kind).lower() for column, kind in rows}

    def append_arrow(self, schema: str, table: str, batch: pa.Table) -> None:
        """Append an Arrow table whose column names match columns of ``schema.table``; the
        table's other columns are null. On Spark inside ``transaction()`` the batch is staged
        and written when the block ends."""
        target = f"{quote_ident(schema)}.{quote_ident(table)}"
        if self.dialect == "spark":
            if self._pending is not None:
                append = self._pending.append(target)
                if batch.num_rows:
                    append.add(_spark_batch(batch))
                return
            with self.transaction():
                self.append_arrow(schema, table, batch)
            return
        columns = ", ".join(quote_ident(name) for name in batch.column_names)
        if self.dialect == "duckdb":
            self._raw.register("_leadscore_append", batch)
            try:
                self._raw.execute(
                    f"insert into {target} ({columns}) select {columns} from _leadscore_append"
                )
            finally:
                self._raw.unregister("_leadscore_append")
            return
        # Arrow writes null as an unquoted empty field and '' as "", which is exactly how
        # PostgreSQL's CSV COPY tells NULL from an empty string.
        buffer = io.BytesIO()
        pa_csv.write_csv(batch, buffer, pa_csv.WriteOptions(include_header=False))
        statement = f"copy {target} ({columns}) from stdin with (format csv)"
        with self._raw.cursor() as cur, cur.copy(statement) as copy:
            copy.write(buffer.getvalue())

    @property
    def placeholder(self) -> str:
        return "%s" if self.dialect == "postgres" else "?"


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


# The DuckDB settings connect() sets, by the keys of Settings.duckdb_config().
_DUCKDB_SETTINGS = {"memory_limit": "memory_limit", "threads": "threads"}
# DuckDB's refusal when another process holds the file, e.g. (DuckDB 1.x and 2.x):
# IO Error: Could not set lock on file "/data/warehouse.duckdb": Conflicting lock is held in
# /usr/bin/python3.11 (PID 4242) by user ann. See also https://duckdb.org/docs/...
_LOCK_REFUSED = "Could not set lock on file"
_LOCK_HOLDER = re.compile(r"Conflicting lock is held in (?P<program>.+?) \(PID (?P<pid>\d+)\)")
# Retries back off from the first to the last delay (seconds).
_LOCK_RETRY_DELAYS = (0.1, 1.0)
_log = logging.getLogger("leadscore.warehouse")


class WarehouseLockedError(RuntimeError):
    """Another process held the DuckDB file for longer than the lock timeout."""

    def __init__(self, path: Path, waited: float, program: str | None, pid: int | None):
        holder = f"{program} (PID {pid})" if pid is not None else "another process"
        super().__init__(
            f"the DuckDB file {path} is locked by {holder}; waited {waited:.0f} s "
            "(LEADSCORE_LOCK_TIMEOUT_SECONDS) for it to be released. Close that program's "
            "connection to the file (a BI tool, a notebook, another leadscore run), or raise "
            "LEADSCORE_LOCK_TIMEOUT_SECONDS, and run again"
        )
        self.path = path
        self.program = program
        self.pid = pid


def lock_holder(message: str) -> tuple[str | None, int | None] | None:
    """(program, PID) of the process holding the lock named in DuckDB's error message
    (either may be None when the message does not say); None when the error is not a lock
    held by another process."""
    if _LOCK_REFUSED not in message:
        return None
    match = _LOCK_HOLDER.search(message)
    if not match:
        return None, None
    return match["program"], int(match["pid"])


def _open_duckdb(settings: Settings, *, read_only: bool) -> Any:
    """``duckdb.connect`` that waits up to ``settings.lock_timeout_seconds`` while another
    process holds the file (a writer, or a reader such as a BI tool when we write), retrying
    with a short back-off; then raises ``WarehouseLockedError`` naming the holder."""
    import duckdb

    path = settings.duckdb_path
    started = time.monotonic()
    deadline = started + settings.lock_timeout_seconds
    delay = _LOCK_RETRY_DELAYS[0]
    said = False
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as error:
            holder = lock_holder(str(error))
            if holder is None:
                raise
            now = time.monotonic()
            if now >= deadline:
                raise WarehouseLockedError(path, now - started, *holder) from None
            if not said:
                program, pid = holder
                who = f"{program} (PID {pid})" if pid is not None else "another process"
                _log.warning(
                    f"the DuckDB file {path} is locked by {who}: waiting up to "
                    f"{settings.lock_timeout_seconds} s (LEADSCORE_LOCK_TIMEOUT_SECONDS)"
                )
                said = True
            time.sleep(min(delay, max(deadline - now, 0.0)))
            delay = min(delay * 2, _LOCK_RETRY_DELAYS[1])


@contextmanager
def connect(settings: Settings, *, read_only: bool = False) -> Iterator[WarehouseConnection]:
    """Open the configured warehouse; the connection is closed when the block ends.

    Spark: a local session with the Hive catalog (Derby), started for the block and stopped,
    JVM and all, when it ends (``read_only`` only checks that the warehouse exists: Spark has
    no read-only session). Blocks nested in one process share the session."""
    if settings.target == "spark":
        spark = settings.spark
        if read_only and not spark.metastore_dir.exists():
            raise FileNotFoundError(f"no Spark warehouse at {spark.dir}; run `leadscore run` first")
        spark.dir.mkdir(parents=True, exist_ok=True)
        with _spark_session(settings) as session:
            yield WarehouseConnection("spark", session, staging_dir=spark.dir / "staging")
        return
    if settings.target == "duckdb":
        if read_only and not settings.duckdb_path.exists():
            raise FileNotFoundError(
                f"no warehouse at {settings.duckdb_path}; run `leadscore run` first"
            )
        config = settings.duckdb_config()  # checked: a bad value fails before the file opens
        settings.duckdb_path.parent.mkdir(parents=True, exist_ok=True)
        raw = _open_duckdb(settings, read_only=read_only)
        try:
            # SET, not connect(config=...): DuckDB refuses a second connection to an open file
            # with a different configuration. The values are bound as parameters, never
            # spliced into the statement (and were validated by the settings).
            for name, value in config.items():
                raw.execute(f"set {_DUCKDB_SETTINGS[name]} = ?", [value])
        except BaseException:
            raw.close()
            raise
        try:
            yield WarehouseConnection("duckdb", raw)
        finally:
            raw.close()
        return

    import psycopg

    raw = psycopg.connect(settings.postgres.conninfo(), autocommit=True)
    try:
        if read_only:
            raw.execute("set default_transaction_read_only = on")
        yield WarehouseConnection("postgres", raw)
    finally:
        raw.close()
