"""Benchmark of the scoring DAG against the floor: one hand-written query.

    .venv/bin/python benchmarks/scoring_benchmark.py                       # 1M contacts, 50M events
    .venv/bin/python benchmarks/scoring_benchmark.py --contacts 100000 --events 5000000
    .venv/bin/python benchmarks/scoring_benchmark.py --events 200000000 --scale-only

One run generates the data, loads it and builds staging (reported, not compared), then
measures on the same data:

  floor          one hand-written DuckDB query: every contact's decayed behaviour score
  dbt start-up   `dbt run` of one tiny model: dbt's fixed cost
  full refresh   `dbt build` of the scoring models (models/intermediate/scoring and
                 models/marts/scoring, tests included)
  one new day    about 1/365 of the events added (a tenth of them late: stamped in the week
                 before), staging rebuilt, then the same scoring build one day later
  same, 10x      the same refresh on a history ten times shorter: the same contacts and
                 landing files keeping only the events of the last 36.5 days (the same
                 events per day), and a new day of the same size
  dbt build      every model, plain dbt
  Dagster        the same dbt build as Dagster assets (dbt tests as asset checks); with
                 --with-python-assets also the whole refresh job (report, exports, syncs and
                 the predictive model; ingest has nothing new to load)
  fixed cost     the same full refresh and new day on a tiny warehouse (1,000 contacts,
                 20,000 events): what the scoring DAG costs with next to no data (dbt's
                 start-up, then one query per model and test), the least any day can take

The "bounds" part of the report sets the fixed cost against what the performance targets
allow a day together: a full refresh of at most 2x the floor plus dbt's start-up, and a day
of at most a tenth of that full refresh.

with wall time and peak memory (resident set of the process tree) of each, and the ratios
docs/performance.md quotes. Each step runs in its own process so peak memory is its own.
Results go to
stdout as a table and to <work dir>/benchmark.json; dbt's per-model timings of each dbt step
to <work dir>/run_results/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Tests that also read models outside the selection (segments) are left out.
SCORING_SELECTION = [
    "path:models/intermediate/scoring",
    "path:models/marts/scoring",
    "--indirect-selection",
    "cautious",
]
# The floor: decayed points per lead and event rule, capped, summed; the same rules the
# models use (event rules with their event type and optional page category).
FLOOR_SQL = """
create or replace temp table floor_scores as
with rules as (
    select rule_id, event_type, page_category, cast(points as double) as points,
           cast(half_life_days as double) as half_life_days,
           cast(max_points as double) as max_points
    from config.scoring_behavior_rules
    where rule_type = 'event' and url_pattern is null
),
per_rule as (
    select e.contact_id, r.rule_id, any_value(r.max_points) as max_points,
           sum(r.points * case when r.half_life_days is null then 1 else
               pow(0.5, epoch(timestamp '{as_of_end}' - e.occurred_at) / 86400.0
                   / r.half_life_days) end) as points
    from staging.stg_marketing__events as e
    join rules as r
      on e.event_type = r.event_type
     and (r.page_category is null or e.page_category = r.page_category)
    where e.occurred_at < timestamp '{as_of_end}'
    group by e.contact_id, r.rule_id
)
select contact_id,
       sum(case when max_points is null then points
                when points >= 0 then least(points, max_points)
                else greatest(points, -max_points) end) as behavior_score
