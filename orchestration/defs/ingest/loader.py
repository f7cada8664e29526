"""Load landing files (CSV and Parquet) into the raw schema, once each, all or nothing.

Layout: ``<landing>/<raw table>/**/*.csv|*.parquet``, and export folders: a top-level folder
that is not a raw table's and holds a ``mapping.yml`` (``orchestration.onboarding``; see
``docs/onboarding.md``), whose files are read with that mapping and loaded as one part per raw
table the mapping writes (``<file>#<raw table>``). Every value is loaded as text: typing is
staging's job, where a value that does not parse becomes a quarantined row with a reason
instead of a failed load. A manifest keyed by (path, content hash) makes loads idempotent, and
each file is loaded inside one transaction, so a malformed file leaves nothing behind (on
Spark, which has no transactions, the file's rows and its manifest row are written only after
the whole file was read; see ``WarehouseConnection.transaction``).
"""

from __future__ import annotations

import csv
import hashlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from orchestration.defs.ingest.contract import (
    LINEAGE_COLUMNS,
    MANIFEST_TABLE,
    RAW_CONTRACT,
    SUPPORTED_SUFFIXES,
    normalise_column_name,
)
from orchestration.lib.warehouse import WarehouseConnection, quote_ident
from orchestration.onboarding.mapping import (
    MAPPING_FILE_NAME,
    MappingError,
    declared_tables,
    load_mapping,
)
from orchestration.onboarding.transform import ExportFile, ExportReadError, open_export_file
from orchestration.privacy.erasure import drop_erased_rows, erased_hashes

CSV_BLOCK_BYTES = 16 << 20
PARQUET_BATCH_ROWS = 256_000
HASH_CHUNK_BYTES = 8 << 20

Log = Callable[[str], None]


class MalformedFileError(ValueError):
    """A landing file that cannot be loaded; the message names the file and the problem."""

    def __init__(self, path: str, problem: str):
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


class IngestFailedError(RuntimeError):
    """Raised after every good file was loaded, when at least one file was malformed."""

    def __init__(self, report: IngestReport):
        failures = [load for load in report.loads if load.status == "failed"]
        lines = [f"  - {load.error}" for load in failures]
        super().__init__(
            f"{len(failures)} landing file(s) could not be loaded and were skipped; "
            "fix or remove them and run again:\n" + "\n".join(lines)
        )
        self.report = report


@dataclass(frozen=True)
class FileLoad:
    table: str
    path: str
    status: str  # loaded | skipped (already in the manifest) | failed
    rows: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    loads: list[FileLoad] = field(default_factory=list)
    ignored_paths: list[str] = field(default_factory=list)

    def for_table(self, table: str) -> list[FileLoad]:
        return [load for load in self.loads if load.table == table]

    def rows_loaded(self, table: str) -> int:
        return sum(load.rows for load in self.for_table(table) if load.status == "loaded")

    def count(self, table: str, status: str) -> int:
        return sum(1 for load in self.for_table(table) if load.status == status)

    @property
    def failed(self) -> bool:
        return any(load.status == "failed" for load in self.loads)


def file_sha256(path: Path, suffix: bytes = b"") -> str:
    """SHA-256 of the file's bytes followed by ``suffix``."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK_BYTES):
            digest.update(chunk)
    digest.update(suffix)
    return digest.hexdigest()


def export_sha256(path: Path, mapping_bytes: bytes) -> str:
    """The hash of an export file's parts: its bytes, then its mapping file's bytes (so an
    edited mapping loads the file again, as a new version)."""
    return file_sha256(path, mapping_bytes)


@dataclass(frozen=True)
class ExportFolder:
    """A top-level landing folder that is not a raw table's and holds a mapping file."""

    name: str
    path: Path
    mapping: Path
    files: list[Path]  # every .csv / .parquet under the folder, sorted by path


def discover_exports(landing_dir: Path) -> dict[str, ExportFolder]:
    """Export folders by name (sorted): ``<landing>/<name>/mapping.yml`` where ``<name>`` is
    not a raw table, with every .csv / .parquet file under the folder (recursively; hidden
    files and folders left out)."""
    exports: dict[str, ExportFolder] = {}
    if not landing_dir.is_dir():
        return exports
    for folder in sorted(p for p in landing_dir.iterdir() if p.is_dir()):
        mapping = folder / MAPPING_FILE_NAME
        if folder.name in RAW_CONTRACT or folder.name.startswith(".") or not mapping.is_file():
            continue
        files = sorted(
            path
            for path in folder.rglob("*")
            if path.is_file()
            and path.suffix.lower() in SUPPORTED_SUFFIXES
            and not any(part.startswith(".") for part in path.relative_to(folder).parts)
        )
        exports[folder.name] = ExportFolder(folder.name, folder, mapping, files)
    return exports


