"""Where each seed's CSV lives: `seeds/<domain>/<name>.csv` (scoring, segments, reference,
quality, sync, predictive). dbt names a seed after its file whatever the folder, so code that
reads or writes a seed file asks here rather than spelling the folder out."""

from __future__ import annotations

from pathlib import Path

from orchestration.lib.settings import PROJECT_ROOT

SEEDS_DIR = PROJECT_ROOT / "seeds"


def seed_paths(seeds_dir: Path = SEEDS_DIR) -> dict[str, Path]:
    """Every seed CSV under `seeds_dir`, at any depth, by seed name."""
    paths: dict[str, Path] = {}
    for path in sorted(seeds_dir.rglob("*.csv")):
        if path.stem in paths:
            # dbt refuses two seeds of one name; say which files before it does.
            raise ValueError(f"seed {path.stem} is in two places: {paths[path.stem]} and {path}")
        paths[path.stem] = path
    return paths


def seed_path(name: str, seeds_dir: Path = SEEDS_DIR) -> Path:
    """The CSV of seed `name` under `seeds_dir` (the project's seeds/ or a copy of it)."""
    try:
        return seed_paths(seeds_dir)[name]
    except KeyError:
        raise FileNotFoundError(f"no seed {name}.csv under {seeds_dir}") from None