from per_rule
group by contact_id
"""

# The performance issue's targets: a full refresh within FULL_PER_FLOOR x the floor plus
# dbt's start-up, a new day within DAY_PER_FULL of the full refresh.
FULL_PER_FLOOR = 2.0
DAY_PER_FULL = 0.10
# The tiny warehouse of the fixed cost: the same DAG with next to no data.
FIXED_COST_CONTACTS = 1_000
FIXED_COST_EVENTS = 20_000


def bounds(floor: float, startup: float, tiny_day: float) -> dict[str, float]:
    """What the targets allow a new day together, against what a day costs with next to no
    data (seconds). A full refresh that meets its target takes at most
    FULL_PER_FLOOR x floor + start-up, so a day that meets its own takes at most
    DAY_PER_FULL of that; read net of dbt's start-up, at most DAY_PER_FULL x
    FULL_PER_FLOOR x floor. A ratio above 1 means no build of this DAG meets both."""
    allowed = DAY_PER_FULL * (FULL_PER_FLOOR * floor + startup)
    allowed_net = DAY_PER_FULL * FULL_PER_FLOOR * floor
    return {
        "one day allowed by both targets (s)": allowed,
        "one day on a tiny warehouse (s)": tiny_day,
        "tiny one day / allowed": tiny_day / allowed,
        "one day allowed, net of dbt start-up (s)": allowed_net,
        "tiny one day, net of dbt start-up (s)": tiny_day - startup,
        "tiny one day / allowed, net of dbt start-up": (tiny_day - startup) / allowed_net,
    }


# Runs a command and writes its wall time and the peak RSS of its process tree (Linux
# ru_maxrss of the waited-for children, in KiB) to the file named first.
MEASURE = """
import json, resource, subprocess, sys, time
out, cmd = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
completed = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
json.dump({"seconds": seconds, "peak_kib": peak, "returncode": completed.returncode,
           "tail": completed.stdout[-3000:]}, open(out, "w"))
