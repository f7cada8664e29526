"""Where seed CSVs live: one folder per domain under seeds/, found by name wherever they sit."""

from __future__ import annotations

from pathlib import Path

import pytest

from orchestration.backtest.engine import rule_files
from orchestration.lib.seeds import SEEDS_DIR, seed_path, seed_paths

DOMAINS = {"scoring", "segments", "reference", "quality", "sync", "predictive"}


def test_every_seed_sits_in_a_domain_folder_with_its_yaml():
    paths = seed_paths()
    assert len(paths) >= 20
    for name, path in paths.items():
        folder = path.parent
        assert folder.parent == SEEDS_DIR and folder.name in DOMAINS, path
        [yaml] = folder.glob("_*__seeds.yml")
        assert f"- name: {name}\n" in yaml.read_text(), (name, yaml)


def test_seed_path_finds_a_seed_in_any_folder(tmp_path: Path):
    (tmp_path / "scoring").mkdir()
    (tmp_path / "scoring" / "scoring_weights.csv").write_text("a\n")
    (tmp_path / "flat.csv").write_text("a\n")
    assert seed_path("scoring_weights", tmp_path) == tmp_path / "scoring" / "scoring_weights.csv"
    assert seed_path("flat", tmp_path) == tmp_path / "flat.csv"
    with pytest.raises(FileNotFoundError, match=r"no seed missing\.csv"):
        seed_path("missing", tmp_path)


def test_a_seed_in_two_folders_is_refused(tmp_path: Path):
    for folder in ("scoring", "segments"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "segment_matrix.csv").write_text("a\n")
    with pytest.raises(ValueError, match="seed segment_matrix is in two places"):
        seed_paths(tmp_path)


def test_a_rules_dir_is_flat_or_laid_out_like_seeds(tmp_path: Path):
    flat = tmp_path / "flat"
    flat.mkdir()
    (flat / "scoring_weights.csv").write_text("a\n")
    (flat / "provenance").mkdir()
    (flat / "provenance" / "rules.csv").write_text("a\n")  # as suggest-rules writes it
    assert rule_files(flat) == {"scoring_weights": flat / "scoring_weights.csv"}
    assert rule_files(SEEDS_DIR) == seed_paths()
