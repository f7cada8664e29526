"""The regular expressions in the seeds are compiled before any work, so a bad one is named by
seed, line and rule instead of failing the dbt build halfway with `Invalid Input Error: missing
]` (which named neither, and left staging rebuilt and the marts stale).

Which seed columns hold a pattern:

| seed | column | when |
|---|---|---|
| job_title_patterns | pattern | always |
| scoring_fit_rules | value | operator is `regex` |
| custom_segments | value | operator is `regex` |
| scoring_behavior_rules | url_pattern | always (empty: no URL condition) |
| scoring_behavior_rules | filter_value | filter_operator is `regex` |

Each pattern is compiled by the engine that will run it: DuckDB's (RE2) for the DuckDB target,
PostgreSQL's own for PostgreSQL (one query on the warehouse), Python's `re` for Spark (close to
Java's regular expressions for the syntax rules use).
"""

from __future__ import annotations

import csv
import re
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib.seeds import SEEDS_DIR, seed_paths
from orchestration.lib.settings import Settings


@dataclass(frozen=True)
class PatternColumn:
    column: str
    only_when: tuple[str, str] | None = None  # (column, value): the row's pattern is a regex
    key: tuple[str, ...] = ()  # the columns that name the row's rule


PATTERN_COLUMNS: dict[str, tuple[PatternColumn, ...]] = {
    "job_title_patterns": (PatternColumn("pattern", key=("pattern_id",)),),
    "scoring_fit_rules": (PatternColumn("value", ("operator", "regex"), ("rule_id",)),),
    "custom_segments": (
        PatternColumn("value", ("operator", "regex"), ("segment_name", "condition_id")),
    ),
    "scoring_behavior_rules": (
        PatternColumn("url_pattern", key=("rule_id",)),
        PatternColumn("filter_value", ("filter_operator", "regex"), ("rule_id",)),
    ),
}


class SeedPatternError(ValueError):
    """One or more regular expressions in the seeds do not compile; one line per pattern."""

    def __init__(self, problems: list[str]):
        super().__init__(
            "regular expressions in the seeds that do not compile (fix them and run again; "
            "nothing was built):\n" + "\n".join(f"  {problem}" for problem in problems)
        )
        self.problems = problems


Compiler = Callable[[str], str | None]  # a pattern -> the engine's complaint, or None


def python_compiler(pattern: str) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "possible nested set" and the like are not errors
        try:
            re.compile(pattern)
        except re.error as error:
            return str(error)
    return None


def duckdb_compiler() -> Compiler:
    import duckdb

    conn = duckdb.connect(":memory:")

    def compile_pattern(pattern: str) -> str | None:
        try:
            conn.execute("select regexp_matches('', ?)", [pattern]).fetchall()
        except duckdb.Error as error:
            return str(error).removeprefix("Invalid Input Error: ")
        return None

    return compile_pattern


def patterns_in(seed: str, path: Path) -> Iterable[tuple[int, str, str, str]]:
    """(line, column, rule, pattern) for every pattern of one seed file."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        for row in reader:
            for spec in PATTERN_COLUMNS[seed]:
                pattern = (row.get(spec.column) or "").strip()
                if not pattern:
                    continue
                if spec.only_when is not None:
                    column, wanted = spec.only_when
                    if (row.get(column) or "").strip().lower() != wanted:
                        continue
                rule = ", ".join(f"{key} {row.get(key) or ''!r}" for key in spec.key)
                yield reader.line_num, spec.column, rule, pattern


def pattern_problems(seed_files: Mapping[str, Path], compile_pattern: Compiler) -> list[str]:
    problems = []
    for seed, path in sorted(seed_files.items()):
        if seed not in PATTERN_COLUMNS or not path.is_file():
            continue
        for line, column, rule, pattern in patterns_in(seed, path):
            complaint = compile_pattern(pattern)
            if complaint is not None:
                problems.append(
                    f"{path} line {line} ({rule}): {column} {pattern!r} is not a valid regular "
                    f"expression: {complaint}"
                )
    return problems


def seed_files(seeds_dir: Path = SEEDS_DIR, overlay: Mapping[str, Path] | None = None) -> dict:
    """The pattern-bearing seed files in use: the shipped ones, replaced by an overlay's."""
    files = {seed: path for seed, path in seed_paths(seeds_dir).items() if seed in PATTERN_COLUMNS}
    files.update({seed: path for seed, path in (overlay or {}).items() if seed in files})
    return files


def compiler_for(settings: Settings) -> Compiler:
    if settings.target == "duckdb":
        return duckdb_compiler()
    if settings.target == "postgres":
        from orchestration.lib.warehouse import connect

        def compile_on_postgres(pattern: str) -> str | None:
            try:
                with connect(settings) as conn:
                    conn.fetchall(f"select '' ~ {conn.placeholder}", [pattern])
            except Exception as error:  # psycopg's InvalidRegularExpression and kin
                return str(error).strip().splitlines()[0]
            return None

        return compile_on_postgres
    return python_compiler


def check_seed_patterns(settings: Settings, overlay: Mapping[str, Path] | None = None) -> None:
    """Raises SeedPatternError naming every pattern of the seeds in use that does not compile."""
    problems = pattern_problems(seed_files(overlay=overlay), compiler_for(settings))
    if problems:
        raise SeedPatternError(problems)
