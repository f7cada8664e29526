"""Files: changed rows as Parquet or CSV files, for tools that read files; always on (the
demo's destination). LEADSCORE_SYNC_FILES_DIR (default ``<data dir>/sync``) and
LEADSCORE_SYNC_FILES_FORMAT (parquet or csv) say where and how."""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.files import write_atomically
from orchestration.sync.destinations.base import (
    DestinationConfig,
    DestinationSpec,
    SyncConfigError,
    upsert_only,
)
from orchestration.sync.engine import Destination, Rejection, SyncRecord

if TYPE_CHECKING:
    from orchestration.lib.settings import Settings


class FilesDestination(Destination):
    """Changed rows as files for tools that read files: one file per batch, named by time and
    run, in ``<dir>/<object_type>/``, with the key column and ``_change`` (added / changed);
    removed keys go to a ``removed-*.csv`` file. Files are written to a temporary name and
    renamed, so a reader never sees half a file. The demo's default destination."""

    name = "files"
    max_batch_size = 1_000_000
    supports_delete = True

    def __init__(self, config: DestinationConfig, directory: Path, file_format: str):
        if file_format not in ("parquet", "csv"):
            raise SyncConfigError(
                f"LEADSCORE_SYNC_FILES_FORMAT={file_format!r}: use parquet or csv"
            )
        upsert_only(config)
        self.config = config
        self.directory = directory / config.object_type
        self.format = file_format
        self._stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        self._batches = 0
        self.written: list[Path] = []

    def _path(self, prefix: str, suffix: str) -> Path:
        self._batches += 1
        return self.directory / f"{prefix}-{self._stamp}-{self._batches:05d}.{suffix}"

    def send(self, batch: Sequence[SyncRecord]) -> list[Rejection]:
        key = self.config.id_property
        rows = [{key: r.key, **r.values, "_change": r.change} for r in batch]
        table = pa.Table.from_pylist(rows)
        path = self._path("changes", self.format)
        if self.format == "parquet":
            write_atomically(path, lambda p: pq.write_table(table, p))
        else:
            import pyarrow.csv as pa_csv

            write_atomically(path, lambda p: pa_csv.write_csv(table, p))
        self.written.append(path)
        return []

    def delete(self, keys: Sequence[str]) -> None:
        path = self._path("removed", "csv")

        def write(target: Path) -> None:
            with target.open("w", newline="") as handle:
                writer = csv.writer(handle)
                writer.writerow([self.config.id_property])
                writer.writerows([k] for k in keys)

        write_atomically(path, write)
        self.written.append(path)


def build(
    config: DestinationConfig, settings: Settings, env: Mapping[str, str]
) -> FilesDestination:
    directory = Path(env.get("LEADSCORE_SYNC_FILES_DIR", settings.data_dir / "sync"))
    return FilesDestination(config, directory, env.get("LEADSCORE_SYNC_FILES_FORMAT", "parquet"))


DESTINATION = DestinationSpec(
    "files",
    "sync_files__leads",
    "parquet",
    "Changed leads as Parquet (or CSV) files in <data dir>/sync/leads/, for tools that "
    "read files. Always on: the demo's destination.",
    build,
)
