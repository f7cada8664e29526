"""A regular expression in a seed that does not compile is reported before any work, naming the
seed file, its line and the rule, by the engine that would run it. Before, the dbt build failed
halfway with `Invalid Input Error: missing ]`, naming neither, with staging rebuilt and the
marts stale."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from orchestration.lib.seed_patterns import (
    PATTERN_COLUMNS,
    compiler_for,
    duckdb_compiler,
    pattern_problems,
    python_compiler,
    seed_files,
)
from orchestration.lib.seeds import seed_path
from orchestration.lib.settings import PROJECT_ROOT, load_settings


def copy_with(tmp: Path, seed: str, replace: str, by: str) -> Path:
    """A copy of a shipped seed with one text replaced (the replaced text must be there)."""
    text = seed_path(seed).read_text()
    assert replace in text
    path = tmp / f"{seed}.csv"
    path.write_text(text.replace(replace, by, 1))
    return path


def line_of(path: Path, needle: str) -> int:
    [number] = [i for i, line in enumerate(path.read_text().splitlines(), 1) if needle in line]
    return number


def test_the_shipped_seeds_compile_on_every_engine():
    files = seed_files()
    assert set(files) == set(PATTERN_COLUMNS)
    assert pattern_problems(files, duckdb_compiler()) == []
    assert pattern_problems(files, python_compiler) == []


@pytest.mark.parametrize("engine", ["duckdb", "python"])
def test_a_bad_pattern_is_named_by_seed_line_and_rule(tmp_path, engine):
    segments = copy_with(
        tmp_path,
        "custom_segments",
        "(cto|it manager|chief technology officer)",
        "(cto|it manager|chief technology officer",
    )
    fit = tmp_path / "scoring_fit_rules.csv"
    fit.write_text(
        seed_path("scoring_fit_rules").read_text().rstrip("\n")
        + '\nfit_bad_regex,job_title,text,regex,"vp{3,1}",,,,5,,,all,Broken on purpose\n'
    )
    compile_pattern = duckdb_compiler() if engine == "duckdb" else python_compiler
    problems = pattern_problems(
        seed_files(overlay={"custom_segments": segments, "scoring_fit_rules": fit}),
        compile_pattern,
    )
    assert len(problems) == 2
    segment_line = line_of(segments, "chief technology officer(")
    fit_line = len(fit.read_text().splitlines())
    assert problems[0].startswith(
        f"{segments} line {segment_line} (segment_name 'High-Intent Tech Leads', condition_id "
        "'title'): value '(^|[^a-z])(cto|it manager|chief technology officer([^a-z]|$)' is "
        "not a valid regular expression: "
    )
    assert problems[1].startswith(
        f"{fit} line {fit_line} (rule_id 'fit_bad_regex'): value 'vp{{3,1}}' is not a valid "
        "regular expression: "
    )
    if engine == "duckdb":
        assert problems[0].endswith(
            "missing ): (^|[^a-z])(cto|it manager|chief technology officer([^a-z]|$)"
        )
        assert problems[1].endswith("invalid repetition size: {3,1}")


def test_postgres_compiles_with_its_own_engine(tmp_path, monkeypatch):
    """PostgreSQL's regular expressions are not RE2: `\\y` (a word boundary) is fine there,
    while a missing ] is not."""
    monkeypatch.setenv("LEADSCORE_TARGET", "postgres")
    for name, value in {
        "LEADSCORE_PG_HOST": "127.0.0.1",
        "LEADSCORE_PG_PORT": "5432",
        "LEADSCORE_PG_USER": "postgres",
        "LEADSCORE_PG_DATABASE": "test",
    }.items():
        monkeypatch.setenv(name, value)
    compile_pattern = compiler_for(load_settings())
    assert compile_pattern(r"\yvp\y") is None
    assert "brackets [] not balanced" in compile_pattern("(cto|[it")


def test_leadscore_run_refuses_a_bad_seed_before_it_loads_anything(tmp_path):
    """The real command on a copy of the project whose job_title_patterns has a broken
    pattern: exit 2, the seed, line and pattern id named, no warehouse, no demo data."""
    project = tmp_path / "project"
    for folder in ("orchestration", "dbt_project", "macros", "seeds"):
        shutil.copytree(
            PROJECT_ROOT / folder,
            project / folder,
            ignore=shutil.ignore_patterns("target", "logs", "__pycache__", "*.duckdb"),
        )
    patterns = seed_path("job_title_patterns", project / "seeds")
    text = patterns.read_text()
    [original] = [line for line in text.splitlines() if line.startswith("seniority_vp,")]
    patterns.write_text(
        text.replace(original, original.replace("(vice president|", "[vice president|"))
    )
    data = tmp_path / "data"
    env = {**os.environ, "LEADSCORE_TARGET": "duckdb", "LEADSCORE_DATA_DIR": str(data)}
    env.pop("LEADSCORE_LANDING_DIR", None)
    env.pop("LEADSCORE_DUCKDB_PATH", None)
    completed = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "run", "--contacts", "1000"],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 2, completed.stderr[-2000:]
    line = line_of(patterns, "seniority_vp,")
    assert (
        f"{patterns} line {line} (pattern_id 'seniority_vp'): pattern '[vice president|"
        in completed.stderr
    )
    assert "is not a valid regular expression: unexpected ): " in completed.stderr
    assert "nothing was built" in completed.stderr
    assert not data.exists() or not any(data.iterdir())
