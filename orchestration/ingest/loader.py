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

What the loader refuses or changes, each said in a message that names the file (and the line
or column; never a row's values): a CSV field over ``LEADSCORE_CSV_MAX_FIELD_BYTES``, text
that is not UTF-8, a Parquet column that cannot be read as text, a top-level folder that is
neither a raw table's nor an export folder (its files are not loaded; the run fails after the
other files loaded), and a file whose content was already loaded under another name (skipped,
with a warning). Timestamps with a UTC offset in the contract's timestamp columns are loaded
as UTC text (``TIMESTAMP_COLUMNS``).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from orchestration.ingest.contract import (
    LINEAGE_COLUMNS,
    MANIFEST_TABLE,
    RAW_CONTRACT,
    SUPPORTED_SUFFIXES,
    TIMESTAMP_COLUMNS,
    normalise_column_name,
)
from orchestration.lib.settings import DEFAULT_CSV_MAX_FIELD_BYTES
from orchestration.lib.warehouse import WarehouseConnection, quote_ident
from orchestration.onboarding.mapping import (
    MAPPING_FILE_NAME,
    MappingError,
    declared_tables,
    load_mapping,
)
from orchestration.onboarding.transform import ExportFile, ExportReadError, open_export_file
from orchestration.privacy.erasure import drop_erased_rows, erased_hashes

# Arrow reads a CSV file in blocks of this size, and a row must fit in one: a file with a
# longer row is read again with blocks of twice the field limit (plus this margin).
CSV_BLOCK_BYTES = 16 << 20
CSV_BLOCK_MARGIN_BYTES = 1 << 20
MAX_FIELD_ENV = "LEADSCORE_CSV_MAX_FIELD_BYTES"
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
        parts = []
        if failures:
            parts.append(
                f"{len(failures)} landing file(s) could not be loaded and were skipped; "
                "fix or remove them and run again:\n"
                + "\n".join(f"  - {load.error}" for load in failures)
            )
        if report.folder_errors:
            parts.append(
                f"{len(report.folder_errors)} folder(s) of the landing folder are neither a raw "
                "table's nor an export folder, and nothing in them was loaded:\n"
                + "\n".join(f"  - {error}" for error in report.folder_errors)
            )
        super().__init__("\n".join(parts))
        self.report = report


@dataclass(frozen=True)
class FileLoad:
    table: str
    path: str
    status: str  # loaded | skipped (already in the manifest, or duplicate_of) | failed
    rows: int = 0
    error: str | None = None
    # Skipped: the same content was already loaded from this other file.
    duplicate_of: str | None = None


@dataclass
class IngestReport:
    loads: list[FileLoad] = field(default_factory=list)
    ignored_paths: list[str] = field(default_factory=list)
    # Top-level landing folders that are neither a raw table's nor an export folder.
    folder_errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def for_table(self, table: str) -> list[FileLoad]:
        return [load for load in self.loads if load.table == table]

    def rows_loaded(self, table: str) -> int:
        return sum(load.rows for load in self.for_table(table) if load.status == "loaded")

    def count(self, table: str, status: str) -> int:
        return sum(1 for load in self.for_table(table) if load.status == status)

    @property
    def failed(self) -> bool:
        return bool(self.folder_errors) or any(load.status == "failed" for load in self.loads)


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


def unknown_folders(landing_dir: Path) -> list[str]:
    """Top-level folders of the landing folder (hidden ones left out) that are neither a raw
    table's nor an export folder (``discover_exports``): a typo such as ``crm_contcts``, or a
    folder whose mapping file is missing. Sorted."""
    if not landing_dir.is_dir():
        return []
    exports = discover_exports(landing_dir)
    return sorted(
        path.name
        for path in landing_dir.iterdir()
        if path.is_dir()
        and not path.name.startswith(".")
        and path.name not in RAW_CONTRACT
        and path.name not in exports
    )


