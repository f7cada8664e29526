"""Forget a person: the right to erasure, across everything the project keeps.

`forget()` takes emails and contact ids, widens them to the whole person (every record that
shares an id or an email with them, duplicates merged into one canonical contact included),
and removes them from

* every table of the warehouse that holds a contact id, an email or a sync key: raw rows,
  staging, quarantine, intermediate, marts, score and segment histories, predictions, sync
  ledgers and row logs (the connector's own schemas in the Fivetran modes are left to the
  CRM: delete the person there and the connector follows);
* every CSV and Parquet file under the data and landing folders that holds them in any cell:
  landing files (whose manifest entry is updated, so the rewritten file is not loaded again),
  exports, sync change files, backtest and suggestion outputs;
* the DuckDB file's freed pages: the file is rewritten (PostgreSQL: VACUUM FULL of the tables
  that changed), so the bytes are gone, not just unreachable.

It keeps a minimal erasure log, `<raw schema>._erasure_log`: a SHA-256 of each key, when, and
how much was removed; the loader drops rows of a logged person from later loads and says how
many it dropped (ids and emails never reach a log).

Before anything is removed here, every configured sync destination that can delete is asked
to (``orchestration.sync.runner.erase_from_destinations``): HubSpot's GDPR delete, a
Salesforce delete, an erase event to the webhook, a DELETE in the PostgreSQL table. If one
fails, nothing is removed here and the command says which: the warehouse still knows the
person's keys, so running it again (or with that destination's variables unset, to leave it
to be done by hand) finishes the job.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from orchestration.lib.dbt_manifest import crm_source, manifest, relation_name
from orchestration.lib.settings import Settings
from orchestration.lib.warehouse import WarehouseConnection, connect, quote_ident

LOG_TABLE = "_erasure_log"
# Columns whose value is a person's id (contact ids, the sync ledgers' keys) or email.
ID_COLUMNS = ("contact_id", "source_contact_id", "canonical_contact_id", "sync_key")
EMAIL_COLUMNS = ("email",)
SYSTEM_SCHEMAS = ("information_schema", "pg_catalog", "pg_toast")
FILE_SUFFIXES = (".csv", ".parquet")
MAX_ROUNDS = 10  # ids and emails are widened until nothing new turns up


class ErasureError(RuntimeError):
    """An erasure that cannot be done here; the message says why."""


@dataclass
class ErasureReport:
    ids: set[str] = field(default_factory=set)
    emails: set[str] = field(default_factory=set)
    tables: dict[str, int] = field(default_factory=dict)  # schema.table -> rows removed
    files: dict[str, int] = field(default_factory=dict)  # path -> rows removed
    destinations: dict[str, str] = field(default_factory=dict)  # name -> what happened
    compacted: str = ""

    @property
    def keys(self) -> set[str]:
        return self.ids | self.emails

    def summary(self) -> str:
        lines = [
            f"Forgot {len(self.ids)} contact id(s) and {len(self.emails)} email(s) "
            f"(ids and emails are not printed): {sum(self.tables.values()):,} rows from "
            f"{len(self.tables)} table(s), {sum(self.files.values()):,} rows from "
            f"{len(self.files)} file(s).",
        ]
        lines += [f"  table {name}: {rows:,}" for name, rows in sorted(self.tables.items())]
        lines += [f"  file {name}: {rows:,}" for name, rows in sorted(self.files.items())]
        lines += [f"  destination {name}: {what}" for name, what in self.destinations.items()]
        if self.compacted:
            lines.append(f"  {self.compacted}")
        return "\n".join(lines)


def normalise_email(value: str) -> str:
    return value.strip().lower()


def key_hash(kind: str, value: str) -> str:
    """The erasure log's form of an id (`id`) or email (`email`): nothing to read back."""
    normalised = normalise_email(value) if kind == "email" else value.strip()
    return hashlib.sha256(f"{kind}:{normalised}".encode()).hexdigest()


def _in_list(expression: str, values: Sequence[str], placeholder: str) -> tuple[str, list]:
    return f"{expression} in ({', '.join([placeholder] * len(values))})", list(values)


def _tables(conn: WarehouseConnection, skip_schemas: set[str]) -> list[tuple[str, str]]:
    rows = conn.fetchall(
        "select table_schema, table_name from information_schema.tables "
        "where table_type = 'BASE TABLE'"
    )
    return sorted(
        (schema, table)
        for schema, table in rows
        if schema not in SYSTEM_SCHEMAS and schema not in skip_schemas
    )