"""


@dataclass
class Step:
    name: str
    seconds: float
    peak_mib: float
    note: str = ""


class Bench:
    def __init__(self, work: Path, memory_limit: str | None, threads: int | None):
        self.work = work
        self.steps: list[Step] = []
        self.env = {**os.environ, "LEADSCORE_TARGET": "duckdb"}
        if memory_limit:
            self.env["LEADSCORE_DUCKDB_MEMORY_LIMIT"] = memory_limit
        if threads:
            self.env["LEADSCORE_DUCKDB_THREADS"] = str(threads)
        self.bin = Path(sys.executable).parent

    def measure(self, name: str, cmd: list[str], env: dict[str, str], note: str = "") -> Step:
        out = self.work / "_measure.json"
        print(f"  {name} ...", flush=True)
        subprocess.run(
            [sys.executable, "-c", MEASURE, str(out), *cmd], env=env, check=True, cwd=ROOT
        )
        result = json.loads(out.read_text())
        if result["returncode"] != 0:
            raise SystemExit(f"{name} failed:\n{result['tail']}")
        step = Step(name, result["seconds"], result["peak_kib"] / 1024, note)
        self.steps.append(step)
        print(f"    {step.seconds:8.2f} s  {step.peak_mib:8.0f} MiB", flush=True)
        return step

    def dbt(self, name: str, warehouse: Path, as_of: date, *args: str, note: str = "") -> Step:
        env = {
            **self.env,
            "LEADSCORE_DUCKDB_PATH": str(warehouse),
            "LEADSCORE_AS_OF_DATE": as_of.isoformat(),
        }
        cmd = [
            str(self.bin / "dbt"),
            *args,
            "--project-dir",
            str(ROOT / "dbt_project"),
            "--profiles-dir",
            str(ROOT / "dbt_project"),
        ]
        step = self.measure(name, cmd, env, note)
        # dbt's per-node timings of this step, for "where the time goes" (the next step
        # overwrites target/run_results.json).
        results = ROOT / "dbt_project" / "target" / "run_results.json"
        if results.exists():
            slug = "".join(c if c.isalnum() else "_" for c in name.lower()).strip("_")
            (self.work / "run_results").mkdir(exist_ok=True)
            shutil.copy(results, self.work / "run_results" / f"{slug}.json")
        return step


def generate(landing: str, contacts: str, events: str, seed: str, as_of: str) -> None:
    from orchestration.demo.generator import generate_demo_data

    generate_demo_data(
        Path(landing),
        contacts=int(contacts),
        events=int(events),
        seed=int(seed),
        as_of=date.fromisoformat(as_of),
        fmt="parquet",
        chunk_size=5_000_000,
        progress=False,
    )


def shorten(source: str, landing: str, as_of: str, days: str) -> None:
    """The same landing files with only the events of the last `days` days (and a tenth of
    the rows whose timestamp does not parse): the same contacts and the same events per
    day, a shorter history."""
    import duckdb

    source_dir, target_dir = Path(source), Path(landing)
    for table in ("crm_contacts", "crm_companies", "crm_deals", "crm_owners"):
        shutil.copytree(source_dir / table, target_dir / table)
    (target_dir / "marketing_events").mkdir(parents=True)
    cutoff = datetime.fromisoformat(as_of) + timedelta(days=1) - timedelta(days=float(days))
    duckdb.sql(f"""
        copy (
            select * from read_parquet('{source_dir / "marketing_events" / "part-*.parquet"}')
            where coalesce(
                try_cast(occurred_at as timestamp) >= timestamp '{cutoff:%Y-%m-%d %H:%M:%S}',
                hash(event_id) % 10 = 0
            )
        ) to '{target_dir / "marketing_events" / "part-00000.parquet"}' (format parquet)
    """)


def load(data_dir: str, landing: str) -> None:
    from orchestration.ingest.loader import ingest_landing
    from orchestration.lib.settings import load_settings
    from orchestration.lib.warehouse import connect

    settings = load_settings({**os.environ, "LEADSCORE_DATA_DIR": data_dir})
    with connect(settings) as conn:
        ingest_landing(conn, Path(landing), "raw", log=lambda message: None)


def _count_events(warehouse: Path) -> int:
    import duckdb

    with duckdb.connect(str(warehouse), read_only=True) as conn:
        [(rows,)] = conn.execute("select count(*) from raw.marketing_events").fetchall()
    return rows


def add_one_day(warehouse: Path, landing: Path, as_of: date, share: float, seed: int) -> int:
    """A landing file of the next day's events: a sample of `share` of the history with new
    ids, nine in ten stamped on the new day and one in ten late (the week before)."""
    import duckdb

    day = as_of + timedelta(days=1)
    path = landing / "marketing_events" / f"day-{day.isoformat()}.parquet"
    with duckdb.connect(str(warehouse)) as conn:
        conn.execute(f"select setseed({(seed % 1000) / 1000})")
        conn.execute(f"""
            copy (
                select
                    'N' || event_id as event_id, contact_id, email, event_type, page_url,
                    page_category, campaign_id,
                    strftime(
                        case when random() < 0.1
                            then timestamp '{day}' - interval 7 day
                                 + to_seconds(cast(floor(random() * 6 * 86400) as bigint))
                            else timestamp '{day}'
                                 + to_seconds(cast(floor(random() * 86399) as bigint))
                        end, '%Y-%m-%d %H:%M:%S') as occurred_at
                from raw.marketing_events using sample {share * 100:.6f} percent (bernoulli)
            ) to '{path}' (format parquet)
        """)
        [(rows,)] = conn.execute(f"select count(*) from '{path}'").fetchall()
    return rows


def run_history(
    bench: Bench,
    label: str,
    contacts: int,
    events: int,
    seed: int,
    as_of: date,
    full: bool,
    with_python_assets: bool = False,
    builds: bool = True,
    reuse_data: bool = False,
    shorten_from: tuple[Path, float] | None = None,
    day_events: int | None = None,
) -> dict[str, Step]:
    """Load a history, score it in full, add a day and score again. `shorten_from`: (the
    landing folder of a longer history, days) to keep only its last days instead of
    generating; `day_events`: about how many events the new day brings (default: a 365th of
    the history)."""
    data_dir = bench.work / label
    landing = data_dir / "landing"
    warehouse = data_dir / "warehouse.duckdb"
    # Data generated and loaded by an earlier run with the same arguments (the generator is
    # deterministic), kept: no new day was added to it yet.
    reuse = reuse_data and warehouse.exists() and not list(landing.glob("marketing_events/day-*"))
    if not reuse:
        shutil.rmtree(data_dir, ignore_errors=True)
    env = {**bench.env, "LEADSCORE_DATA_DIR": str(data_dir)}
    if shorten_from:
        print(f"{label}: the last {shorten_from[1]:g} days of the history", flush=True)
    else:
        print(f"{label}: {contacts:,} contacts, {events:,} events", flush=True)
    steps: dict[str, Step] = {}

    def python(name: str, fn: str, *args: str) -> Step:
        return bench.measure(
            f"{label}: {name}", [sys.executable, __file__, "_step", fn, *args], env
        )

    if reuse:
        print("  reusing the generated and loaded data", flush=True)
    else:
        if shorten_from:
            source, days = shorten_from
            steps["generate"] = python(
                f"keep the last {days:g} days",
                "shorten",
                str(source),
                str(landing),
                str(as_of),
                str(days),
            )
        else:
            steps["generate"] = python(
                "generate",
                "generate",
                str(landing),
                str(contacts),
                str(events),
                str(seed),
                str(as_of),
            )
        steps["load"] = python("load raw", "load", str(data_dir), str(landing))
    steps["seed"] = bench.dbt(f"{label}: dbt seed", warehouse, as_of, "seed")
    steps["staging"] = bench.dbt(
        f"{label}: dbt run staging", warehouse, as_of, "run", "-s", "path:models/staging"
    )
    if full:
        steps["startup"] = bench.dbt(
            f"{label}: dbt start-up", warehouse, as_of, "run", "-s", "stg_scoring__weights"
        )
        steps["floor"] = python(
            "floor query", "floor", str(warehouse), str(as_of + timedelta(days=1))
        )
    steps["full"] = bench.dbt(
        f"{label}: full refresh",
        warehouse,
        as_of,
        "build",
        "-s",
        *SCORING_SELECTION,
        "--full-refresh",
    )
    loaded_events = _count_events(warehouse)
    share = min(1.0, (day_events or loaded_events / 365) / loaded_events)
    added = add_one_day(warehouse, landing, as_of, share, seed)
    print(f"  added {added:,} events for {as_of + timedelta(days=1)}", flush=True)
    next_day = as_of + timedelta(days=1)
    steps["load_day"] = python("load the new day", "load", str(data_dir), str(landing))
    steps["staging_day"] = bench.dbt(
        f"{label}: staging, new day", warehouse, next_day, "run", "-s", "path:models/staging"
    )
    steps["day"] = bench.dbt(
        f"{label}: one new day",
        warehouse,
        next_day,
        "build",
        "-s",
        *SCORING_SELECTION,
        note=f"{added:,} events added",
    )
    if full and builds:
        steps["dbt_build"] = bench.dbt(f"{label}: dbt build (all)", warehouse, next_day, "build")
        day_env = {**env, "LEADSCORE_AS_OF_DATE": next_day.isoformat()}
        steps["dagster_dbt"] = bench.measure(
            f"{label}: Dagster, dbt assets",
            [sys.executable, __file__, "_step", "dagster_dbt"],
            day_env,
            note="the same models as dbt build, as Dagster assets with checks",
        )
        if with_python_assets:
            steps["dagster"] = bench.measure(
                f"{label}: Dagster refresh (all)",
                [sys.executable, "-m", "orchestration.cli", "run"],
                day_env,
                note="plus report, exports, syncs, predictive model",
            )
    return steps


def floor(warehouse: str, as_of_end: str) -> None:
    import duckdb

    from orchestration.lib.settings import load_settings

    settings = load_settings()
    with duckdb.connect(warehouse, read_only=True) as conn:
        for name, value in settings.duckdb_config().items():
            conn.execute(f"set {name} = '{value}'")
        conn.execute(FLOOR_SQL.format(as_of_end=as_of_end))
        [(leads,)] = conn.execute("select count(*) from floor_scores").fetchall()
    print(f"floor: {leads:,} leads scored")


def dagster_dbt() -> None:
    """The dbt assets alone (every model, seed and test, the tests as asset checks)."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.dbt.assets import leadscore_dbt_models

    result = defs.get_implicit_global_asset_job_def().execute_in_process(
        instance=dg.DagsterInstance.ephemeral(),
        asset_selection=list(leadscore_dbt_models.keys),
        raise_on_error=True,
    )
    print(f"Dagster dbt assets: success={result.success}")