def unknown_folder_error(name: str) -> str:
    """What is wrong with an unknown landing folder, and the folders the loader knows."""
    close = difflib.get_close_matches(name, list(RAW_CONTRACT), n=1)
    guess = f" (did you mean {close[0]}?)" if close else ""
    return (
        f"{name}/ is not a raw table's folder{guess} and has no {MAPPING_FILE_NAME} to make it "
        f"an export folder; the raw table folders are {', '.join(RAW_CONTRACT)}. Rename it, "
        f"add a {MAPPING_FILE_NAME} (docs/onboarding.md) or move it out of the landing folder"
    )


def _files_under(folder: Path) -> list[Path]:
    return [
        path
        for path in folder.rglob("*")
        if path.is_file()
        and path.suffix.lower() in SUPPORTED_SUFFIXES
        and not any(part.startswith(".") for part in path.relative_to(folder).parts)
    ]


def landing_file_count(landing_dir: Path) -> int:
    """How many files the loader would read: raw-table files, export files, and the data
    files of unknown folders (which fail the load, naming the folder, rather than pass for
    an empty landing folder)."""
    files, _ = discover(landing_dir)
    exports = discover_exports(landing_dir)
    unknown = sum(len(_files_under(landing_dir / name)) for name in unknown_folders(landing_dir))
    return (
        sum(map(len, files.values()))
        + sum(len(export.files) for export in exports.values())
        + unknown
    )


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
    with _large_csv_fields(), path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        for record in reader:
            if record and len(record) != expected:
                return reader.line_num
    return None


def not_utf8_problem(path: Path) -> str:
    """The first line of ``path`` that is not valid UTF-8 (failure path only)."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                return f"line {number} is not valid UTF-8: save the file as UTF-8"
    return "the file is not valid UTF-8 text: save the file as UTF-8"


def _size(count: float) -> str:
    if count >= 1 << 20:
        return f"{count / (1 << 20):,.1f} MiB"
    return f"{int(count):,} bytes"


@contextmanager
def _large_csv_fields() -> Iterator[None]:
    """Python's csv module refuses fields over 128 KiB by default; the failure-path scans
    read whatever Arrow read."""
    previous = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        yield
    finally:
        csv.field_size_limit(previous)


def _oversized_problem(path: Path, max_field_bytes: int, block_bytes: int) -> str:
    """The first record with a field over the limit, or else the first record too long for
    the reader's block (failure path only; names the line the record starts on)."""
    too_long: str | None = None
    with _large_csv_fields(), path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle)
        start = 1
        for record in reader:
            sizes = [len(value.encode()) for value in record]
            for position, size in enumerate(sizes, start=1):
                if size > max_field_bytes:
                    return (
                        f"line {start} has a field (column {position}) of {_size(size)}, over "
                        f"the limit of {_size(max_field_bytes)} ({MAX_FIELD_ENV})"
                    )
            if too_long is None and sum(sizes) + len(sizes) > block_bytes:
                too_long = (
                    f"line {start} is a row of {_size(sum(sizes))}, longer than the "
                    f"{_size(block_bytes)} the reader takes at once (twice {MAX_FIELD_ENV}); "
                    f"raise {MAX_FIELD_ENV}"
                )
            start = reader.line_num + 1
    return too_long or (
        f"a row is longer than the {_size(block_bytes)} the reader takes at once (twice "
        f"{MAX_FIELD_ENV}); raise {MAX_FIELD_ENV}"
    )


def _longest_field(batch: pa.RecordBatch) -> int:
    longest = 0
    for column in batch.columns:
        if len(column) and column.null_count < len(column):
            longest = max(longest, pc.max(pc.binary_length(column)).as_py() or 0)
    return longest


