"""Apply a mapping to one export file: all-text Arrow batches per raw table.

The file is streamed (``BATCH_ROWS`` rows at a time), so an export does not need to fit in
memory; each raw table's batches come from a pass of their own over the file, so the loader
can write each table in a transaction of its own. A batch has every contract column of the
table (NULL where the mapping fills nothing) and then the extra columns the mapping keeps.

Values are read as the mapping says (``docs/onboarding.md``): missing words become NULL;
dates become ``YYYY-MM-DD HH:MM:SS`` (UTC), booleans ``true`` / ``false``, numbers lose their
thousands separator and get a '.' decimal point. A value that does not parse is written as
received: staging then quarantines the row with its reason, and no row is ever dropped here
(only a section's ``when`` decides which rows a section writes).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from orchestration.ingest.contract import (
    LINEAGE_COLUMNS,
    RAW_CONTRACT,
    normalise_column_name,
)
from orchestration.onboarding.mapping import (
    REPEAT_FIELD,
    SNAPSHOT_FIELD,
    Condition,
    Mapping,
    MappingError,
    Section,
)
from orchestration.onboarding.values import (
    format_timestamp,
    is_plain_number,
    normalise_number,
    parse_date,
)

BATCH_ROWS = 50_000
CSV_BLOCK_BYTES = 4 << 20
DELIMITERS = (",", ";", "\t", "|")
# How many of the file's column names an error message lists.
LISTED_COLUMNS = 40

Reader = Callable[[str | None], str | None]


class ExportReadError(ValueError):
    """An export file that cannot be read; the message names the file and the problem (never a
    value of the file)."""

    def __init__(self, label: str, problem: str):
        super().__init__(f"{label}: {problem}")
        self.label = label
        self.problem = problem


# -- reading the file as text ---------------------------------------------------------------


def _sniff_delimiter(line: str) -> str:
    """The delimiter of a header row: the candidate seen most often outside quotes."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(DELIMITERS, key=lambda candidate: counts[candidate])
    return best if counts[best] else ","


def _csv_header(path: Path, label: str) -> tuple[list[str], str]:
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as handle:
            first = handle.readline(1 << 20)
            delimiter = _sniff_delimiter(first)
            handle.seek(0)
            header = next(csv.reader(handle, delimiter=delimiter), None)
    except UnicodeDecodeError:
        raise ExportReadError(label, _NOT_UTF8) from None
    except (csv.Error, OSError) as exc:
        raise ExportReadError(label, f"unreadable header row ({type(exc).__name__})") from None
    if not header or not any(name.strip() for name in header):
        raise ExportReadError(label, "file is empty: no header row")
    return [name.strip() for name in header], delimiter


_NOT_UTF8 = 'is not UTF-8 text: save the export as UTF-8 (in a spreadsheet: "CSV UTF-8")'