def _condition(conn, columns: Iterable[str], ids: set[str], emails: set[str]):
    """A where clause matching the person on any of the table's person columns (a sync
    ledger's key is an id or, for HubSpot, an email): (sql, params), or (None, [])."""
    parts, params = [], []
    for column in columns:
        name = column.lower()
        expression = f"cast({quote_ident(column)} as {conn.text_type})"
        if name in ID_COLUMNS and ids:
            sql, values = _in_list(f"trim({expression})", sorted(ids), conn.placeholder)
            parts.append(sql)
            params += values
        if (name in EMAIL_COLUMNS or name == "sync_key") and emails:
            sql, values = _in_list(f"lower(trim({expression}))", sorted(emails), conn.placeholder)
            parts.append(sql)
            params += values
    return (" or ".join(parts), params) if parts else (None, [])


def resolve_person(
    conn: WarehouseConnection, raw_schema: str, identity: str | None, emails, ids
) -> tuple[set[str], set[str]]:
    """Every id and email of the people the request names: records sharing an id or an email
    with them, and the source ids of their canonical contact (`identity`: the relation of
    stg_crm__contact_identity, when it exists)."""
    emails = {normalise_email(email) for email in emails if email.strip()}
    ids = {value.strip() for value in ids if value.strip()}
    contacts = f"{quote_ident(raw_schema)}.crm_contacts"
    has_contacts = bool(conn.table_columns(raw_schema, "crm_contacts"))
    for _ in range(MAX_ROUNDS):
        before = (len(ids), len(emails))
        if has_contacts and (ids or emails):
            where, params = _condition(conn, ["contact_id", "email"], ids, emails)
            for contact_id, email in conn.fetchall(
                f"select contact_id, email from {contacts} where {where}", params
            ):
                if contact_id and contact_id.strip():
                    ids.add(contact_id.strip())
                if email and email.strip():
                    emails.add(normalise_email(email))
        if identity and ids:
            where, params = _in_list("source_contact_id", sorted(ids), conn.placeholder)
            canonical = f"select canonical_contact_id from {identity} where {where}"
            for (source_id,) in conn.fetchall(
                f"select source_contact_id from {identity} where canonical_contact_id in "
                f"({canonical}) or {where}",
                params + params,
            ):
                ids.add(source_id)
        if (len(ids), len(emails)) == before:
            break
    return ids, emails


def erase_tables(
    conn: WarehouseConnection, ids: set[str], emails: set[str], skip_schemas: set[str]
) -> dict[str, int]:
    removed: dict[str, int] = {}
    for schema, table in _tables(conn, skip_schemas):
        columns = conn.table_columns(schema, table)
        where, params = _condition(conn, columns, ids, emails)
        if where is None:
            continue
        name = f"{quote_ident(schema)}.{quote_ident(table)}"
        [(count,)] = conn.fetchall(f"select count(*) from {name} where {where}", params)
        if count:
            conn.execute(f"delete from {name} where {where}", params)
            removed[f"{schema}.{table}"] = int(count)
    return removed


def _matches(cell: object, keys: set[str]) -> bool:
    return cell is not None and str(cell).strip().lower() in keys


def _rewrite_csv(path: Path, keys: set[str]) -> int:
    raw = path.read_bytes()
    text = raw.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        return 0
    header, body = rows[0], rows[1:]
    kept = [row for row in body if not any(_matches(cell, keys) for cell in row)]
    if len(kept) == len(body):
        return 0
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n" if "\r\n" in text[:10_000] else "\n")
    writer.writerow(header)
    writer.writerows(kept)
    _replace(path, out.getvalue().encode())
    return len(body) - len(kept)


def _rewrite_parquet(path: Path, keys: set[str]) -> int:
    table = pq.read_table(path)
    mask = [True] * table.num_rows
    for column in table.column_names:
        for index, value in enumerate(table.column(column).to_pylist()):
            if mask[index] and _matches(value, keys):
                mask[index] = False
    removed = mask.count(False)
    if removed:
        buffer = pa.BufferOutputStream()
        pq.write_table(table.filter(pa.array(mask)), buffer)
        _replace(path, buffer.getvalue().to_pybytes())
    return removed


