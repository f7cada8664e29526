"""Build the marts from one git revision and from the working tree, on the same raw data, and
compare them table by table.

    .venv/bin/python tests/compare_marts.py BASE_REF [--contacts N] [--events N]

For a change that should not change behaviour (a refactoring, a macro move): both sides load
the same generated demo files into DuckDB, run `dbt seed`, then `dbt run` as of two dates (the
second incremental, and calibrated on the first). Every table and view in the marts and sync
schemas of BASE_REF must exist in the working tree's build under the same name (renamed marts
keep their old name as a view) and hold the same rows; numbers are compared to 1e-9. Columns
starting with `_` (load and refresh stamps) are left out. `dbt ls` of both sides, for each CRM
source, must list every model of BASE_REF (renamed ones under their new name as well). Exits 1
and lists what differs.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO
from pathlib import Path

import duckdb

from orchestration.demo.generator import generate_demo_data
from orchestration.ingest.loader import ingest_landing
from orchestration.lib.project_copy import DBT_FOLDERS, copy_project
from orchestration.lib.settings import PROJECT_ROOT
from orchestration.lib.warehouse import DuckDBConnection

AS_OF = date(2025, 6, 30)
EARLIER = AS_OF - timedelta(days=120)
SCHEMAS = ("marts", "sync")
# Numbers agree to this relative difference.
TOLERANCE = 1e-9
# Fivetran adapter models renamed since BASE_REF (they are views of other views, not compared
# as tables: the staging models they feed are).
RENAMED_PREFIXES = {
    "base_hubspot__": "adapter_hubspot__",
    "base_salesforce__": "adapter_salesforce__",
}
# Marts renamed since BASE_REF: both names are compared, the old one (a view now) and the new.
RENAMED = {
    "mart_accounts": "dim_accounts",
    "mart_lead_segments": "dim_lead_segments",
    "mart_segment_summary": "fct_segment_summary",
    "mart_calibration_by_band": "fct_calibration_by_band",
    "mart_calibration_by_dimension": "fct_calibration_by_dimension",
    "mart_calibration_metrics": "fct_calibration_metrics",
    "mart_threshold_suggestions": "fct_threshold_suggestions",
}


def checkout(ref: str, dest: Path) -> None:
    archive = subprocess.run(
        ["git", "archive", "--format=tar", ref, *DBT_FOLDERS],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    ).stdout
    with tarfile.open(fileobj=BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")


def build(root: Path, warehouse: Path) -> None:
    """Seed, then run as of EARLIER and as of AS_OF: the second run is incremental, and the
    score history then holds a snapshot whose calibration window has passed."""
    env = {
        **os.environ,
        "LEADSCORE_TARGET": "duckdb",
        "LEADSCORE_DUCKDB_PATH": str(warehouse),
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    for command, as_of in ((["seed"], AS_OF), (["run"], EARLIER), (["run"], AS_OF)):
        env["LEADSCORE_AS_OF_DATE"] = as_of.isoformat()
        done = subprocess.run(
            ["dbt", *command, "--profiles-dir", "."],
            cwd=root / "dbt_project",
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            sys.exit(f"dbt {command[0]} failed in {root}:\n{done.stdout[-4000:]}")


def model_names(root: Path, crm_source: str) -> set[str]:
    command = ["dbt", "ls", "--resource-type", "model", "--output", "name", "--quiet"]
    done = subprocess.run(
        [*command, "--profiles-dir", ".", "--vars", f"{{crm_source: {crm_source}}}"],
        cwd=root / "dbt_project",
        env={
            **os.environ,
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
        },
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        sys.exit(f"dbt ls failed in {root}:\n{done.stdout[-4000:]}")
    return {line.strip() for line in done.stdout.splitlines() if line.strip()}


def new_name(model: str) -> str:
    for old, new in RENAMED_PREFIXES.items():
        if model.startswith(old):
            return new + model[len(old) :]
    return RENAMED.get(model, model)


def compare_model_lists(roots: dict[str, Path]) -> list[str]:
    """`dbt ls` of each side, for every CRM source: every model of BASE_REF is still there,
    renamed models under their new name too."""
    failures = []
    for crm_source in ("generic", "hubspot", "salesforce"):
        base, head = (model_names(roots[side], crm_source) for side in ("base", "head"))
        # The new names, and the old mart names (kept as views).
        expected = {new_name(model) for model in base} | (base & RENAMED.keys())
        missing = sorted(expected - head)
        if missing:
            failures.append(f"dbt ls ({crm_source}): missing from the working tree: {missing}")
        print(
            f"  dbt ls ({crm_source}): {len(base)} models in the base, {len(head)} now; "
            f"new: {sorted(head - expected) or 'none'}"
        )
    return failures


def relations(conn: duckdb.DuckDBPyConnection, catalog: str) -> set[tuple[str, str]]:
    rows = conn.execute(
        "select table_schema, table_name from information_schema.tables "
        "where table_catalog = ? and table_schema in ?",
        [catalog, list(SCHEMAS)],
    ).fetchall()
    return set(rows)


def number_columns(conn: duckdb.DuckDBPyConnection, relation: str) -> set[str]:
    types = conn.execute(f"select column_name, column_type from (describe {relation})").fetchall()
    return {
        name
        for name, kind in types
        if kind in ("DOUBLE", "FLOAT", "REAL") or kind.startswith("DECIMAL")
    }


def close(left: tuple, right: tuple) -> bool:
    """Rows equal but for floating-point noise (a parallel sum adds in any order)."""
    return all(
        a == b
        or (
            isinstance(a, float | Decimal)
            and isinstance(b, float | Decimal)
            and abs(float(a) - float(b)) <= TOLERANCE * max(1.0, abs(float(a)))
        )
        for a, b in zip(left, right, strict=True)
    )


def compare(conn: duckdb.DuckDBPyConnection, schema: str, old: str, new: str) -> str | None:
    base, head = f"base.{schema}.{old}", f"head.{schema}.{new}"
    base_columns = [r[0] for r in conn.execute(f"describe {base}").fetchall()]
    head_columns = [r[0] for r in conn.execute(f"describe {head}").fetchall()]
    if base_columns != head_columns:
        return f"columns differ: {base_columns} != {head_columns}"
    numbers = number_columns(conn, base)
    # Exact columns first, numbers last: rows that differ are paired on the exact columns.
    columns = [c for c in base_columns if not c.startswith("_") and c not in numbers]
    columns += [c for c in base_columns if c in numbers]
    keys = len(columns) - len(numbers)
    select = ", ".join(f'"{column}"' for column in columns)
    left, right = f"select {select} from {base}", f"select {select} from {head}"
    [(count,)] = conn.execute(f"select count(*) from {base}").fetchall()
    only_base = sorted(conn.execute(f"{left} except all {right}").fetchall(), key=str)
    only_head = sorted(conn.execute(f"{right} except all {left}").fetchall(), key=str)
    paired = len(only_base) == len(only_head) and all(
        a[:keys] == b[:keys] and close(a, b) for a, b in zip(only_base, only_head, strict=True)
    )
    if not paired:
        shown = "\n      ".join(str(row) for row in (only_base[:3] + only_head[:3]))
        return (
            f"{len(only_base)} of {count} rows differ "
            f"({len(only_head)} only in the working tree):\n      {shown}"
        )
    print(f"  {schema}.{old:<32} = {schema}.{new:<32} {count:>8} rows")
    return None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_ref", help="the git revision to compare against, e.g. main~3")
    parser.add_argument("--contacts", type=int, default=2_000)
    parser.add_argument("--events", type=int, default=80_000)
    parser.add_argument("--keep", type=Path, help="copy both warehouses here to look into them")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="compare-marts-") as tmp:
        tmp_path = Path(tmp)
        landing = tmp_path / "landing"
        print(f"Generating {args.contacts:,} contacts and {args.events:,} events ...")
        generate_demo_data(
            landing, contacts=args.contacts, events=args.events, seed=7, as_of=AS_OF, progress=False
        )
        raw = tmp_path / "landed.duckdb"
        with duckdb.connect(str(raw)) as conn:
            ingest_landing(DuckDBConnection(conn), landing, "raw", log=lambda message: None)

        sides, roots = {}, {}
        for side in ("base", "head"):
            root = tmp_path / side
            if side == "base":
                checkout(args.base_ref, root)
            else:
                copy_project(root)
            warehouse = tmp_path / f"{side}.duckdb"
            shutil.copy(raw, warehouse)
            print(f"Building {args.base_ref if side == 'base' else 'the working tree'} ...")
            build(root, warehouse)
            sides[side], roots[side] = warehouse, root
            if args.keep:
                args.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy(warehouse, args.keep / warehouse.name)

        failures = compare_model_lists(roots)
        with duckdb.connect() as conn:
            for side, warehouse in sides.items():
                conn.execute(f"attach '{warehouse}' as {side} (read_only)")
            base, head = relations(conn, "base"), relations(conn, "head")
            for schema, name in sorted(base):
                pairs = [(name, name)] + ([(name, RENAMED[name])] if name in RENAMED else [])
                for old, new in pairs:
                    if (schema, new) not in head:
                        failures.append(f"{schema}.{new}: missing from the working tree's build")
                        continue
                    problem = compare(conn, schema, old, new)
                    if problem:
                        failures.append(f"{schema}.{old} vs {new}: {problem}")
            for schema, name in sorted(head - base):
                if name not in RENAMED.values():
                    print(f"  {schema}.{name}: new in the working tree (not compared)")
    if failures:
        print("\nDIFFERENT:\n  " + "\n  ".join(failures))
        return 1
    print(f"\nIdentical: every mart and sync relation of {args.base_ref} ({len(base)}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