def discover(landing_dir: Path) -> tuple[dict[str, list[Path]], list[str]]:
    """Files per raw table, sorted by path, and the paths that belong to no raw table and
    are not a file or the mapping of an export folder (``discover_exports``)."""
    found: dict[str, list[Path]] = {table: [] for table in RAW_CONTRACT}
    ignored: list[str] = []
    if not landing_dir.exists():
        return found, ignored
    exports = discover_exports(landing_dir)
    owned = {path for export in exports.values() for path in (export.mapping, *export.files)}
    for path in sorted(p for p in landing_dir.rglob("*") if p.is_file()):
        relative = path.relative_to(landing_dir)
        if path.name.startswith(".") or path in owned:
            continue
        table = relative.parts[0] if len(relative.parts) > 1 else None
        if table in found and path.suffix.lower() in SUPPORTED_SUFFIXES:
            found[table].append(path)
        else:
            ignored.append(relative.as_posix())
    return found, ignored


def landing_file_count(landing_dir: Path) -> int:
    """How many files the loader would read: raw-table files and export files."""
    files, _ = discover(landing_dir)
    exports = discover_exports(landing_dir)
    return sum(map(len, files.values())) + sum(len(export.files) for export in exports.values())


def _normalised_names(path: str, names: list[str], table: str) -> list[str]:
    normalised = [normalise_column_name(name) for name in names]
    reserved = {name for name, _ in LINEAGE_COLUMNS}
    for position, (original, name) in enumerate(zip(names, normalised, strict=True), start=1):
        if not name:
            raise MalformedFileError(path, f"column {position} ({original!r}) has no usable name")
        if name in reserved:
            raise MalformedFileError(path, f"column {original!r} uses a reserved lineage name")
    duplicates = sorted({name for name in normalised if normalised.count(name) > 1})
    if duplicates:
        raise MalformedFileError(path, f"duplicate column(s) {', '.join(duplicates)}")
    missing = [column for column in RAW_CONTRACT[table] if column not in normalised]
    if missing:
        raise MalformedFileError(
            path,
            f"missing required column(s) {', '.join(missing)} of the raw contract for {table}",
        )
    return normalised


