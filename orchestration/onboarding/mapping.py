"""Read and validate the mapping file of an export folder (``mapping.yml``).

The mapping says how the columns of a CRM export become rows of the raw tables: how values are
read (missing words, boolean words, date format, decimal and thousands separators), the type
of each column of the file, and per raw table which file column, constant or template fills
each contract column. ``docs/onboarding.md`` is the reference of the format.

Everything that can be checked without the export file is checked here; a mapping that names
a column the file does not have is reported when the file is read (``transform``). Every
error is a ``MappingError`` whose message names the mapping file and the key path at fault. A
message never holds a value of the export (personal data): only names from the mapping and
column names of the file.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

from orchestration.ingest.contract import RAW_CONTRACT
from orchestration.onboarding.values import NAMED_DATE_FORMATS, is_valid_date_format

MAPPING_FILE_NAME = "mapping.yml"
MAPPING_VERSION = 1
COLUMN_TYPES = ("text", "number", "date", "boolean")
DEFAULT_MISSING = ("", "N/A", "NA", "null", "none", "-")
DEFAULT_TRUE = ("yes", "y", "true", "t", "1")
DEFAULT_FALSE = ("no", "n", "false", "f", "0")
DEFAULT_DATE_FORMAT = "iso"
DEFAULT_REPEAT_MAX = 1000
DECIMAL_POINTS = (".", ",")
THOUSANDS_SEPARATORS = ("", ",", ".", " ")
KEEP_MODES = ("rest", "none")
CONDITION_OPERATORS = ("is", "present", "equals", "in", "gt", "gte", "lt", "lte")
NUMBER_OPERATORS = ("gt", "gte", "lt", "lte")
SECTION_KEYS = ("when", "repeat", "repeat_max", "keep")
TOP_KEYS = ("version", "read", "columns", "tables")
READ_KEYS = ("missing", "true", "false", "date_format", "decimal", "thousands", "snapshot_date")
COLUMN_KEYS = ("type", "format", "missing")
SOURCE_KINDS = ("column", "value", "template")
# Template fields that are not columns of the file.
SNAPSHOT_FIELD = "snapshot_date"
REPEAT_FIELD = "n"

_YAML_BOOLEAN_HINT = (
    "YAML reads yes, no, on, off, true and false without quotes as booleans: "
    'write the word in quotes (e.g. "yes")'
)


class MappingError(ValueError):
    """A mapping that cannot be used; the message names the mapping file and the key path."""

    def __init__(self, label: str, key: str, problem: str, *, separator: str = ": "):
        message = f"{label}: {key}{separator}{problem}" if key else f"{label}: {problem}"
        super().__init__(message)
        self.label = label
        self.key = key
        self.problem = problem


@dataclass(frozen=True)
class ReadOptions:
    """How values are read (``read:``). Words are kept trimmed and lower-case."""

    missing: frozenset[str] = frozenset(word.lower() for word in DEFAULT_MISSING)
    true_words: frozenset[str] = frozenset(DEFAULT_TRUE)
    false_words: frozenset[str] = frozenset(DEFAULT_FALSE)
    date_format: str = DEFAULT_DATE_FORMAT
    decimal: str = "."
    thousands: str = ""
    snapshot_date: str | None = None


@dataclass(frozen=True)
class ColumnType:
    """The type of a column of the file (``columns:``); None means the ``read:`` setting."""

    type: str = "text"
    date_format: str | None = None
    missing: frozenset[str] | None = None


@dataclass(frozen=True)
class Template:
    """``{template: "..."}``: literal text and ``{field}`` parts."""

    text: str
    parts: tuple[tuple[str, str], ...]  # ("text", literal) or ("field", name)

    @property
    def fields(self) -> tuple[str, ...]:
        return tuple(value for kind, value in self.parts if kind == "field")


@dataclass(frozen=True)
class Source:
    """What fills one contract column: a file column, a constant or a template."""

    kind: str  # column | value | template
    column: str | None = None
    value: str | None = None
    template: Template | None = None


@dataclass(frozen=True)
class Condition:
    """``when:``: the row filter of a section."""

    column: str
    operator: str  # one of CONDITION_OPERATORS
    operand: Any  # bool (is, present), str (equals), tuple[str, ...] (in), float (gt...)


@dataclass(frozen=True)
class Section:
    """One section of a raw table: the rows it writes and where each contract column comes
    from. ``key`` is its key path, e.g. ``tables.crm_deals`` or ``tables.marketing_events[0]``."""

    table: str
    key: str
    sources: dict[str, Source] = field(default_factory=dict)
    when: Condition | None = None
    repeat: str | None = None
    repeat_max: int = DEFAULT_REPEAT_MAX
    keep: str | tuple[str, ...] = "rest"

    def references(self) -> list[tuple[str, str]]:
        """(key path, file column) of every file column the section names."""
        found: list[tuple[str, str]] = []
        if self.when is not None:
            found.append((f"{self.key}.when.column", self.when.column))
        if self.repeat is not None:
            found.append((f"{self.key}.repeat", self.repeat))
        for column, source in self.sources.items():
            if source.kind == "column" and source.column is not None:
                found.append((f"{self.key}.{column}", source.column))
            elif source.template is not None:
                found += [
                    (f"{self.key}.{column}", name)
                    for name in source.template.fields
                    if name not in (SNAPSHOT_FIELD, REPEAT_FIELD)
                ]
        if isinstance(self.keep, tuple):
            found += [(f"{self.key}.keep", name) for name in self.keep]
        return found


@dataclass(frozen=True)
class Mapping:
    """A validated mapping file. ``raw`` is the file's bytes (part of each load's hash, so an
    edited mapping loads the export again)."""

    label: str
    read: ReadOptions
    columns: dict[str, ColumnType]
    tables: dict[str, tuple[Section, ...]]
    version: int = MAPPING_VERSION
    raw: bytes = b""
    path: Path | None = None

    def column_type(self, name: str) -> ColumnType:
        return self.columns.get(name, ColumnType())

    def missing_words(self, name: str) -> frozenset[str]:
        words = self.column_type(name).missing
        return self.read.missing if words is None else words

    def date_format(self, name: str) -> str:
        return self.column_type(name).date_format or self.read.date_format


# -- reading the YAML ---------------------------------------------------------------------------


def load_mapping(path: Path, *, label: str | None = None) -> Mapping:
    """Read and validate a mapping file. ``label`` is how messages name it (default: the
    path as given)."""
    label = label or str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MappingError(label, "", f"cannot be read ({exc.strerror or exc})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise MappingError(label, "", "is not UTF-8 text") from None
    try:
        _check_duplicate_keys(text, label)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise MappingError(label, "", f"not valid YAML ({_yaml_problem(exc)})") from None
    return dataclasses.replace(parse_mapping(data, label), raw=raw, path=path)


def declared_tables(path: Path) -> list[str] | None:
    """The raw tables a mapping file names under ``tables:``, read leniently (for a mapping
    that does not validate); None when even that cannot be told."""
    try:
        data = yaml.safe_load(path.read_bytes().decode("utf-8-sig"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("tables"), dict):
        return None
    return [name for name in data["tables"] if name in RAW_CONTRACT]


def _yaml_problem(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    if mark is not None:
        return f"{problem} at line {mark.line + 1}, column {mark.column + 1}"
    return problem


def _check_duplicate_keys(text: str, label: str) -> None:
    """PyYAML keeps the last of two equal keys silently; a mapping must not say two things."""
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            seen: set[str] = set()
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode):
                    if key.value in seen:
                        raise MappingError(
                            label,
                            "",
                            f"key {key.value!r} appears twice in the same mapping "
                            f"(line {key.start_mark.line + 1})",
                        )
                    seen.add(key.value)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)


# -- validation ---------------------------------------------------------------------------------


def parse_mapping(data: object, label: str) -> Mapping:
    """Validate the parsed YAML of a mapping file (``yaml.safe_load``'s result)."""
    if not isinstance(data, dict):
        raise MappingError(
            label, "", f"a mapping file is a YAML mapping with the keys {', '.join(TOP_KEYS)}"
        )
    for key in data:
        if key not in TOP_KEYS:
            keys = ", ".join(TOP_KEYS)
            raise MappingError(label, _name(key), f"unknown key (the keys of a mapping: {keys})")
    version = data.get("version")
    if "version" not in data:
        raise MappingError(label, "version", f"missing: write version: {MAPPING_VERSION}")
    if isinstance(version, bool) or version != MAPPING_VERSION:
        raise MappingError(label, "version", f"must be {MAPPING_VERSION}, the only version")
    read = _parse_read(data.get("read"), label)
    columns = _parse_columns(data.get("columns"), label)
    if "tables" not in data:
        raise MappingError(label, "tables", "missing: a mapping writes at least one raw table")
    tables_data = data["tables"]
    if not isinstance(tables_data, dict) or not tables_data:
        raise MappingError(
            label, "tables", "must map at least one raw table to its columns (e.g. crm_contacts:)"
        )
    tables: dict[str, tuple[Section, ...]] = {}
    for raw_key, value in tables_data.items():
        table = _key_text(raw_key, label, "tables")
        key = f"tables.{table}"
        if table not in RAW_CONTRACT:
            raise MappingError(
                label, key, f"not a raw table (the raw tables: {', '.join(RAW_CONTRACT)})"
            )
        if isinstance(value, list):
            if not value:
                raise MappingError(label, key, "an empty list writes nothing: remove the table")
            tables[table] = tuple(
                _parse_section(item, table, f"{key}[{index}]", label, read, columns)
                for index, item in enumerate(value)
            )
        else:
            tables[table] = (_parse_section(value, table, key, label, read, columns),)
    return Mapping(label=label, read=read, columns=columns, tables=tables, version=version)


def _name(key: object) -> str:
    return "true" if key is True else "false" if key is False else str(key)


def _key_text(key: object, label: str, where: str) -> str:
    """A mapping key as text: numbers are fine (a column named 2024), booleans are not."""
    if isinstance(key, bool) or key is None:
        raise MappingError(label, f"{where}.{_name(key)}", _YAML_BOOLEAN_HINT)
    if isinstance(key, int | float | str):
        return str(key)
    raise MappingError(label, where, f"{key!r} is not a name")


def scalar_text(value: object) -> str | None:
    """A YAML scalar as the text it stands for (booleans true/false, dates ISO)."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | int | float):
        return value.isoformat() if isinstance(value, date) else str(value)
    raise TypeError(value)


def _words(value: object, label: str, key: str) -> frozenset[str]:
    if not isinstance(value, list):
        raise MappingError(label, key, 'must be a list of words, e.g. ["", "N/A"]')
    words = set()
    for index, word in enumerate(value):
        if isinstance(word, bool) or word is None:
            raise MappingError(label, f"{key}[{index}]", _YAML_BOOLEAN_HINT)
        if not isinstance(word, str | int | float):
            raise MappingError(label, f"{key}[{index}]", "must be a word (text)")
        words.add(str(word).strip().lower())
    return frozenset(words)


def _parse_read(data: object, label: str) -> ReadOptions:
    if data is None:
        return ReadOptions()
    if not isinstance(data, dict):
        raise MappingError(label, "read", f"must be a mapping of {', '.join(READ_KEYS)}")
    options: dict[str, Any] = {}
    for raw_key, value in data.items():
        key = _name(raw_key)  # `true:` and `false:` are YAML booleans as keys
        where = f"read.{key}"
        if key not in READ_KEYS:
            keys = ", ".join(READ_KEYS)
            raise MappingError(label, where, f"unknown key (the keys of read: {keys})")
        if key in ("missing", "true", "false"):
            options[{"true": "true_words", "false": "false_words"}.get(key, key)] = _words(
                value, label, where
            )
        elif key == "date_format":
            options[key] = _date_format(value, label, where)
        elif key == "decimal":
            if value not in DECIMAL_POINTS:
                raise MappingError(label, where, 'must be "." or ","')
            options[key] = value
        elif key == "thousands":
            value = "" if value is None else value
            if value not in THOUSANDS_SEPARATORS:
                raise MappingError(label, where, 'must be "" (none), ",", "." or " "')
            options[key] = value
        else:
            options[key] = _snapshot_date(value, label, where)
    read = ReadOptions(**options)
    if read.thousands and read.thousands == read.decimal:
        raise MappingError(label, "read.thousands", "cannot be the decimal separator too")
    both = sorted(read.true_words & read.false_words)
    if both:
        raise MappingError(label, "read.false", f"{', '.join(both)} is also a true word")
    return read


def _date_format(value: object, label: str, key: str) -> str:
    if not isinstance(value, str) or not is_valid_date_format(value):
        raise MappingError(
            label,
            key,
            f"unknown date format {value!r} (one of {', '.join(NAMED_DATE_FORMATS)}, or a "
            "Python strptime pattern containing '%', e.g. \"%d %b %Y\")",
        )
    return value


def _snapshot_date(value: object, label: str, key: str) -> str:
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value.strip()):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise MappingError(label, key, "must be a day written YYYY-MM-DD, e.g. 2024-06-30")


def _parse_columns(data: object, label: str) -> dict[str, ColumnType]:
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise MappingError(label, "columns", "must map columns of the file to their type")
    columns: dict[str, ColumnType] = {}
    for raw_key, value in data.items():
        name = _key_text(raw_key, label, "columns").strip()
        key = f"columns.{name}"
        short_form = isinstance(value, str)
        if short_form:
            value = {"type": value}
        if not isinstance(value, dict):
            raise MappingError(
                label, key, f"must be a type ({', '.join(COLUMN_TYPES)}) or {{type: ..., ...}}"
            )
        for option in value:
            if option not in COLUMN_KEYS:
                raise MappingError(
                    label,
                    f"{key}.{_name(option)}",
                    f"unknown key (the keys of a column: {', '.join(COLUMN_KEYS)})",
                )
        kind = value.get("type", "text")
        if kind not in COLUMN_TYPES:
            raise MappingError(
                label,
                key if short_form else f"{key}.type",
                f"unknown type {kind!r} (one of {', '.join(COLUMN_TYPES)})",
            )
        date_format = None
        if "format" in value:
            if kind != "date":
                raise MappingError(label, f"{key}.format", "only a date column has a format")
            date_format = _date_format(value["format"], label, f"{key}.format")
        missing = _words(value["missing"], label, f"{key}.missing") if "missing" in value else None
        columns[name] = ColumnType(type=kind, date_format=date_format, missing=missing)
    return columns


def parse_template(text: str, label: str, key: str) -> Template:
    """``{Column}`` fields and literal text; ``{{`` and ``}}`` are literal braces."""
    parts: list[tuple[str, str]] = []
    literal: list[str] = []
    position = 0
    while position < len(text):
        char = text[position]
        if text.startswith("{{", position) or text.startswith("}}", position):
            literal.append(char)
            position += 2
            continue
        if char == "}":
            raise MappingError(label, key, "template has a '}' without '{' (write }} for a brace)")
        if char != "{":
            literal.append(char)
            position += 1
            continue
        end = text.find("}", position)
        name = text[position + 1 : end].strip() if end > 0 else ""
        if end < 0 or "{" in text[position + 1 : end]:
            raise MappingError(label, key, "template has a '{' without '}' (write {{ for a brace)")
        if not name:
            raise MappingError(label, key, "template has an empty {} field")
        if literal:
            parts.append(("text", "".join(literal)))
            literal = []
        parts.append(("field", name))
        position = end + 1
    if literal:
        parts.append(("text", "".join(literal)))
    return Template(text=text, parts=tuple(parts))


def _parse_source(value: object, label: str, key: str) -> Source:
    if isinstance(value, str):
        if not value.strip():
            raise MappingError(label, key, "names no column")
        return Source("column", column=value.strip())
    if not isinstance(value, dict):
        hint = ' (for a constant write {value: "..."})'
        raise MappingError(
            label,
            key,
            "must be a column of the file, {value: ...}, {template: ...} or {column: ...}" + hint,
        )
    for option in value:
        if option not in SOURCE_KINDS:
            raise MappingError(
                label, f"{key}.{_name(option)}", f"unknown key (one of {', '.join(SOURCE_KINDS)})"
            )
    if len(value) != 1:
        raise MappingError(label, key, f"needs exactly one of {', '.join(SOURCE_KINDS)}")
    kind, operand = next(iter(value.items()))
    if kind == "value":
        if isinstance(operand, dict | list):
            raise MappingError(label, f"{key}.value", "must be a single value")
        return Source("value", value=scalar_text(operand))
    if not isinstance(operand, str) or not operand.strip():
        raise MappingError(label, f"{key}.{kind}", "must be text")
    if kind == "column":
        return Source("column", column=operand.strip())
    return Source("template", template=parse_template(operand, label, f"{key}.template"))


def _parse_condition(value: object, label: str, key: str) -> Condition:
    operators = ", ".join(CONDITION_OPERATORS)
    if not isinstance(value, dict):
        raise MappingError(label, key, f"must be {{column: ..., <operator>: ...}} ({operators})")
    for option in value:
        if option != "column" and option not in CONDITION_OPERATORS:
            raise MappingError(
                label, f"{key}.{_name(option)}", f"unknown key (column, or one of {operators})"
            )
    column = value.get("column")
    if not isinstance(column, str) or not column.strip():
        raise MappingError(label, f"{key}.column", "missing: the column of the file to test")
    used = [option for option in value if option in CONDITION_OPERATORS]
    if len(used) != 1:
        raise MappingError(label, key, f"needs exactly one operator, one of {operators}")
    operator = used[0]
    operand = value[operator]
    where = f"{key}.{operator}"
    if operator in ("is", "present"):
        if not isinstance(operand, bool):
            raise MappingError(label, where, "must be true or false")
    elif operator == "equals":
        if isinstance(operand, dict | list) or operand is None:
            raise MappingError(label, where, "must be a single value")
        operand = scalar_text(operand).strip().lower()
    elif operator == "in":
        if not isinstance(operand, list) or not operand:
            raise MappingError(label, where, "must be a list of values")
        if any(isinstance(item, dict | list) or item is None for item in operand):
            raise MappingError(label, where, "must be a list of single values")
        operand = tuple(scalar_text(item).strip().lower() for item in operand)
    else:
        if isinstance(operand, bool) or not isinstance(operand, int | float):
            raise MappingError(label, where, "must be a number")
        operand = float(operand)
    return Condition(column=column.strip(), operator=operator, operand=operand)


def _parse_section(
    data: object,
    table: str,
    key: str,
    label: str,
    read: ReadOptions,
    columns: dict[str, ColumnType],
) -> Section:
    contract = RAW_CONTRACT[table]
    if not isinstance(data, dict) or not data:
        raise MappingError(
            label, key, f"must map contract columns of {table} to columns of the file"
        )
    sources: dict[str, Source] = {}
    options: dict[str, Any] = {}
    for raw_key, value in data.items():
        name = _key_text(raw_key, label, key)
        where = f"{key}.{name}"
        if name == "when":
            options["when"] = _parse_condition(value, label, where)
        elif name == "repeat":
            if not isinstance(value, str) or not value.strip():
                raise MappingError(label, where, "must name a number column of the file")
            if columns.get(value.strip(), ColumnType()).type != "number":
                raise MappingError(
                    label,
                    where,
                    f"column {value.strip()!r} is not typed number under columns: "
                    f"(add `{value.strip()}: number` there)",
                )
            options["repeat"] = value.strip()
        elif name == "repeat_max":
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise MappingError(label, where, "must be a whole number of at least 1")
            options["repeat_max"] = value
        elif name == "keep":
            options["keep"] = _parse_keep(value, label, where)
        elif name in contract:
            sources[name] = _parse_source(value, label, where)
        else:
            raise MappingError(
                label, where, f"not a column of {table} (its columns: {', '.join(contract)})"
            )
    if "repeat_max" in options and "repeat" not in options:
        raise MappingError(label, f"{key}.repeat_max", "has no effect without repeat")
    for column, source in sources.items():
        if source.template is None:
            continue
        where = f"{key}.{column}"
        if REPEAT_FIELD in source.template.fields and "repeat" not in options:
            raise MappingError(label, where, "{n} is the repeat index: the section has no repeat")
        if SNAPSHOT_FIELD in source.template.fields and read.snapshot_date is None:
            raise MappingError(
                label, where, "{snapshot_date} needs read.snapshot_date (the day of the export)"
            )
    return Section(table=table, key=key, sources=sources, **options)


def _parse_keep(value: object, label: str, key: str) -> str | tuple[str, ...]:
    if value in KEEP_MODES:
        return value
    if isinstance(value, list):
        names = []
        for index, item in enumerate(value):
            if not isinstance(item, str | int | float) or isinstance(item, bool):
                raise MappingError(label, f"{key}[{index}]", "must be a column of the file")
            names.append(str(item).strip())
        return tuple(names)
    raise MappingError(label, key, "must be rest, none or a list of columns of the file")