def _first_ragged_line(path: Path, delimiter: str, expected: int) -> int | None:
    """Line number of the first record whose field count is off (only on the failure path)."""
    with path.open("r", encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        for record in reader:
            if record and len(record) != expected:
                return reader.line_num
    return None


def _slices(table: pa.Table, rows: int) -> Iterator[pa.Table]:
    for offset in range(0, table.num_rows, rows):
        yield table.slice(offset, rows)


def _csv_batches(
    path: Path, label: str, header: list[str], delimiter: str, batch_rows: int
) -> Iterator[pa.Table]:
    names = [f"c{i}" for i in range(len(header))]
    bad_rows: list[str] = []

    def on_invalid_row(row: pa_csv.InvalidRow) -> str:
        # The row's text may hold personal data: only its position and shape are reported.
        line = row.number or _first_ragged_line(path, delimiter, row.expected_columns)
        where = f"line {line}" if line else "a row"
        bad_rows.append(
            f"{where} has {row.actual_columns} fields, the header has {row.expected_columns}"
        )
        return "skip"

    try:
        reader = pa_csv.open_csv(
            path,
            read_options=pa_csv.ReadOptions(
                column_names=names, skip_rows=1, block_size=CSV_BLOCK_BYTES
            ),
            parse_options=pa_csv.ParseOptions(
                delimiter=delimiter, newlines_in_values=True, invalid_row_handler=on_invalid_row
            ),
            convert_options=pa_csv.ConvertOptions(
                column_types={name: pa.string() for name in names},
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
        for batch in reader:
            if bad_rows:
                break
            yield from _slices(pa.Table.from_batches([batch]), batch_rows)
    except pa.ArrowInvalid as exc:
        # Arrow's message may quote the row it choked on: only its first words are kept.
        message = str(exc)
        if "UTF8" in message or "UTF-8" in message:
            raise ExportReadError(label, _NOT_UTF8) from None
        raise ExportReadError(
            label, f"not a readable CSV file ({message.split(':')[0].strip()})"
        ) from None
    if bad_rows:
        raise ExportReadError(label, bad_rows[0])


def _as_text(column: pa.ChunkedArray, label: str, name: str) -> pa.ChunkedArray:
    kind = column.type
    if pa.types.is_string(kind):
        return column
    if pa.types.is_large_string(kind):
        return column.cast(pa.string())
    if pa.types.is_nested(kind):
        raise ExportReadError(label, f"column {name!r} has nested type {kind}, not supported")
    if pa.types.is_dictionary(kind):
        return _as_text(column.cast(kind.value_type), label, name)
    if pa.types.is_timestamp(kind) and kind.tz is not None:
        column = column.cast(pa.timestamp(kind.unit, tz="UTC"))
    return column.cast(pa.string())


def _parquet_batches(
    parquet: pq.ParquetFile, label: str, header: list[str], batch_rows: int
) -> Iterator[pa.Table]:
    names = [f"c{i}" for i in range(len(header))]
    try:
        for batch in parquet.iter_batches(batch_size=batch_rows):
            data = pa.Table.from_batches([batch])
            columns = [_as_text(data.column(i), label, header[i]) for i in range(len(header))]
            yield pa.table(columns, names=names)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, OSError) as exc:
        raise ExportReadError(
            label, f"Parquet data cannot be read ({str(exc).split(':')[0].strip()})"
        ) from None


def read_header(path: Path, label: str | None = None) -> list[str]:
    """The column names of an export file (CSV or Parquet), trimmed, in file order."""
    label = label or path.name
    if path.suffix.lower() == ".parquet":
        return [name.strip() for name in _parquet_file(path, label).schema_arrow.names]
    return _csv_header(path, label)[0]


def _parquet_file(path: Path, label: str) -> pq.ParquetFile:
    try:
        return pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise ExportReadError(
            label, f"not a readable Parquet file ({str(exc).split(':')[0].strip()})"
        ) from None


def read_raw(
    path: Path, label: str | None = None, *, batch_rows: int = BATCH_ROWS
) -> tuple[list[str], Iterator[pa.Table]]:
    """The column names of a CSV or Parquet file and an iterator of its rows as all-text Arrow
    tables of at most ``batch_rows`` rows, whose columns are ``c0, c1, ...`` in header order.
    A CSV's empty field is '' (the mapping's missing words decide what is missing); a
    Parquet null is NULL. The delimiter of a CSV (comma, semicolon, tab or pipe) is the one its
    header row uses."""
    label = label or path.name
    if path.suffix.lower() == ".parquet":
        parquet = _parquet_file(path, label)
        header = [name.strip() for name in parquet.schema_arrow.names]
        return header, _parquet_batches(parquet, label, header, batch_rows)
    header, delimiter = _csv_header(path, label)
    return header, _csv_batches(path, label, header, delimiter, batch_rows)


# -- reading values ---------------------------------------------------------------------------


def value_reader(mapping: Mapping, column: str) -> Reader:
    """The function that turns a received value of ``column`` into the value written."""
    read = mapping.read
    kind = mapping.column_type(column).type
    missing = mapping.missing_words(column)
    date_format = mapping.date_format(column)

    def convert(text: str) -> str:
        value = text.strip()
        if kind == "text":
            return value
        if kind == "boolean":
            word = value.lower()
            if word in read.true_words:
                return "true"
            return "false" if word in read.false_words else text
        if kind == "number":
            return normalise_number(value, read.decimal, read.thousands) or text
        moment = parse_date(value, date_format)
        return text if moment is None else format_timestamp(moment)

    cached = lru_cache(maxsize=65_536)(convert)

    def reader(text: str | None) -> str | None:
        if text is None or text.strip().lower() in missing:
            return None
        return cached(text)

    return reader


# -- the plan for one table -------------------------------------------------------------------

# How a section fills a column: ("column", file column index), ("value", constant) or
# ("template", parts), parts being ("text", literal), ("column", index), ("snapshot", date)
# or ("n", "").
Producer = tuple[str, object]


@dataclass
class _SectionPlan:
    section: Section
    outputs: dict[str, Producer]
    extras: list[tuple[str, int]]
    when: tuple[int, Condition] | None = None
    repeat: int | None = None


@dataclass
class _TablePlan:
    table: str
    sections: list[_SectionPlan]
    columns: list[str] = field(default_factory=list)


class ExportFile:
    """One export file read with one mapping. Opening it reads the header and checks that
    every column named under ``columns:`` exists; ``columns(table)`` checks the columns a
    table's sections name and ``batches(table)`` streams the table's rows."""

    def __init__(
        self,
        path: Path,
        mapping: Mapping,
        *,
        label: str | None = None,
        batch_rows: int = BATCH_ROWS,
    ):
        self.path = path
        self.mapping = mapping
        self.label = label or path.name
        self.batch_rows = batch_rows
        self.header = read_header(path, self.label)
        self._positions: dict[str, int] = {}
        for index, name in enumerate(self.header):
            if name in self._positions and name:
                raise ExportReadError(self.label, f"column {name!r} appears twice in the header")
            self._positions.setdefault(name, index)
        for name in mapping.columns:
            self._position(f"columns.{name}", name)
        self._plans: dict[str, _TablePlan] = {}

    @property
    def tables(self) -> list[str]:
        """The raw tables the mapping writes, in the mapping's order."""
        return list(self.mapping.tables)

    def columns(self, table: str) -> list[str]:
        """The columns of ``table``'s batches: its contract columns, then the kept extras."""
        return self._plan(table).columns

    def _fail(self, key: str, problem: str, *, separator: str = ": ") -> MappingError:
        return MappingError(self.mapping.label, key, problem, separator=separator)

    def _listed_columns(self) -> str:
        shown = ", ".join(self.header[:LISTED_COLUMNS])
        more = len(self.header) - LISTED_COLUMNS
        return shown + (f", and {more} more" if more > 0 else "")

    def _position(self, key: str, name: str) -> int:
        if name not in self._positions:
            raise self._fail(
                key,
                f"names column {name!r}, which {self.label} does not have "
                f"(its columns: {self._listed_columns()})",
                separator=" ",
            )
        return self._positions[name]

    def _plan(self, table: str) -> _TablePlan:
        if table not in self.mapping.tables:
            raise KeyError(f"the mapping writes no {table}")
        if table not in self._plans:
            sections = [self._plan_section(section) for section in self.mapping.tables[table]]
            columns = list(RAW_CONTRACT[table])
            for plan in sections:
                columns += [name for name, _ in plan.extras if name not in columns]
            self._plans[table] = _TablePlan(table, sections, columns)
        return self._plans[table]

    def _plan_section(self, section: Section) -> _SectionPlan:
        for key, name in section.references():
            self._position(key, name)
        contract = RAW_CONTRACT[section.table]
        outputs: dict[str, Producer] = {}
        for column, source in section.sources.items():
            if source.kind == "column":
                outputs[column] = ("column", self._positions[source.column])
            elif source.kind == "value":
                outputs[column] = ("value", source.value)
            else:
                parts: list[tuple[str, object]] = []
                for kind, text in source.template.parts:
                    if kind == "text":
                        parts.append(("text", text))
                    elif text == SNAPSHOT_FIELD:
                        parts.append(("snapshot", self.mapping.read.snapshot_date))
                    elif text == REPEAT_FIELD:
                        parts.append(("n", ""))
                    else:
                        parts.append(("column", self._positions[text]))
                outputs[column] = ("template", tuple(parts))
        # A file column named like a contract column fills it, unless the section maps it.
        normalised = [normalise_column_name(name) for name in self.header]
        for column in contract:
            if column in section.sources:
                continue
            matches = [i for i, name in enumerate(normalised) if name == column]
            if len(matches) > 1:
                found = " and ".join(repr(self.header[i]) for i in matches)
                raise self._fail(
                    f"{section.key}.{column}",
                    f"columns {found} of {self.label} both match contract column {column}: "
                    "map it explicitly",
                )
            if matches:
                outputs[column] = ("column", matches[0])
        mapped = {producer[1] for producer in outputs.values() if producer[0] == "column"}
        if section.keep == "rest":
            kept = [i for i in range(len(self.header)) if i not in mapped]
        elif section.keep == "none":
            kept = []
        else:
            kept = [self._positions[name] for name in section.keep]
        extras = self._extras(section, kept, normalised)
        when = None
        if section.when is not None:
            when = (self._positions[section.when.column], section.when)
        repeat = self._positions[section.repeat] if section.repeat is not None else None
        return _SectionPlan(section, outputs, extras, when, repeat)

    def _extras(
        self, section: Section, kept: list[int], normalised: list[str]
    ) -> list[tuple[str, int]]:
        contract = RAW_CONTRACT[section.table]
        lineage = {name for name, _ in LINEAGE_COLUMNS}
        key = f"{section.key}.keep"
        extras: list[tuple[str, int]] = []
        taken: dict[str, int] = {}
        for index in kept:
            name = normalised[index]
            if not name:
                raise self._fail(
                    key,
                    f"column {index + 1} ({self.header[index]!r}) of {self.label} has no usable "
                    "name for a raw column: list the columns to keep (keep: [...]) or keep: none",
                )
            if name in contract:
                name = f"{name}_original"
            if name in lineage or name in contract:
                raise self._fail(
                    key, f"column {self.header[index]!r} would become {name}, a reserved name"
                )
            if name in taken:
                raise self._fail(
                    key,
                    f"columns {self.header[taken[name]]!r} and {self.header[index]!r} of "
                    f"{self.label} both become raw column {name}: keep only one of them "
                    "(keep: [...])",
                )
            taken[name] = index
            extras.append((name, index))
        return extras

    # -- rows --------------------------------------------------------------------------------

    def batches(self, table: str) -> Iterator[pa.Table]:
        """``table``'s rows from this file: all-text Arrow tables with ``columns(table)``."""
        plan = self._plan(table)
        readers: dict[int, Reader] = {}
        _, raw_batches = read_raw(self.path, self.label, batch_rows=self.batch_rows)
        for raw in raw_batches:
            cache: dict[int, list[str | None]] = {}

            def values(index: int, raw: pa.Table = raw, cache: dict = cache) -> list[str | None]:
                if index not in cache:
                    if index not in readers:
                        readers[index] = value_reader(self.mapping, self.header[index])
                    read = readers[index]
                    cache[index] = [read(text) for text in raw.column(index).to_pylist()]
                return cache[index]

            out: dict[str, list[str | None]] = {name: [] for name in plan.columns}
            for section in plan.sections:
                self._write_section(section, raw.num_rows, values, out)
            if out[plan.columns[0]]:
                yield pa.table(
                    {name: pa.array(column, pa.string()) for name, column in out.items()}
                )

    def _write_section(
        self,
        plan: _SectionPlan,
        count: int,
        values: Callable[[int], list[str | None]],
        out: dict[str, list[str | None]],
    ) -> None:
        rows: Iterable[int] = range(count)
        if plan.when is not None:
            index, condition = plan.when
            test = self._condition(index, condition)
            column = values(index)
            rows = [row for row in rows if test(column[row])]
        numbers: list[int] | None = None
        if plan.repeat is not None:
            column = values(plan.repeat)
            limit = plan.section.repeat_max
            counts = [(row, _repeat_count(column[row], limit)) for row in rows]
            rows = [row for row, times in counts for _ in range(times)]
            numbers = [n for _, times in counts for n in range(1, times + 1)]
        rows = list(rows)
        size = len(rows)
        for name, producer in plan.outputs.items():
            out[name] += self._produce(producer, rows, numbers, values)
        extras = dict(plan.extras)
        for name in out:
            if name in plan.outputs:
                continue
            if name in extras:
                column = values(extras[name])
                out[name] += [column[row] for row in rows]
            else:
                out[name] += [None] * size

    def _produce(
        self,
        producer: Producer,
        rows: list[int],
        numbers: list[int] | None,
        values: Callable[[int], list[str | None]],
    ) -> list[str | None]:
        kind, detail = producer
        if kind == "value":
            return [detail] * len(rows)
        if kind == "column":
            column = values(detail)
            return [column[row] for row in rows]
        parts = detail
        columns = {index: values(index) for part, index in parts if part == "column"}
        result: list[str | None] = []
        for position, row in enumerate(rows):
            pieces: list[str] = []
            for part, item in parts:
                if part == "text" or part == "snapshot":
                    piece = item
                elif part == "n":
                    piece = str(numbers[position]) if numbers is not None else None
                else:
                    piece = columns[item][row]
                if piece is None:
                    pieces = None
                    break
                pieces.append(piece)
            result.append(None if pieces is None else "".join(pieces))
        return result

    def _condition(self, index: int, condition: Condition) -> Callable[[str | None], bool]:
        read = self.mapping.read
        operator, operand = condition.operator, condition.operand
        if operator == "present":
            return lambda value: (value is not None) is operand
        if operator == "is":
            words = (read.true_words | {"true"}) if operand else (read.false_words | {"false"})
            return lambda value: value is not None and value.strip().lower() in words
        if operator == "equals":
            return lambda value: value is not None and value.strip().lower() == operand
        if operator == "in":
            return lambda value: value is not None and value.strip().lower() in operand
        typed_number = self.mapping.column_type(self.header[index]).type == "number"

        def number(value: str | None) -> float | None:
            if value is None:
                return None
            if typed_number:  # read already: a plain number, or as received
                return float(value) if is_plain_number(value) else None
            text = normalise_number(value, read.decimal, read.thousands)
            return None if text is None else float(text)

        compare = {
            "gt": lambda a: a > operand,
            "gte": lambda a: a >= operand,
            "lt": lambda a: a < operand,
            "lte": lambda a: a <= operand,
        }[operator]

        def test(value: str | None) -> bool:
            found = number(value)
            return found is not None and compare(found)

        return test


def _repeat_count(value: str | None, limit: int) -> int:
    """Rows a repeat writes: the number rounded down, 0 for missing / not a number, at most
    ``limit``."""
    if value is None or not is_plain_number(value):
        return 0
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        return 0
    return int(min(number, limit))


def open_export_file(
    path: Path, mapping: Mapping, *, label: str | None = None, batch_rows: int = BATCH_ROWS
) -> ExportFile:
    """Open an export file with its mapping (reads the header; raises ``ExportReadError`` or
    ``MappingError``)."""
    return ExportFile(path, mapping, label=label, batch_rows=batch_rows)


def transform_file(
    path: Path,
    mapping: Mapping,
    *,
    label: str | None = None,
    tables: Iterable[str] | None = None,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[tuple[str, pa.Table]]:
    """(raw table, batch) for every table the mapping writes (or ``tables`` of them), one
    table after the other; each table's batches come from a pass of their own over the file."""
    source = open_export_file(path, mapping, label=label, batch_rows=batch_rows)
    for table in source.tables if tables is None else tables:
        if table not in mapping.tables:
            continue
        for batch in source.batches(table):
            yield table, batch