def _first_ragged_line(path: Path, expected: int) -> int | None:
    """Line number of the first record whose field count is off (the streaming reader
    does not report it); only runs on the failure path."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        for record in reader:
            if record and len(record) != expected:
                return reader.line_num
    return None


def _read_csv(path: Path, label: str, table: str) -> tuple[list[str], Iterator[pa.Table]]:
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        try:
            header = next(csv.reader(handle), None)
        except (csv.Error, UnicodeDecodeError) as exc:
            raise MalformedFileError(label, f"unreadable header row ({exc})") from None
    if not header:
        raise MalformedFileError(label, "file is empty: no header row")
    names = _normalised_names(label, header, table)
    placeholders = [f"c{i}" for i in range(len(names))]
    bad_rows: list[str] = []

    def on_invalid_row(row: pa_csv.InvalidRow) -> str:
        # The row's text may hold personal data, so only its position and shape are reported.
        line = row.number or _first_ragged_line(path, row.expected_columns)
        where = f"line {line}" if line else "a row"
        bad_rows.append(
            f"{where} has {row.actual_columns} fields, the header has {row.expected_columns}"
        )
        return "skip"

    def batches() -> Iterator[pa.Table]:
        try:
            reader = pa_csv.open_csv(
                path,
                read_options=pa_csv.ReadOptions(
                    column_names=placeholders, skip_rows=1, block_size=CSV_BLOCK_BYTES
                ),
                parse_options=pa_csv.ParseOptions(invalid_row_handler=on_invalid_row),
                convert_options=pa_csv.ConvertOptions(
                    column_types={name: pa.string() for name in placeholders},
                    null_values=[""],
                    strings_can_be_null=True,
                ),
            )
            for batch in reader:
                if bad_rows:
                    break
                yield pa.Table.from_batches([batch]).rename_columns(names)
        except pa.ArrowInvalid as exc:
            raise MalformedFileError(label, f"not a readable CSV file ({exc})") from None
        if bad_rows:
            raise MalformedFileError(label, bad_rows[0])

    return names, batches()


def _as_text(column: pa.ChunkedArray, label: str, name: str) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_string(kind):
        return column
    if pa.types.is_nested(kind):
        raise MalformedFileError(label, f"column {name} has nested type {kind}, not supported")
    if pa.types.is_dictionary(kind):
        return _as_text(column.cast(kind.value_type), label, name)
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        # Stored in UTC already; re-labelling makes the text form UTC with a trailing Z.
        column = column.cast(pa.timestamp(kind.unit, tz="UTC"))
    return column.cast(pa.string())


def _read_parquet(path: Path, label: str, table: str) -> tuple[list[str], Iterator[pa.Table]]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise MalformedFileError(label, f"not a readable Parquet file ({exc})") from None
    names = _normalised_names(label, parquet.schema_arrow.names, table)

    def batches() -> Iterator[pa.Table]:
        try:
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                data = pa.Table.from_batches([batch])
                columns = [
                    _as_text(data.column(i), label, names[i]) for i in range(data.num_columns)
                ]
                yield pa.table(columns, names=names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise MalformedFileError(label, f"Parquet data cannot be read ({exc})") from None

    return names, batches()


def read_landing_file(path: Path, label: str, table: str) -> tuple[list[str], Iterator[pa.Table]]:
    """Column names (normalised) and an iterator of all-text Arrow batches for one file."""
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, label, table)
    return _read_csv(path, label, table)


# The manifest's columns; Spark's Parquet tables take no constraints, so there the load's
# own check of (path, hash) is all that keeps a file from loading twice.
MANIFEST_COLUMNS = (
    ("file_id", "bigint not null unique"),
    ("file_path", "varchar not null"),
    ("content_sha256", "varchar not null"),
    ("table_name", "varchar not null"),
    ("row_count", "bigint not null"),
    ("file_bytes", "bigint not null"),
    ("loaded_at", "timestamp not null"),
)


def ensure_raw_schema(conn: WarehouseConnection, schema: str) -> None:
    """Create the raw schema, every contract table and the manifest if they do not exist yet."""
    conn.execute(f"create schema if not exists {quote_ident(schema)}")
    for table, columns in RAW_CONTRACT.items():
        conn.create_table(
            schema, table, [(column, "varchar") for column in columns] + list(LINEAGE_COLUMNS)
        )
    conn.create_table(
        schema,
        MANIFEST_TABLE,
        MANIFEST_COLUMNS,
        constraints=["primary key (file_path, content_sha256)"],
    )


def _loaded_keys(conn: WarehouseConnection, schema: str) -> set[tuple[str, str]]:
    manifest = f"{quote_ident(schema)}.{MANIFEST_TABLE}"
    rows = conn.fetchall(f"select file_path, content_sha256 from {manifest}")
    return {(path, digest) for path, digest in rows}


def _load_file(
    conn: WarehouseConnection,
    schema: str,
    table: str,
    path: Path,
    label: str,
    digest: str,
    loaded_at: datetime,
    log: Log = print,
) -> int:
    names, batches = read_landing_file(path, label, table)
    return _write_part(
        conn, schema, table, names, batches, label, digest, path.stat().st_size, loaded_at, log
    )


def _write_part(
    conn: WarehouseConnection,
    schema: str,
    table: str,
    names: list[str],
    batches: Iterator[pa.Table],
    label: str,
    digest: str,
    file_bytes: int,
    loaded_at: datetime,
    log: Log = print,
) -> int:
    """Append ``batches`` (columns ``names``) to ``table`` with lineage, and the manifest row,
    in one transaction; returns the rows written. Rows of people who were forgotten
    (``orchestration.privacy``) are not loaded again: they are counted and said, never
    named."""
    manifest = f"{quote_ident(schema)}.{MANIFEST_TABLE}"
    forgotten = erased_hashes(conn, schema)
    dropped = 0
    with conn.transaction():
        existing = set(conn.table_columns(schema, table))
        conn.add_columns(
            schema, table, [(name, "varchar") for name in names if name not in existing]
        )
        file_id = conn.fetchall(f"select coalesce(max(file_id), 0) + 1 from {manifest}")[0][0]
        rows = 0
        for batch in batches:
            batch, erased = drop_erased_rows(batch, forgotten)
            dropped += erased
            count = batch.num_rows
            lineage = {
                "_file_id": pa.array([file_id] * count, pa.int64()),
                "_source_file": pa.array([label] * count, pa.string()),
                "_source_row": pa.array(range(rows + 1, rows + count + 1), pa.int64()),
                "_loaded_at": pa.array([loaded_at] * count, pa.timestamp("us")),
            }
            for name, values in lineage.items():
                batch = batch.append_column(name, values)
            conn.append_arrow(schema, table, batch)
            rows += count
        p = conn.placeholder
        conn.execute(
            f"insert into {manifest} (file_id, file_path, content_sha256, table_name, row_count, "
            f"file_bytes, loaded_at) values ({p}, {p}, {p}, {p}, {p}, {p}, {p})",
            [file_id, label, digest, table, rows, file_bytes, loaded_at],
        )
    if dropped:
        log(
            f"{label}: {dropped:,} row(s) of people who were forgotten were not loaded "
            f"({schema}._erasure_log)"
        )
    return rows


def ingest_landing(
    conn: WarehouseConnection,
    landing_dir: Path,
    schema: str,
    *,
    tables: list[str] | None = None,
    log: Log = print,
    raise_on_failure: bool = True,
) -> IngestReport:
    """Load every new landing file of ``tables`` (default: all raw tables) into ``schema``."""
    selected = list(RAW_CONTRACT) if tables is None else tables
    unknown = [table for table in selected if table not in RAW_CONTRACT]
    if unknown:
        raise ValueError(f"not raw tables of the contract: {', '.join(unknown)}")
    loaded_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with conn.transaction():
        ensure_raw_schema(conn, schema)
    already = _loaded_keys(conn, schema)
    files, ignored = discover(landing_dir)
    report = IngestReport(ignored_paths=ignored)
    for path in ignored:
        log(f"ignored {path}: not a .csv/.parquet file under a raw table folder or export folder")
    for table in selected:
        for index, path in enumerate(files[table], start=1):
            label = path.relative_to(landing_dir).as_posix()
            digest = file_sha256(path)
            if (label, digest) in already:
                report.loads.append(FileLoad(table, label, "skipped"))
                continue
            try:
                rows = _load_file(conn, schema, table, path, label, digest, loaded_at, log)
            except MalformedFileError as exc:
                log(f"FAILED {exc}")
                report.loads.append(FileLoad(table, label, "failed", error=str(exc)))
                continue
            already.add((label, digest))
            report.loads.append(FileLoad(table, label, "loaded", rows=rows))
            log(f"{table}: loaded {rows:,} rows from {label} ({index}/{len(files[table])})")
    for export in discover_exports(landing_dir).values():
        _ingest_export(conn, schema, landing_dir, export, selected, already, loaded_at, report, log)
    if raise_on_failure and report.failed:
        raise IngestFailedError(report)
    return report


def _display_path(path: Path) -> str:
    """How messages name a file: relative to the working directory when under it."""
    try:
        return os.path.relpath(path) if path.is_relative_to(Path.cwd()) else str(path)
    except ValueError:
        return str(path)


def _ingest_export(
    conn: WarehouseConnection,
    schema: str,
    landing_dir: Path,
    export: ExportFolder,
    selected: list[str],
    already: set[tuple[str, str]],
    loaded_at: datetime,
    report: IngestReport,
    log: Log,
) -> None:
    """Load the new parts (file x selected raw table) of one export folder. A mapping that
    does not validate fails the folder; a file that cannot be read fails that file; the
    other parts still load."""
    mapping_label = _display_path(export.mapping)
    try:
        mapping = load_mapping(export.mapping, label=mapping_label)
    except MappingError as exc:
        declared = declared_tables(export.mapping) or list(RAW_CONTRACT)
        hit = [table for table in selected if table in declared]
        if hit:  # a mapping of tables outside the selection waits for their run
            log(f"FAILED {exc}")
            path = export.mapping.relative_to(landing_dir).as_posix()
            report.loads.append(FileLoad(hit[0], path, "failed", error=str(exc)))
        return
    tables = [table for table in mapping.tables if table in selected]
    for path in export.files:
        relative = path.relative_to(landing_dir).as_posix()
        digest = export_sha256(path, mapping.raw)
        source: ExportFile | None = None
        for table in tables:
            label = f"{relative}#{table}"
            if (label, digest) in already:
                report.loads.append(FileLoad(table, label, "skipped"))
                continue
            try:
                source = source or open_export_file(path, mapping, label=relative)
            except (MappingError, ExportReadError) as exc:  # the file as a whole: reported once
                log(f"FAILED {exc}")
                report.loads.append(FileLoad(table, relative, "failed", error=str(exc)))
                break
            try:
                rows = _load_export_part(conn, schema, table, source, label, digest, loaded_at, log)
            except MappingError as exc:
                log(f"FAILED {exc}")
                report.loads.append(FileLoad(table, label, "failed", error=str(exc)))
                continue
            except ExportReadError as exc:  # the other tables would fail to read it too
                log(f"FAILED {exc}")
                report.loads.append(FileLoad(table, label, "failed", error=str(exc)))
                break
            already.add((label, digest))
            report.loads.append(FileLoad(table, label, "loaded", rows=rows))
            log(f"{table}: loaded {rows:,} rows from {label} (export {export.name})")


def _load_export_part(
    conn: WarehouseConnection,
    schema: str,
    table: str,
    source: ExportFile,
    label: str,
    digest: str,
    loaded_at: datetime,
    log: Log = print,
) -> int:
    names = source.columns(table)
    return _write_part(
        conn,
        schema,
        table,
        names,
        source.batches(table),
        label,
        digest,
        source.path.stat().st_size,
        loaded_at,
        log,
    )
