"""The landing files: one folder per raw table holding ``part-NNNNN`` files (CSV or Parquet),
and the hidden ground truth, which lies outside the landing folder.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from orchestration.ingest.contract import RAW_CONTRACT

if TYPE_CHECKING:
    from orchestration.demo.contacts import _Contacts
    from orchestration.demo.people import _People

# The generator writes exactly the raw contract the loader expects.
TABLE_COLUMNS = RAW_CONTRACT
FORMATS = ("csv", "parquet")
TRUTH_FILE = "contacts_truth.csv"


def _clear_outputs(out_dir: Path) -> None:
    """Create the table folders and drop old part files, which a rerun would not overwrite."""
    for table in TABLE_COLUMNS:
        folder = out_dir / table
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("part-*"):
            if old.suffix in {f".{fmt}" for fmt in FORMATS}:
                old.unlink()


def _part_path(out_dir: Path, table: str, index: int, fmt: str) -> Path:
    return out_dir / table / f"part-{index:05d}.{fmt}"


def _schema(table: str) -> pa.Schema:
    return pa.schema([(column, pa.string()) for column in TABLE_COLUMNS[table]])


def _table(table: str, columns: dict[str, pa.Array]) -> pa.Table:
    """Assemble columns in contract order, all strings, failing loudly on a missing column."""
    return pa.Table.from_arrays([columns[c] for c in TABLE_COLUMNS[table]], schema=_schema(table))


def _write(table: pa.Table, out_dir: Path, name: str, fmt: str) -> Path:
    path = _part_path(out_dir, name, 0, fmt)
    if fmt == "csv":
        pa_csv.write_csv(table, path)
    else:
        pq.write_table(table, path)
    return path


def _write_truth(people: _People, contacts: _Contacts, truth_dir: Path) -> Path:
    """One row per clean contact, in id order: the propensity converters were drawn from."""
    n = people.n_clean
    order = pc.sort_indices(contacts.person_id)
    truth = pa.table(
        {
            "contact_id": contacts.person_id.take(order),
            "propensity": pa.array(people.propensity[:n]).take(order),
            "converted": pa.array(people.converted[:n]).take(order),
        }
    )
    truth_dir.mkdir(parents=True, exist_ok=True)
    path = truth_dir / TRUTH_FILE
    pa_csv.write_csv(truth, path)
    return path
