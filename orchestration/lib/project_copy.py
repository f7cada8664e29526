"""Copy the parts of the checkout that dbt builds from, for a build in a scratch folder (the
backtest, and tests that edit seeds or build a warehouse of their own)."""

from __future__ import annotations

import shutil
from pathlib import Path

from orchestration.lib.settings import PROJECT_ROOT

# What `dbt build` reads: the project file and models, and the seeds and macros it points at
# one level up.
DBT_FOLDERS = ("dbt_project", "seeds", "macros")
# Build output and caches: a copy parses and builds afresh.
_NOT_SOURCE = shutil.ignore_patterns(
    "target", "target-spark", "logs", "dbt_packages", "__pycache__"
)


def copy_project(dest: Path, *, source: Path = PROJECT_ROOT, with_code: bool = False) -> Path:
    """Copy the dbt project, seeds and macros of `source` (and with `with_code`, the
    orchestration package, as a user's checkout holds it) into `dest`; return `dest`."""
    folders = ("orchestration", *DBT_FOLDERS) if with_code else DBT_FOLDERS
    for folder in folders:
        shutil.copytree(source / folder, dest / folder, ignore=_NOT_SOURCE)
    return dest