def _replace(path: Path, content: bytes) -> None:
    temporary = path.with_name(f".{path.name}.erasure")
    temporary.write_bytes(content)
    os.replace(temporary, path)


def erase_files(folders: Iterable[Path], keys: set[str]) -> dict[Path, int]:
    """Rows holding any of `keys` (lower-case) in any cell, removed from every CSV and
    Parquet file under the folders; returns the files changed and the rows removed."""
    changed: dict[Path, int] = {}
    seen: set[Path] = set()
    for folder in folders:
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*")):
            if path in seen or not path.is_file() or path.suffix.lower() not in FILE_SUFFIXES:
                continue
            seen.add(path)
            rewrite = _rewrite_parquet if path.suffix.lower() == ".parquet" else _rewrite_csv
            removed = rewrite(path, keys)
            if removed:
                changed[path] = removed
    return changed


def update_manifest(
    conn: WarehouseConnection, raw_schema: str, landing_dir: Path, changed: Iterable[Path]
) -> None:
    """Rewritten landing files keep their place in the manifest under their new hash, so the
    next load does not take them for new files."""
    from orchestration.ingest.contract import MANIFEST_TABLE
    from orchestration.ingest.loader import export_sha256, file_sha256

    manifest = f"{quote_ident(raw_schema)}.{MANIFEST_TABLE}"
    p = conn.placeholder
    for path in changed:
        if not path.is_relative_to(landing_dir):
            continue
        label = path.relative_to(landing_dir).as_posix()
        mapping = path.relative_to(landing_dir).parts[0]
        mapping_file = landing_dir / mapping / "mapping.yml"
        conn.execute(
            f"update {manifest} set content_sha256 = {p} where file_path = {p}",
            [file_sha256(path), label],
        )
        if mapping_file.exists():
            digest = export_sha256(path, mapping_file.read_bytes())
            conn.execute(
                f"update {manifest} set content_sha256 = {p} where file_path like {p}",
                [digest, f"{label}#%"],
            )


def record(conn: WarehouseConnection, raw_schema: str, report: ErasureReport) -> None:
    conn.create_table(
        raw_schema,
        LOG_TABLE,
        [
            ("key_hash", "varchar not null"),
            ("erased_at", "timestamp not null"),
            ("rows_removed", "bigint not null"),
            ("files_changed", "bigint not null"),
        ],
    )
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    hashes = [key_hash("id", value) for value in report.ids]
    hashes += [key_hash("email", value) for value in report.emails]
    rows = sum(report.tables.values()) + sum(report.files.values())
    p = conn.placeholder
    for value in hashes:
        conn.execute(
            f"insert into {quote_ident(raw_schema)}.{LOG_TABLE} values ({p}, {p}, {p}, {p})",
            [value, now, rows, len(report.files)],
        )


def erased_hashes(conn: WarehouseConnection, raw_schema: str) -> set[str]:
    """The erasure log's key hashes (empty when nobody was forgotten)."""
    if not conn.table_columns(raw_schema, LOG_TABLE):
        return set()
    rows = conn.fetchall(f"select key_hash from {quote_ident(raw_schema)}.{LOG_TABLE}")
    return {value for (value,) in rows}


def drop_erased_rows(batch: pa.Table, hashes: set[str]) -> tuple[pa.Table, int]:
    """A landing batch without the rows of forgotten people (by contact id or email)."""
    if not hashes:
        return batch, 0
    keep = [True] * batch.num_rows
    for column, kind in (("contact_id", "id"), ("email", "email")):
        if column not in batch.column_names:
            continue
        for index, value in enumerate(batch.column(column).to_pylist()):
            if keep[index] and str(value or "").strip() and key_hash(kind, str(value)) in hashes:
                keep[index] = False
    dropped = keep.count(False)
    return (batch.filter(pa.array(keep)), dropped) if dropped else (batch, 0)


def compact_duckdb(path: Path) -> str:
    """Rewrite the DuckDB file, so the pages the deletes freed (which still hold the bytes)
    are gone: every object is copied into a new file that replaces the old one."""
    import duckdb

    fresh = path.with_name(f".{path.stem}.compact{path.suffix}")
    fresh.unlink(missing_ok=True)
    before = path.stat().st_size
    with duckdb.connect() as conn:
        conn.execute(f"attach '{path.as_posix()}' as old_db (read_only)")
        conn.execute(f"attach '{fresh.as_posix()}' as new_db")
        conn.execute("copy from database old_db to new_db")
        conn.execute("detach old_db")
        conn.execute("detach new_db")
    os.replace(fresh, path)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
    return f"DuckDB file rewritten: {before:,} -> {path.stat().st_size:,} bytes"