def _read_csv(
    path: Path, label: str, table: str, max_field_bytes: int = DEFAULT_CSV_MAX_FIELD_BYTES
) -> tuple[list[str], Iterator[pa.Table]]:
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except UnicodeDecodeError:
        raise MalformedFileError(label, not_utf8_problem(path)) from None
    except csv.Error as exc:
        raise MalformedFileError(label, f"unreadable header row ({exc})") from None
    if not header:
        raise MalformedFileError(label, "file is empty: no header row")
    names = _normalised_names(label, header, table)
    placeholders = [f"c{i}" for i in range(len(names))]
    timestamps = [i for i, name in enumerate(names) if name in TIMESTAMP_COLUMNS[table]]
    bad_rows: list[str] = []
    large_block = 2 * max_field_bytes + CSV_BLOCK_MARGIN_BYTES

    def on_invalid_row(row: pa_csv.InvalidRow) -> str:
        # The row's text may hold personal data, so only its position and shape are reported.
        line = row.number or _first_ragged_line(path, row.expected_columns)
        where = f"line {line}" if line else "a row"
        bad_rows.append(
            f"{where} has {row.actual_columns} fields, the header has {row.expected_columns}"
        )
        return "skip"

    def read(block_size: int, skip: int) -> Iterator[pa.RecordBatch]:
        """The file's record batches, less the first ``skip`` rows."""
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(
                column_names=placeholders, skip_rows=1, block_size=block_size
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
                return
            if skip >= batch.num_rows:
                skip -= batch.num_rows
                continue
            yield batch.slice(skip) if skip else batch
            skip = 0

    def batches() -> Iterator[pa.Table]:
        # Blocks of CSV_BLOCK_BYTES, unless a row is longer: then the file is read again with
        # blocks that fit a field of the limit, past the rows already delivered.
        block, delivered = min(CSV_BLOCK_BYTES, large_block), 0
        while True:
            try:
                for batch in read(block, delivered):
                    if _longest_field(batch) > max_field_bytes:
                        raise MalformedFileError(
                            label, _oversized_problem(path, max_field_bytes, block)
                        )
                    delivered += batch.num_rows
                    data = pa.Table.from_batches([batch]).rename_columns(names)
                    yield _offsets_to_utc(data, timestamps)
                break
            except pa.ArrowInvalid as exc:
                message = str(exc)
                if "straddl" in message and block < large_block:
                    block = large_block
                    continue
                if "straddl" in message:
                    problem = _oversized_problem(path, max_field_bytes, block)
                elif "utf8" in message.lower() or "utf-8" in message.lower():
                    problem = not_utf8_problem(path)
                else:
                    problem = f"not a readable CSV file ({exc})"
                raise MalformedFileError(label, problem) from None
        if bad_rows:
            raise MalformedFileError(label, bad_rows[0])

    return names, batches()


# An ISO 8601 date and time with a UTC offset (Z, +05:30, -0800, +01).
_OFFSET_TIMESTAMP = (
    r"^\s*[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}(:[0-9]{2}([.,][0-9]+)?)?"
    r"\s*([Zz]|[+-][0-9]{2}(:?[0-9]{2})?)\s*$"
)
_OFFSET_SPACE = re.compile(r"\s+([Zz]|[+-][0-9]{2}(?::?[0-9]{2})?)$")


def to_utc_text(value: str) -> str:
    """``2026-11-20T10:00:00+05:30`` -> ``2026-11-20 04:30:00`` (microseconds kept when there
    are any); a value that is not a real moment is returned as it is (staging quarantines
    it as an invalid timestamp)."""
    # Python reads 2026-11-20T10:00:00+05:30, ... -0800 and ...Z; not a space before the
    # offset, a lower-case z or t, or a decimal comma.
    text = _OFFSET_SPACE.sub(r"\1", value.strip()).replace(",", ".", 1)
    text = text[:10] + text[10:11].upper() + text[11:-1] + text[-1:].upper()
    try:
        moment = datetime.fromisoformat(text).astimezone(UTC)
    except (ValueError, OverflowError):
        return value
    fraction = f".{moment.microsecond:06d}" if moment.microsecond else ""
    return (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d} "
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}{fraction}"
    )


def _offsets_to_utc(data: pa.Table, positions: list[int]) -> pa.Table:
    """``data`` with the timestamps that carry a UTC offset, in the text columns at
    ``positions``, converted to UTC text; other values as they are."""
    for position in positions:
        column = data.column(position)
        if not pa.types.is_string(column.type):
            continue
        matches = pc.match_substring_regex(column, _OFFSET_TIMESTAMP)
        if not pc.any(matches).as_py():
            continue
        flags = matches.to_pylist()
        values = [
            to_utc_text(value) if flag else value
            for value, flag in zip(column.to_pylist(), flags, strict=True)
        ]
        data = data.set_column(position, data.field(position), pa.array(values, pa.string()))
    return data