STEPS = {
    "generate": generate,
    "shorten": shorten,
    "load": load,
    "floor": floor,
    "dagster_dbt": dagster_dbt,
}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["_step"]:  # one measured step, in its own process
        STEPS[argv[1]](*argv[2:])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=50_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--work-dir", type=Path, default=ROOT / "data" / "benchmark")
    parser.add_argument("--memory-limit", help="DuckDB memory limit, e.g. 4GB (default 80%%)")
    parser.add_argument("--threads", type=int, help="DuckDB threads (default: every core)")
    parser.add_argument(
        "--with-python-assets",
        action="store_true",
        help="also time the whole Dagster refresh (report, exports, syncs, predictive model)",
    )
    parser.add_argument(
        "--reuse-data",
        action="store_true",
        help="keep the generated and loaded data of an earlier run in the same work dir "
        "(one that stopped before adding the new day) instead of generating it again",
    )
    parser.add_argument(
        "--scale-only",
        action="store_true",
        help="the full history's floor, full refresh and new day only (for a run at 200M "
        "events: no shorter history, no dbt build of everything, no Dagster)",
    )
    args = parser.parse_args(argv)
    args.work_dir.mkdir(parents=True, exist_ok=True)
    bench = Bench(args.work_dir, args.memory_limit, args.threads)
    as_of = datetime.now(UTC).date() - timedelta(days=1)
    big = run_history(
        bench,
        "full_history",
        args.contacts,
        args.events,
        args.seed,
        as_of,
        True,
        args.with_python_assets,
        builds=not args.scale_only,
        reuse_data=args.reuse_data,
    )
    # The same contacts and events per day over a tenth of the year, and a new day of the
    # same size: only the length of the history differs.
    small = (
        None
        if args.scale_only
        else run_history(
            bench,
            "tenth_history",
            args.contacts,
            args.events // 10,
            args.seed,
            as_of,
            False,
            shorten_from=(args.work_dir / "full_history" / "landing", 36.5),
            day_events=round(args.events / 365),
        )
    )
    # The DAG's fixed cost: the same full refresh and new day with next to no data.
    tiny = run_history(
        bench,
        "tiny_history",
        FIXED_COST_CONTACTS,
        FIXED_COST_EVENTS,
        args.seed,
        as_of,
        False,
    )
    startup = big["startup"].seconds
    ratios = {
        "full_refresh / floor": big["full"].seconds / big["floor"].seconds,
        "(full_refresh - dbt start-up) / floor": (big["full"].seconds - startup)
        / big["floor"].seconds,
        "one_day / full_refresh": big["day"].seconds / big["full"].seconds,
        "(one_day - dbt start-up) / (full_refresh - dbt start-up)": (big["day"].seconds - startup)
        / (big["full"].seconds - startup),
        # What grows with the data: each net of the same build on the tiny warehouse.
        "(one_day - fixed cost) / (full_refresh - fixed cost)": (
            big["day"].seconds - tiny["day"].seconds
        )
        / (big["full"].seconds - tiny["full"].seconds),
        "events + scoring, one day / full": (big["staging_day"].seconds + big["day"].seconds)
        / (big["staging"].seconds + big["full"].seconds),
    }
    if small:
        ratios["one_day(full history) / one_day(tenth history)"] = (
            big["day"].seconds / small["day"].seconds
        )
    if "dagster_dbt" in big:
        ratios["dagster_dbt_assets / dbt_build"] = (
            big["dagster_dbt"].seconds / big["dbt_build"].seconds
        )
    report = {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
        "scale": {
            "contacts": args.contacts,
            "events": args.events,
            "seed": args.seed,
            "as_of": as_of.isoformat(),
            "memory_limit": args.memory_limit or "80%",
            "threads": args.threads or os.cpu_count(),
        },
        "steps": [asdict(step) for step in bench.steps],
        "ratios": ratios,
        "bounds": bounds(big["floor"].seconds, startup, tiny["day"].seconds),
    }
    (args.work_dir / "benchmark.json").write_text(json.dumps(report, indent=2))
    print(f"\n{'step':48} {'seconds':>9} {'peak MiB':>9}  note")
    for step in bench.steps:
        print(f"{step.name:48} {step.seconds:9.2f} {step.peak_mib:9.0f}  {step.note}")
    print()
    for name, value in ratios.items():
        print(f"{name:48} {value:9.2f}")
    print(
        f"\nwhat the targets allow a day together (full refresh <= {FULL_PER_FLOOR:g} x floor"
        f" + dbt start-up, a day <= {DAY_PER_FULL:g} x full refresh):"
    )
    for name, value in report["bounds"].items():
        print(f"{name:48} {value:9.2f}")
    print(f"\nJSON: {args.work_dir / 'benchmark.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
