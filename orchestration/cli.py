"""`leadscore`: generate demo data, refresh the warehouse, and print what happened.

leadscore run        run the Dagster job `refresh_warehouse` (ingest + dbt build) and
                     summarise; demo data is generated first only into a new, empty warehouse
leadscore generate   write synthetic landing files
leadscore summary    print the summary of the current warehouse
leadscore sync       sync the marts to one or all destinations (diff-based; --dry-run,
                     --full-resync; a warehouse scored for a past date is not synced
                     unless --allow-past-as-of)
leadscore hubspot-setup
                     create the HubSpot properties the sync writes (checked before a sync)
leadscore backtest   score a past date with alternative rules and the current ones in a
                     scratch warehouse and compare them (production is not touched)
leadscore suggest-rules
                     learn rule points from outcomes, write them as seed CSVs and backtest
                     them against the current rules
leadscore inspect    profile a CRM export (CSV / Parquet) and draft its mapping.yml
                     (docs/onboarding.md)
leadscore forget     erase people from the sync destinations, the warehouse and the files

A command that starts dbt is supervised: killed, it leaves no dbt process behind
(orchestration/lib/runs.py).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path

from orchestration.lib.runs import supervised
from orchestration.lib.seed_patterns import SeedPatternError, check_seed_patterns
from orchestration.lib.settings import Settings, SettingsError, load_settings

DEFAULT_CONTACTS = 20_000
DEFAULT_EVENTS = 1_000_000


def _add_generation_args(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("demo data")
    group.add_argument("--contacts", type=int, default=DEFAULT_CONTACTS, help="people (1k-1M)")
    group.add_argument("--events", type=int, default=DEFAULT_EVENTS, help="events (10k-50M)")
    group.add_argument("--seed", type=int, default=42, help="random seed (same seed, same files)")
    group.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="`run` scores as of this date (YYYY-MM-DD; default: LEADSCORE_AS_OF_DATE, else "
        "today in UTC); generated demo activity spreads over the year before it",
    )
    group.add_argument("--format", choices=("csv", "parquet"), default="csv")
    group.add_argument("--chunk-size", type=int, default=1_000_000, help="events per file")


def _generate(args: argparse.Namespace, out_dir: Path) -> None:
    from orchestration.demo.generator import generate_demo_data

    as_of = args.as_of or datetime.now(UTC).date()
    print(
        f"generating demo data: {args.contacts:,} contacts, {args.events:,} events, "
        f"seed {args.seed}, as of {as_of} -> {out_dir}",
        flush=True,
    )
    result = generate_demo_data(
        out_dir,
        contacts=args.contacts,
        events=args.events,
        seed=args.seed,
        as_of=as_of,
        fmt=args.format,
        chunk_size=args.chunk_size,
        progress=True,
    )
    written = ", ".join(f"{table} {rows:,}" for table, rows in result.rows.items())
    print(f"wrote {len(result.files)} files: {written}")


def _has_landing_files(landing_dir: Path) -> bool:
    """True when the loader would find a file to load, in a raw table folder or an export
    folder (the loader decides what counts)."""
    from orchestration.ingest.loader import landing_file_count

    return landing_file_count(landing_dir) > 0


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Plain-text table: numbers right-aligned (whole numbers with thousands separators,
    others to one decimal), text left-aligned."""
    numeric = [
        bool(rows) and all(isinstance(row[i], int | float) for row in rows)
        for i in range(len(headers))
    ]

    def text(value: object) -> str:
        if isinstance(value, int):
            return f"{value:,}"
        return f"{value:,.1f}" if isinstance(value, float) else str(value)

    cells = [[text(v) for v in row] for row in rows]
    widths = [max(len(h), *(len(row[i]) for row in cells)) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        return (
            "  "
            + "  ".join(
                value.rjust(width) if is_number else value.ljust(width)
                for value, width, is_number in zip(values, widths, numeric, strict=True)
            ).rstrip()
        )

    return "\n".join([line(headers), *(line(row) for row in cells)]).rstrip()


def summary_text(settings: Settings) -> str:
    """The warehouse's reconciliation and data-quality counts, read after dbt has finished."""
    from orchestration.lib.dbt_manifest import relation_name
    from orchestration.lib.warehouse import connect

    with connect(settings, read_only=True) as conn:
        reconciliation = conn.fetchall(
            "select raw_table, raw_rows, staged_rows, quarantined_rows, merged_rows "
            f"from {relation_name('audit_raw_reconciliation')} order by raw_table"
        )
        stages = conn.fetchall(
            "select lead_stage, count(*), avg(fit_score), avg(behavior_score), avg(lead_score), "
            f"max(as_of_date) from {relation_name('dim_leads')} "
            "group by lead_stage order by min(lead_score)"
        )
        segments = conn.fetchall(
            "select segment, count(*), max(queue), count(distinct owner_id) "
            f"from {relation_name('dim_lead_segments')} "
            "group by segment order by min(segment_priority)"
        )
        quality = conn.fetchall(
            "select disposition, raw_table, reason, row_count "
            f"from {relation_name('audit_data_quality')} "
            "order by disposition, raw_table, row_count desc"
        )
    parts = [
        "Rows per raw table (every raw row is staged, quarantined or merged):",
        _table(
            ["raw table", "raw", "staged", "quarantined", "merged"],
            [[table, int(a), int(b), int(c), int(d)] for table, a, b, c, d in reconciliation],
        ),
    ]
    titles = {
        "quarantined": "Quarantined by reason (kept with the reason in the quarantine schema):",
        "merged": "Merged into another row:",
        "flagged": "Flagged and kept in staging:",
    }
    for disposition, title in titles.items():
        rows = [[t, r, int(n)] for d, t, r, n in quality if d == disposition]
        if rows:
            parts += ["", title, _table(["raw table", "reason", "rows"], rows)]
    if stages:
        as_of = max(row[5] for row in stages)
        parts += [
            "",
            f"Leads by stage, scored as of {as_of} (dim_leads; reasons per lead in score_reasons):",
            _table(
                ["stage", "leads", "avg fit", "avg behaviour", "avg lead score"],
                [
                    [stage, int(n), float(fit), float(behavior), float(lead)]
                    for stage, n, fit, behavior, lead, _ in stages
                ],
            ),
        ]
    if segments:
        parts += [
            "",
            "Leads by segment, with their route (dim_lead_segments):",
            _table(
                ["segment", "leads", "route", "owners"],
                [
                    [segment, int(n), queue or "", int(owners)]
                    for segment, n, queue, owners in segments
                ],
            ),
        ]
    report = settings.data_dir / "reports" / "lead_segment_report.html"
    if report.exists():
        parts += ["", f"Report: {report}", f"Parquet for BI tools: {settings.data_dir / 'exports'}"]
    parts += ["", f"Warehouse: {settings.describe_warehouse()} (dbt target {settings.target})"]
    return "\n".join(parts)


def _warehouse_has_data(settings: Settings) -> bool:
    """Whether the warehouse has loaded anything yet (a row in the ingest manifest)."""
    from orchestration.ingest.contract import MANIFEST_TABLE
    from orchestration.lib.warehouse import connect, quote_ident

    if settings.target == "duckdb" and not settings.duckdb_path.exists():
        return False
    with connect(settings, read_only=True) as conn:
        if not conn.table_columns(settings.raw_schema, MANIFEST_TABLE):
            return False
        manifest = f"{quote_ident(settings.raw_schema)}.{MANIFEST_TABLE}"
        return bool(conn.fetchall(f"select count(*) from {manifest}")[0][0])


class LandingError(RuntimeError):
    """The landing folder cannot be what the run loads from; the message says why."""


def landing_plan(settings: Settings, environ=os.environ) -> str:
    """What `leadscore run` does before the refresh: `load` the landing files, `generate`
    demo data (only into a new, empty warehouse reading landing files), or nothing new
    (`none`). A landing folder that does not exist is an error unless the warehouse is new
    and the folder is the default one."""
    from orchestration.lib.dbt_manifest import crm_source

    landing = settings.landing_dir
    if _has_landing_files(landing):
        return "load"
    explicit = bool(environ.get("LEADSCORE_LANDING_DIR"))
    if explicit and not landing.exists():
        raise LandingError(
            f"LEADSCORE_LANDING_DIR points at {landing}, which does not exist: create the "
            "folder, or fix or unset the variable"
        )
    if crm_source() != "generic":
        return "none"  # a Fivetran connector's tables are the raw data: no landing files
    if not _warehouse_has_data(settings):
        return "generate"
    if not landing.exists():
        raise LandingError(
            f"the landing folder {landing} (LEADSCORE_LANDING_DIR, by default "
            "<LEADSCORE_DATA_DIR>/landing) does not exist, and the warehouse already holds "
            "loaded data: fix the variable, or create the folder. Demo data goes only into "
            "a new, empty warehouse (or `leadscore generate`)"
        )
    return "none"


def _run(args: argparse.Namespace) -> int:
    settings = load_settings()
    started = time.monotonic()
    try:
        plan = landing_plan(settings)
    except LandingError as error:
        print(f"leadscore run: {error}", file=sys.stderr)
        return 2
    if plan == "load":
        print(f"landing folder {settings.landing_dir} has files: loading what is new")
    elif plan == "generate":
        print("a new, empty warehouse and no landing files: generating demo data")
        _generate(args, settings.landing_dir)
    else:
        print(f"no landing files in {settings.landing_dir}: nothing new to load")

    import dagster as dg

    from orchestration.definitions import REFRESH_JOB_NAME, defs

    # A DAGSTER_HOME makes the run visible in `dagster dev`; without one it stays in memory.
    has_home = bool(os.getenv("DAGSTER_HOME"))
    instance = dg.DagsterInstance.get() if has_home else dg.DagsterInstance.ephemeral()
    # The scoring date: --as-of, else LEADSCORE_AS_OF_DATE, else today (dbt decides the last
    # two, so a run without --as-of passes nothing).
    scoring: dict[str, object] = {}
    if args.full_refresh:
        scoring["full_refresh"] = True
    if args.as_of:
        scoring["as_of_date"] = args.as_of.isoformat()
    result = defs.resolve_job_def(REFRESH_JOB_NAME).execute_in_process(
        instance=instance,
        raise_on_error=False,
        run_config={
            "loggers": {"console": {"config": {"log_level": "INFO"}}},
            **({"ops": {"leadscore_dbt_models": {"config": scoring}}} if scoring else {}),
        },
    )
    elapsed = time.monotonic() - started
    if not result.success:
        print(f"\nrefresh FAILED after {elapsed:.1f} s (run {result.run_id}):", file=sys.stderr)
        print(_failure_text(result), file=sys.stderr)
        return 1

    loaded = files = 0
    for materialization in result.asset_materializations_for_node("ingest_landing_files"):
        loaded += materialization.metadata["rows_loaded"].value
        files += materialization.metadata["files_loaded"].value
    print(f"\nrefresh succeeded in {elapsed:.1f} s (Dagster run {result.run_id})")
    print(f"Loaded this run: {loaded:,} raw rows from {files} new landing file(s)\n")
    print(summary_text(settings))
    print("\n" + _predictive_text(result))
    print("\n" + _sync_text(result))
    return 0


def _failure_text(result) -> str:
    """What stopped a run: the failed blocking checks (their descriptions say what to fix)
    and the failed steps' errors."""
    lines = []
    for evaluation in result.get_asset_check_evaluations():
        if not evaluation.passed and evaluation.blocking:
            lines.append(f"  check {evaluation.check_name} failed:")
            lines += [f"    {line}" for line in (evaluation.description or "").splitlines()]
    if lines:
        lines.append("  Nothing was exported or synced.")
    for event in result.all_events:
        if event.is_step_failure and event.step_failure_data:
            error = event.step_failure_data.error
            while error.cause is not None:  # Dagster wraps the error that says what failed
                error = error.cause
            lines.append(f"  step {event.step_key}: {error.message.strip()}")
    return "\n".join(lines)


def _predictive_text(result) -> str:
    """What the predictive asset of the run did (from its Dagster metadata)."""
    events = result.asset_materializations_for_node("predictive__lead_conversion_model")
    if not events:
        return "Predictive score: not run"
    meta = {key: value.value for key, value in events[-1].metadata.items()}
    if meta["status"] != "trained":
        return f"Predictive score: not trained ({meta['reason']})"

    def auc(name: str) -> str:
        return "n/a" if meta.get(name) is None else f"{meta[name]:.3f}"

    rule = auc("rule_score_auc")
    if rule == "n/a":
        rule += " (no score snapshot of that date: see docs/calibration.md)"
    from orchestration.lib.dbt_manifest import relation_parts

    marts = relation_parts("dim_leads")[0]
    return (
        f"Predictive score ({meta['model_type']}, {marts}.predictive_lead_scores): "
        f"{int(meta['scored_leads']):,} leads scored; trained on "
        f"{int(meta['training_examples']):,} examples with "
        f"{int(meta['training_conversions']):,} conversions.\n"
        f"Held out {meta['holdout_date']}: model AUC {auc('holdout_auc')}, rule score AUC "
        f"{rule} (model card: {marts}.predictive_model_card)"
    )


def _sync_text(result) -> str:
    """What each sync asset of the run did (from its Dagster metadata)."""
    from orchestration.sync.runner import DESTINATIONS

    rows = []
    for name in DESTINATIONS:
        events = result.asset_materializations_for_node(f"sync_{name}")
        if not events:
            skipped = [
                observation.metadata["skip_reason"].value
                for observation in result.asset_observations_for_node(f"sync_{name}")
                if "skip_reason" in observation.metadata
            ]
            reason = f"skipped: {skipped[-1]}" if skipped else "skipped: not configured"
            rows.append([name, reason, "", "", "", ""])
            continue
        meta = {key: value.value for key, value in events[-1].metadata.items()}
        rows.append(
            [
                name,
                meta["status"],
                *(int(meta[k]) for k in ("sent", "unchanged", "failed", "api_calls")),
            ]
        )
    return (
        "Syncs (diff-based: only added and changed leads are sent; run history in "
        "sync.sync_runs, per-row outcomes in sync.sync_row_log):\n"
        + _table(["destination", "status", "sent", "unchanged", "failed", "calls"], rows)
    )


def _sync(args: argparse.Namespace) -> int:
    import logging

    from orchestration.sync.destinations import NotConfiguredError, SyncConfigError
    from orchestration.sync.engine import DestinationError
    from orchestration.sync.runner import DESTINATIONS, run_sync

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    names = [args.destination] if args.destination else list(DESTINATIONS)
    status = 0
    for name in names:
        try:
            report = run_sync(
                name,
                dry_run=args.dry_run,
                full_resync=args.full_resync,
                allow_past_as_of=args.allow_past_as_of,
            )
        except NotConfiguredError as reason:
            print(f"{name}: skipped: {reason}")
            if args.destination:
                status = 2
            continue
        except (DestinationError, SyncConfigError) as error:
            print(f"{name}: FAILED: {error}", file=sys.stderr)
            status = 1
            continue
        print(report.summary())
        for row in report.sample:
            print("  sample:", row)
    return status


def _hubspot_setup(args: argparse.Namespace) -> int:
    from orchestration.sync.destinations import NotConfiguredError, SyncConfigError
    from orchestration.sync.engine import DestinationError
    from orchestration.sync.hubspot_setup import hubspot_setup

    try:
        report = hubspot_setup()
    except NotConfiguredError as reason:
        print(f"hubspot-setup: {reason}", file=sys.stderr)
        return 2
    except (DestinationError, SyncConfigError) as error:
        print(f"hubspot-setup FAILED: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0


def _backtest(args: argparse.Namespace) -> int:
    from orchestration.backtest.engine import BacktestError, run_backtest, write_report

    settings = load_settings()
    try:
        report = run_backtest(
            settings,
            rules_dir=args.rules,
            as_of=args.as_of,
            baseline_dir=args.baseline,
            window_days=args.window_days,
            log=lambda message: print(message, flush=True),
        )
    except BacktestError as error:
        print(f"backtest FAILED: {error}", file=sys.stderr)
        return 1
    out_dir = write_report(report, settings.data_dir)
    print("\n" + report.summary())
    print(
        f"\nReport: {out_dir / 'report.json'}; leads that change stage: "
        f"{out_dir / 'stage_changes.parquet'}"
    )
    return 0


def _inspect(args: argparse.Namespace) -> int:
    from orchestration.onboarding.inspect import draft_mapping, profile_file, shorten
    from orchestration.onboarding.transform import ExportReadError

    path: Path = args.file
    if not path.is_file() or path.suffix.lower() not in (".csv", ".parquet"):
        print(f"inspect: {path} is not a .csv or .parquet file", file=sys.stderr)
        return 2
    out: Path = args.out or path.parent / "mapping.yml"
    if out.exists() and not args.force:
        print(
            f"inspect: {out} exists: pass --force to overwrite it, or --out to write the "
            "draft elsewhere",
            file=sys.stderr,
        )
        return 2
    if args.sample_rows < 0:
        print("inspect: --sample-rows must be 0 (every row) or more", file=sys.stderr)
        return 2
    try:
        profile = profile_file(path, sample_rows=args.sample_rows or None)
    except ExportReadError as error:
        print(f"inspect FAILED: {error}", file=sys.stderr)
        return 1
    sample = f" (the first {profile.rows:,}: --sample-rows 0 reads every row)"
    print(f"{path}: {len(profile.columns)} columns, {profile.rows:,} rows profiled", end="")
    print(sample if profile.sampled else "")
    rows = [
        [
            column.name,
            column.type,
            (column.date_format or "") + (" (ambiguous)" if column.ambiguous_order else ""),
            column.distinct,
            round(100 * column.missing_share, 1),
            "; ".join(f"{shorten(value)} ({count:,})" for value, count in column.top_values),
            ", ".join(column.placeholders),
        ]
        for column in profile.columns
    ]
    print(
        _table(
            [
                "column",
                "type",
                "date format",
                "distinct",
                "% missing",
                "top values",
                "placeholders",
            ],
            rows,
        )
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(draft_mapping(profile), encoding="utf-8")
    print(
        f"\nDraft mapping written to {out}. Review it: comments starting with `check` mark "
        "guesses (reference: docs/onboarding.md). Then put the export and its mapping.yml in a "
        "folder of the landing folder and run `leadscore run`."
    )
    return 0


def _suggest_rules(args: argparse.Namespace) -> int:
    from orchestration.backtest.engine import BacktestError
    from orchestration.learning.runner import suggest_rules
    from orchestration.learning.suggest import RuleLearningError

    try:
        run = suggest_rules(
            load_settings(),
            as_of=args.as_of,
            window_days=args.window_days,
            out_dir=args.out,
            backtest=not args.no_backtest,
            baseline_dir=args.baseline,
            log=lambda message: print(message, flush=True),
        )
    except (RuleLearningError, BacktestError) as error:
        print(f"suggest-rules FAILED: {error}", file=sys.stderr)
        return 1
    print("\n" + run.summary())
    return 0


def _forget(args: argparse.Namespace) -> int:
    from orchestration.privacy.erasure import ErasureError, forget_in_project

    try:
        report = forget_in_project(
            load_settings(),
            emails=args.email or [],
            contact_ids=args.contact_id or [],
            log=lambda message: print(message, flush=True),
        )
    except ErasureError as error:
        print(f"forget FAILED: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="leadscore", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="(demo data if needed) ingest, dbt build, summary")
    _add_generation_args(run)
    run.add_argument(
        "--full-refresh",
        action="store_true",
        help="rebuild the incremental models from all history (dbt --full-refresh)",
    )
    generate = commands.add_parser("generate", help="write synthetic landing files")
    _add_generation_args(generate)
    generate.add_argument("--out", type=Path, default=None, help="default: the landing folder")
    commands.add_parser("summary", help="print the summary of the current warehouse")
    sync = commands.add_parser("sync", help="send changed leads to the sync destinations")
    sync.add_argument("--destination", help="one destination (default: every configured one)")
    sync.add_argument("--dry-run", action="store_true", help="count and sample, send nothing")
    sync.add_argument("--full-resync", action="store_true", help="send every row again")
    sync.add_argument(
        "--allow-past-as-of",
        action="store_true",
        help="send the scores even when they are not of today's as-of date (by default a "
        "warehouse scored for a past date, e.g. after a backfill, is not synced)",
    )
    commands.add_parser(
        "hubspot-setup",
        help="create the HubSpot property group and the leadscore_* properties the sync sends",
    )
    backtest = commands.add_parser(
        "backtest", help="compare alternative rules with the current ones on a past date"
    )
    backtest.add_argument(
        "--rules", type=Path, required=True, help="folder of seed CSVs laid over the shipped seeds"
    )
    backtest.add_argument(
        "--as-of", type=date.fromisoformat, required=True, help="past date to score (YYYY-MM-DD)"
    )
    backtest.add_argument(
        "--baseline", type=Path, default=None, help="rules to compare with (default: seeds/)"
    )
    backtest.add_argument(
        "--window-days",
        type=int,
        default=None,
        help="a won deal this many days after the date is a conversion (default: the dbt var "
        "calibration_window_days, 90)",
    )
    inspect = commands.add_parser(
        "inspect", help="profile a CRM export and draft its mapping.yml (docs/onboarding.md)"
    )
    inspect.add_argument(
        "file", type=Path, metavar="FILE", help="the export: a .csv or .parquet file"
    )
    inspect.add_argument(
        "--out",
        type=Path,
        default=None,
        metavar="PATH",
        help="where the draft goes (default: mapping.yml beside FILE)",
    )
    inspect.add_argument("--force", action="store_true", help="overwrite an existing draft")
    inspect.add_argument(
        "--sample-rows",
        type=int,
        default=100_000,
        metavar="N",
        help="profile the first N rows (default 100,000; 0: every row)",
    )
    suggest = commands.add_parser(
        "suggest-rules",
        help="learn rule points from outcomes; write a candidate rules folder and backtest it",
    )
    suggest.add_argument(
        "--as-of",
        type=date.fromisoformat,
        default=None,
        help="the date the leads are learned as of (YYYY-MM-DD; default: today minus the "
        "window). For a one-off export: its date, with --window-days 0",
    )
    suggest.add_argument(
        "--window-days",
        type=int,
        default=None,
        help="a deal won this many days after the date is a conversion (default 90); 0: the "
        "data is a snapshot whose outcomes are known on the date (a one-off export)",
    )
    suggest.add_argument(
        "--out", type=Path, default=None, help="default: <data dir>/suggested_rules/<time>"
    )
    suggest.add_argument(
        "--baseline", type=Path, default=None, help="rules to compare with (default: seeds/)"
    )
    suggest.add_argument(
        "--no-backtest", action="store_true", help="write the folder only, do not backtest it"
    )
    forget = commands.add_parser(
        "forget",
        help="erase people (by email or contact id) from the warehouse, files and destinations",
    )
    forget.add_argument("--email", action="append", help="an email to forget (repeatable)")
    forget.add_argument("--contact-id", action="append", help="a contact id to forget (repeatable)")
    args = parser.parse_args(argv)
    try:
        load_settings()  # every LEADSCORE_* variable checked before any work
    except SettingsError as error:
        print(f"leadscore: {error}", file=sys.stderr)
        return 2

    if args.command == "run":
        try:  # a bad regular expression in a seed stops the run before it loads anything
            check_seed_patterns(load_settings())
        except SeedPatternError as error:
            print(f"leadscore: {error}", file=sys.stderr)
            return 2
    if args.command in SUPERVISED_COMMANDS:
        # A killed command leaves no dbt build behind (orchestration/lib/runs.py).
        with supervised(load_settings().data_dir, args.command):
            return _dispatch(args)
    return _dispatch(args)


# The commands that start dbt or hold the warehouse for long.
SUPERVISED_COMMANDS = ("run", "sync", "backtest", "suggest-rules", "forget")


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return _run(args)
    if args.command == "sync":
        return _sync(args)
    if args.command == "hubspot-setup":
        return _hubspot_setup(args)
    if args.command == "backtest":
        return _backtest(args)
    if args.command == "suggest-rules":
        return _suggest_rules(args)
    if args.command == "forget":
        return _forget(args)
    if args.command == "inspect":
        return _inspect(args)
    if args.command == "generate":
        _generate(args, args.out or load_settings().landing_dir)
        return 0
    print(summary_text(load_settings()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