def _uuid_text(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """A Parquet UUID column as canonical 8-4-4-4-12 text."""
    chunks = []
    for chunk in column.chunks:
        storage = chunk.storage if isinstance(chunk, pa.ExtensionArray) else chunk
        values = storage.to_pylist()
        chunks.append(
            pa.array(
                [None if v is None else str(uuid.UUID(bytes=bytes(v))) for v in values],
                pa.string(),
            )
        )
    return pa.chunked_array(chunks, pa.string())


def _is_binary(kind: pa.DataType) -> bool:
    return (
        pa.types.is_binary(kind)
        or pa.types.is_large_binary(kind)
        or pa.types.is_fixed_size_binary(kind)
        or pa.types.is_binary_view(kind)
    )


def _as_text(column: pa.ChunkedArray, label: str, name: str) -> pa.ChunkedArray:
    """A Parquet column as text: logical types (UUID, decimal, date, time) in their usual
    text form, binary that is UTF-8 as that text; a column that cannot be text is named."""
    kind = column.type
    if pa.types.is_string(kind):
        return column
    if isinstance(kind, pa.BaseExtensionType):
        if kind.extension_name == "arrow.uuid":
            return _uuid_text(column)
        storage = pa.chunked_array([chunk.storage for chunk in column.chunks], kind.storage_type)
        return _as_text(storage, label, name)
    if pa.types.is_nested(kind):
        raise MalformedFileError(label, f"column {name} has nested type {kind}, not supported")
    if pa.types.is_dictionary(kind):
        return _as_text(column.cast(kind.value_type), label, name)
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        # Stored in UTC already; re-labelling makes the text form UTC with a trailing Z.
        column = column.cast(pa.timestamp(kind.unit, tz="UTC"))
    try:
        return column.cast(pa.string())
    except pa.ArrowInvalid:
        if _is_binary(kind):
            raise MalformedFileError(
                label,
                f"column {name} holds binary data that is not UTF-8 text ({kind}), so it "
                "cannot be loaded as text",
            ) from None
        raise MalformedFileError(
            label, f"column {name} has type {kind}, whose values cannot be read as text"
        ) from None
    except pa.ArrowNotImplementedError:
        raise MalformedFileError(
            label, f"column {name} has type {kind}, which cannot be read as text"
        ) from None


def _read_parquet(path: Path, label: str, table: str) -> tuple[list[str], Iterator[pa.Table]]:
    try:
        parquet = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise MalformedFileError(label, f"not a readable Parquet file ({exc})") from None
    names = _normalised_names(label, parquet.schema_arrow.names, table)
    # Offsets are converted in text columns only: a typed timestamp is an instant already.
    timestamps = [
        i
        for i, (name, kind) in enumerate(zip(names, parquet.schema_arrow.types, strict=True))
        if name in TIMESTAMP_COLUMNS[table]
        and (pa.types.is_string(kind) or pa.types.is_large_string(kind))
    ]

    def batches() -> Iterator[pa.Table]:
        try:
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS):
                data = pa.Table.from_batches([batch])
                columns = [
                    _as_text(data.column(i), label, names[i]) for i in range(data.num_columns)
                ]
                yield _offsets_to_utc(pa.table(columns, names=names), timestamps)
        except (pa.ArrowInvalid, OSError) as exc:
            column = _unreadable_parquet_column(path, names)
            if column is not None and "utf8" in str(exc).lower():
                problem = f"column {column} holds text that is not valid UTF-8: write it as UTF-8"
            elif column is not None:
                problem = f"column {column} cannot be read ({exc})"
            else:
                problem = f"Parquet data cannot be read ({exc})"
            raise MalformedFileError(label, problem) from None

    return names, batches()