def forget(
    settings: Settings,
    *,
    emails: Sequence[str] = (),
    contact_ids: Sequence[str] = (),
    relation: Callable[[str], str] | None = None,
    skip_schemas: set[str] = frozenset(),
    destinations: bool = True,
    env: Mapping[str, str] | None = None,
    log: Callable[[str], None] = print,
) -> ErasureReport:
    """Ask the sync destinations to delete the people named by `emails` and `contact_ids`
    (unless `destinations` is false), then remove them from the warehouse and the files, log
    the erasure, and compact the warehouse. `relation(model)` names a dbt model's relation
    (for the identity map); `skip_schemas` are schemas never written (a connector's)."""
    if not emails and not contact_ids:
        raise ErasureError("name at least one email or contact id to forget")
    if settings.target == "spark":
        raise ErasureError(
            "erasure needs DELETE, which Spark's Parquet tables lack: on a Delta or Iceberg "
            "warehouse delete the rows there; the files here are still cleaned"
        )
    report = ErasureReport()
    with connect(settings) as conn:
        identity = None
        if relation is not None:
            try:
                identity = relation("stg_crm__contact_identity")
            except KeyError:
                identity = None
            if identity and not conn.table_columns(*_schema_table(identity)):
                identity = None
        report.ids, report.emails = resolve_person(
            conn, settings.raw_schema, identity, emails, contact_ids
        )
        log(f"forgetting {len(report.ids)} id(s) and {len(report.emails)} email(s)")
        if destinations and relation is not None:
            report.destinations = _erase_from_destinations(conn, settings, report, env, log)
        with conn.transaction():
            report.tables = erase_tables(conn, report.ids, report.emails, skip_schemas)
            keys = {key.lower() for key in report.keys}
            changed = erase_files([settings.landing_dir, settings.data_dir], keys)
            report.files = {str(path): rows for path, rows in changed.items()}
            update_manifest(conn, settings.raw_schema, settings.landing_dir, changed)
            record(conn, settings.raw_schema, report)
        if settings.target == "postgres":
            for name in report.tables:
                schema, table = name.split(".", 1)
                conn.execute(f"vacuum full {quote_ident(schema)}.{quote_ident(table)}")
            report.compacted = f"PostgreSQL: VACUUM FULL of {len(report.tables)} table(s)"
    if settings.target == "duckdb":
        report.compacted = compact_duckdb(settings.duckdb_path)
    return report


def _erase_from_destinations(
    conn: WarehouseConnection,
    settings: Settings,
    report: ErasureReport,
    env: Mapping[str, str] | None,
    log: Callable[[str], None],
) -> dict[str, str]:
    from orchestration.sync.destinations import SyncConfigError
    from orchestration.sync.engine import DestinationError
    from orchestration.sync.runner import erase_from_destinations

    try:
        outcomes = erase_from_destinations(
            conn,
            settings,
            contact_ids=sorted(report.ids),
            emails=sorted(report.emails),
            env=env,
        )
    except (DestinationError, SyncConfigError) as error:
        raise ErasureError(
            f"{error}. Nothing was removed from the warehouse or the files: run the command "
            "again once the destination answers (or unset its variables to leave that "
            "destination to be done by hand)"
        ) from None
    for name, outcome in outcomes.items():
        log(f"destination {name}: {outcome}")
    return outcomes


def _schema_table(relation: str) -> tuple[str, str]:
    schema, table = relation.split(".", 1)
    return schema.strip('"'), table.strip('"')


def forget_in_project(
    settings: Settings,
    *,
    emails: Sequence[str] = (),
    contact_ids: Sequence[str] = (),
    log: Callable[[str], None] = print,
) -> ErasureReport:
    """`forget()` with the dbt project's relations: the identity map, and the connector's
    schemas left alone in the Fivetran modes (their data is the CRM's)."""
    skip = set()
    if crm_source() != "generic":
        skip = {
            node["schema"]
            for node in manifest()["sources"].values()
            if node["source_name"] == crm_source()
        }
    return forget(
        settings,
        emails=emails,
        contact_ids=contact_ids,
        relation=relation_name,
        skip_schemas=skip,
        log=log,
    )
