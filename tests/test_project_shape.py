"""The dbt project's shape, as the repository layout promises it: lineage visible in the model
files (no macro calls ref()), every model in an owned group, intermediate models private and
marts public, no intermediate model reading a mart of its own group, and marts named dim_ or
fct_ (old names only as the deprecated views)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from dbt.cli.main import dbtRunner

from orchestration.lib.settings import DBT_PROJECT_DIR, PROJECT_ROOT


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> dict:
    target = tmp_path_factory.mktemp("shape-target")
    result = dbtRunner().invoke(
        [
            "parse",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--target-path",
            str(target),
            "--quiet",
        ]
    )
    assert result.success, result.exception
    return {
        node.name: node
        for node in result.result.nodes.values()
        if node.resource_type.value == "model"
    }


def layer(node) -> str:
    return Path(node.original_file_path).parts[1]


def test_no_macro_calls_ref():
    calls = [
        f"{path.relative_to(PROJECT_ROOT)}:{number}"
        for path in (PROJECT_ROOT / "macros").rglob("*.sql")
        for number, line in enumerate(path.read_text().splitlines(), start=1)
        if re.search(r"\bref\s*\(", line)
    ]
    assert calls == []


def test_every_model_has_a_group_and_the_access_of_its_layer(models):
    deprecated = {name for name, node in models.items() if "deprecated" in node.original_file_path}
    assert deprecated, "the renamed marts keep their old names as views"
    for name, node in models.items():
        if name in deprecated:
            assert node.deprecation_date is not None, name
            continue
        assert node.group, f"{name} has no group"
        expected = {"intermediate": "private", "marts": "public"}.get(layer(node))
        if expected:
            assert node.access.value == expected or shared_with_another_group(node, models), name


def shared_with_another_group(node, models) -> bool:
    """An intermediate model may be protected instead of private only when an intermediate
    model of another group reads it."""
    return node.access.value == "protected" and any(
        node.unique_id in other.depends_on.nodes and other.group != node.group
        for other in models.values()
        if layer(other) == "intermediate"
    )


def test_no_intermediate_model_reads_a_mart_of_its_own_group(models):
    by_id = {node.unique_id: node for node in models.values()}
    for node in models.values():
        if layer(node) != "intermediate":
            continue
        for parent_id in node.depends_on.nodes:
            parent = by_id.get(parent_id)
            if parent is not None and layer(parent) == "marts":
                assert parent.group != node.group, f"{node.name} reads {parent.name}"


def test_marts_are_named_dim_or_fct(models):
    names = [
        name
        for name, node in models.items()
        if layer(node) == "marts" and "deprecated" not in node.original_file_path
    ]
    assert len(names) > 10
    assert [name for name in names if not name.startswith(("dim_", "fct_"))] == []


def test_every_macro_file_holds_one_family():
    """A macro file is named after its macro; what else it holds are that macro's adapter
    variants (`<adapter>__<name>`) and helpers nothing outside the file calls."""
    macro = re.compile(r"{%-?\s*(?:macro|test|materialization)\s+(\w+)")
    sources = [
        path
        for folder in ("macros", "dbt_project/models", "dbt_project/tests", "seeds")
        for path in (PROJECT_ROOT / folder).rglob("*")
        if path.suffix in (".sql", ".yml")
    ]
    texts = {path: path.read_text() for path in sources}
    problems = []
    for path in (PROJECT_ROOT / "macros").rglob("*.sql"):
        family = path.stem
        names = macro.findall(texts[path])
        # dbt-spark's overrides of dbt's own macros hold only the `spark__` variant.
        if not any(name.lstrip("_") == family or name.endswith(f"__{family}") for name in names):
            problems.append(f"{path.name}: no macro named {family}")
        for name in names:
            if name.lstrip("_") == family or name.endswith(f"__{family}"):
                continue
            callers = [
                other.name
                for other, text in texts.items()
                if other != path and re.search(rf"\b{name}\b", text)
            ]
            if callers:
                problems.append(f"{path.name}: {name} is called from {callers}")
    assert problems == []