def _unreadable_parquet_column(path: Path, names: list[str]) -> str | None:
    """The first column whose data Arrow cannot read, by its normalised name (failure path
    only: each column is read on its own)."""
    parquet = pq.ParquetFile(path)
    for original, name in zip(parquet.schema_arrow.names, names, strict=True):
        try:
            for _ in parquet.iter_batches(batch_size=PARQUET_BATCH_ROWS, columns=[original]):
                pass
        except (pa.ArrowInvalid, OSError):
            return name
    return None


def read_landing_file(
    path: Path, label: str, table: str, max_field_bytes: int = DEFAULT_CSV_MAX_FIELD_BYTES
) -> tuple[list[str], Iterator[pa.Table]]:
    """Column names (normalised) and an iterator of all-text Arrow batches for one file."""
    if path.suffix.lower() == ".parquet":
        return _read_parquet(path, label, table)
    return _read_csv(path, label, table, max_field_bytes)


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


def _loaded_keys(conn: WarehouseConnection, schema: str) -> list[tuple[str, str]]:
    """(path, content hash) of every loaded file or part, in load order."""
    manifest = f"{quote_ident(schema)}.{MANIFEST_TABLE}"
    rows = conn.fetchall(f"select file_path, content_sha256 from {manifest} order by file_id")
    return [(path, digest) for path, digest in rows]


def _load_file(
    conn: WarehouseConnection,
    schema: str,
    table: str,
    path: Path,
    label: str,
    digest: str,
    loaded_at: datetime,
    log: Log = print,
    max_field_bytes: int = DEFAULT_CSV_MAX_FIELD_BYTES,
) -> int:
    names, batches = read_landing_file(path, label, table, max_field_bytes)
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
    max_field_bytes: int = DEFAULT_CSV_MAX_FIELD_BYTES,
) -> IngestReport:
    """Load every new landing file of ``tables`` (default: all raw tables) into ``schema``.

    ``max_field_bytes``: the longest CSV field accepted (``LEADSCORE_CSV_MAX_FIELD_BYTES``).
    A file whose content was already loaded under another path is skipped with a warning; an
    unknown top-level folder is reported (``IngestReport.folder_errors``) and fails the load
    after the other files loaded, like a malformed file."""
    selected = list(RAW_CONTRACT) if tables is None else tables
    unknown = [table for table in selected if table not in RAW_CONTRACT]
    if unknown:
        raise ValueError(f"not raw tables of the contract: {', '.join(unknown)}")
    loaded_at = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    with conn.transaction():
        ensure_raw_schema(conn, schema)
    loaded = _loaded_keys(conn, schema)
    already = set(loaded)
    # The first path each content was loaded from (an export's parts hash with its mapping,
    # so they never match a raw-table file).
    first_path: dict[str, str] = {}
    for path, digest in loaded:
        first_path.setdefault(digest, path)
    files, ignored = discover(landing_dir)
    report = IngestReport(ignored_paths=ignored)
    strays = unknown_folders(landing_dir)
    for name in strays:
        error = unknown_folder_error(name)
        log(f"FAILED {error}")
        report.folder_errors.append(error)
    for path in ignored:
        folder, _, rest = path.partition("/")
        if rest and folder in strays:
            continue  # its folder's error says it
        log(f"ignored {path}: not a .csv/.parquet file under a raw table folder or export folder")
    for table in selected:
        for index, path in enumerate(files[table], start=1):
            label = path.relative_to(landing_dir).as_posix()
            digest = file_sha256(path)
            if (label, digest) in already:
                report.loads.append(FileLoad(table, label, "skipped"))
                continue
            original = first_path.get(digest)
            if original is not None and original != label:
                warning = (
                    f"{label}: skipped, its content is the same as {original}, which is "
                    "already loaded (SHA-256 " + digest[:12] + "...); remove one of the two"
                )
                log(f"WARNING {warning}")
                report.warnings.append(warning)
                report.loads.append(FileLoad(table, label, "skipped", duplicate_of=original))
                continue
            try:
                rows = _load_file(
                    conn, schema, table, path, label, digest, loaded_at, log, max_field_bytes
                )
            except MalformedFileError as exc:
                log(f"FAILED {exc}")
                report.loads.append(FileLoad(table, label, "failed", error=str(exc)))
                continue
            already.add((label, digest))
            first_path.setdefault(digest, label)
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
