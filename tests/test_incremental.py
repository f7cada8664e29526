"""Incremental models give the same scores as a full refresh.

Generated landing files are delivered in four batches, as a daily load would bring them: events
in time order, with late events (they happened in an earlier batch's period and arrive in a
later one), re-sent events (the same event_id again, some stamped on another day), and a tenth
of the contacts held back until the third batch (their earlier events wait in quarantine as
unknown contacts). After each batch the real ingest loads the new files and `dbt run` refreshes
the scoring models incrementally. The state after the last batch must equal `dbt run
--full-refresh` of the same warehouse: event classification exactly, day aggregates and scores
to 1e-9. Then an edit of the behaviour rules seed, refreshed incrementally, must equal a full
refresh again.

Besides the shipped rules, the project scores with rules of every kind the seeds can state
(NEW_FIT_RULES, NEW_BEHAVIOUR_RULES): conditions on any attribute, AND groups, missing values
and dates; filters on an extra column of the event files, a rule with no event type, value
rules (a decayed sum per unit over all history, a windowed threshold, a maximum) and
last-activity rules. The event files carry two extra columns for them, `duration_seconds`
(some values are not numbers) and `utm_source`; the contact files one, `occupation`.
"""

from __future__ import annotations

import shutil
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import duckdb
import pytest

from orchestration.demo.generator import generate_demo_data
from orchestration.ingest.loader import ingest_landing
from orchestration.lib.project_copy import copy_project
from orchestration.lib.warehouse import connect
from tests.conftest import TODAY, ProjectCopy, settings_for
from tests.rule_kinds import NEW_BEHAVIOUR_RULES, NEW_FIT_RULES, add_rules

SELECT = ["-s", "+dim_leads", "quarantine_marketing__events"]
TOLERANCE = 1e-9
BATCHES = 4
HELD_BACK_UNTIL = 3  # the batch that brings the held-back contacts

# (query, number of leading key columns)
CLASSIFICATION = (
    "select _file_id, _source_row, contact_id, quarantine_reason, is_duplicate "
    "from staging.base_marketing__events",
    2,
)
QUARANTINE = (
    "select _file_id, _source_row, quarantine_reason from quarantine.quarantine_marketing__events",
    2,
)
DAY_AGGREGATES = (
    "select contact_id, rule_id, activity_date, occurrences, decay_mass, last_occurred_at, "
    "value_count, value_sum, value_decay_mass, value_max "
    "from intermediate.int_scoring__rule_activity_by_day",
    3,
)
COMPONENTS = (
    "select contact_id, rule_id, occurrences, undecayed_points, points "
    "from intermediate.int_scoring__behavior_components",
    2,
)
SCORES = (
    "select contact_id, fit_score, behavior_score, lead_score, lead_stage from marts.dim_leads",
    1,
)


def write_batches(generated: Path, landing: Path) -> list[date]:
    """Split the generated files into BATCHES deliveries under landing/<table>/; returns the
    last day of each batch's period (today for the last)."""
    conn = duckdb.connect()
    read = "read_csv('{}', all_varchar = true, header = true)"
    events = read.format(generated / "marketing_events" / "*.csv")
    contacts = read.format(generated / "crm_contacts" / "*.csv")
    # Time-ordered batches; a parseable timestamp decides, the rest go in the first batch.
    # Two extra columns for the value and filter rules, decided by the event id so that a
    # re-sent event carries the same values.
    conn.execute(f"""
        create table events as
        select
            *,
            case
                when hash(coalesce(event_id, '')) % 53 = 0 then 'n/a'
                when event_type = 'page_view'
                    then cast(hash(coalesce(event_id, '')) % 900 as varchar)
            end as duration_seconds,
            case hash(coalesce(event_id, '') || 'utm') % 3
                when 0 then 'google' when 1 then 'bing'
            end as utm_source,
            least({BATCHES}, 1 + cast(floor({BATCHES} * percent_rank() over (
                order by try_cast(occurred_at as timestamp) nulls first
            )) as integer)) as batch,
            hash(coalesce(event_id, '') || coalesce(occurred_at, '')) % 100 as draw
        from {events}
    """)
    # An extra column of the contact files, missing for a third of the contacts.
    conn.execute(f"""
        create table contacts as
        select
            *,
            case hash(coalesce(contact_id, '')) % 3
                when 1 then 'Working Professional' when 2 then 'Student'
            end as occupation
        from {contacts}
    """)
    held_back = "hash(coalesce(contact_id, email, '')) % 10 = 0"
    for batch in range(1, BATCHES + 1):
        # Late: 5% of every earlier batch's events arrive one batch later.
        late = f"(batch = {batch - 1} and draw < 5)"
        on_time = f"(batch = {batch} and not (draw < 5 and batch < {BATCHES}))"
        # Re-sent: 2% of the previous batch again, half of them stamped two days later.
        resent = f"""
            select * replace (
                case when draw % 2 = 0 then strftime(
                    try_cast(occurred_at as timestamp) + interval 2 day, '%Y-%m-%d %H:%M:%S'
                ) else occurred_at end as occurred_at
            )
            from events where batch = {batch - 1} and draw between 10 and 11
        """
        write(
            conn,
            landing / "marketing_events" / f"batch-{batch}.csv",
            f"select * exclude (batch, draw) from ("
            f"select * from events where {on_time} or {late} union all {resent})",
        )
        if batch == 1:
            write(
                conn,
                landing / "crm_contacts" / "batch-1.csv",
                f"select * from contacts where not ({held_back})",
            )
            for table in ("crm_companies", "crm_deals", "crm_owners"):
                write(
                    conn, landing / table / "batch-1.csv", read.format(generated / table / "*.csv")
                )
        if batch == HELD_BACK_UNTIL:
            write(
                conn,
                landing / "crm_contacts" / f"batch-{batch}.csv",
                f"select * from contacts where {held_back}",
            )
    ends = conn.execute(
        "select batch, cast(max(try_cast(occurred_at as timestamp)) as date) from events "
        "group by batch order by batch"
    ).fetchall()
    return [end for _, end in ends[:-1]] + [TODAY]


def write(conn: duckdb.DuckDBPyConnection, path: Path, query: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if not query.lstrip().startswith("select"):
        query = f"select * from {query}"
    conn.execute(f"copy ({query}) to '{path}' (header, format csv)")


def deliver(batches: Path, landing: Path, batch: int) -> None:
    for path in batches.glob(f"*/batch-{batch}.csv"):
        (landing / path.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, landing / path.parent.name / path.name)


def rows(project: ProjectCopy, query: tuple[str, int]) -> dict[tuple, tuple]:
    """Rows keyed by their leading key columns, values the rest; a key may not repeat (an
    incremental run that wrote a key twice fails here)."""
    sql, keys = query
    fetched = project.query(sql)
    keyed = {tuple(row[:keys]): tuple(row[keys:]) for row in fetched}
    assert len(keyed) == len(fetched), f"{len(fetched) - len(keyed)} repeated keys: {sql}"
    return keyed


def assert_same(incremental: dict, full: dict, what: str) -> None:
    assert incremental.keys() == full.keys(), (
        f"{what}: {len(incremental.keys() - full.keys())} rows only incremental, "
        f"{len(full.keys() - incremental.keys())} only in the full refresh"
    )
    for key, values in full.items():
        for mine, theirs in zip(incremental[key], values, strict=True):
            if isinstance(theirs, float):
                assert abs(mine - theirs) <= TOLERANCE, (what, key, incremental[key], values)
            else:
                assert mine == theirs, (what, key, incremental[key], values)


def snapshot(project: ProjectCopy) -> dict[str, dict]:
    return {
        "classification": rows(project, CLASSIFICATION),
        "quarantine": rows(project, QUARANTINE),
        "day aggregates": rows(project, DAY_AGGREGATES),
        "components": rows(project, COMPONENTS),
        "scores": rows(project, SCORES),
    }


def full_refresh_of(project: ProjectCopy, tmp_path: Path) -> ProjectCopy:
    """The same project on a copy of the warehouse, rebuilt with --full-refresh."""
    copy = ProjectCopy(project.root, tmp_path / "full_refresh.duckdb")
    shutil.copy(project.duckdb_path, copy.duckdb_path)
    dbt_ok(copy, "run", *SELECT, "--full-refresh")
    return copy


def dbt_ok(project: ProjectCopy, *args: str, as_of: date = TODAY) -> str:
    completed = project.dbt(*args, as_of=as_of)
    assert completed.returncode == 0, completed.stdout[-4000:]
    return completed.stdout


@pytest.fixture(scope="module")
def incremental(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProjectCopy, dict]:
    root = tmp_path_factory.mktemp("incremental")
    generated, batches, landing = root / "generated", root / "batches", root / "landing"
    generate_demo_data(
        generated, contacts=1_000, events=30_000, seed=23, as_of=TODAY, progress=False
    )
    as_of_dates = write_batches(generated, batches)
    copy_project(root)
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(root / "data"))
    project = ProjectCopy(root, settings.duckdb_path)
    add_rules(project.seeds)

    facts: dict = {"classified": [], "unknown_held_back": 0}
    for batch in range(1, BATCHES + 1):
        deliver(batches, landing, batch)
        with connect(settings) as conn:
            ingest_landing(conn, landing, "raw", log=lambda message: None)
        if batch == 1:
            dbt_ok(project, "seed")
        # Each refresh scores as of the end of its batch's period (the last one as of today),
        # so the behaviour state moves forward between refreshes.
        dbt_ok(project, "run", *SELECT, as_of=as_of_dates[batch - 1])
        [(written, total)] = project.query(
            "select count(*) filter (where _classified_at = (select max(_classified_at) "
            "from staging.base_marketing__events)), count(*) from staging.base_marketing__events"
        )
        facts["classified"].append((written, total))
        if batch == HELD_BACK_UNTIL - 1:
            held_back = batches / "crm_contacts" / f"batch-{HELD_BACK_UNTIL}.csv"
            [(facts["unknown_held_back"],)] = project.query(
                "select count(*) from staging.base_marketing__events "
                "where quarantine_reason = 'unknown_contact' and source_contact_id in ("
                f"select contact_id from read_csv('{held_back}', all_varchar = true))"
            )
            # The same rows, as the quarantine holds them while they wait.
            facts["waiting_in_quarantine"] = project.query(
                "select q._file_id, q._source_row from quarantine.quarantine_marketing__events q "
                "join staging.base_marketing__events b using (_file_id, _source_row) "
                "where q.quarantine_reason = 'unknown_contact' and b.source_contact_id in ("
                f"select contact_id from read_csv('{held_back}', all_varchar = true))"
            )
    return project, facts


def test_a_sequence_of_incremental_refreshes_equals_a_full_refresh(incremental, tmp_path):
    project, facts = incremental
    # The batches exercise every path: events of held-back contacts waited in quarantine, and
    # each later refresh classified only part of the table (new rows and their copies).
    assert facts["unknown_held_back"] > 20
    # (rows written by the refresh, rows in the table) after each batch: a refresh writes the
    # new rows and the few earlier ones it classified again, never the whole table.
    classified = facts["classified"]
    for (_, before), (written, total) in pairwise(classified):
        new_rows = total - before
        assert new_rows <= written < 1.25 * new_rows, classified
    # The batch that brought the held-back contacts reclassified their waiting events.
    assert (
        classified[HELD_BACK_UNTIL - 1][0]
        > classified[HELD_BACK_UNTIL - 1][1]
        - classified[HELD_BACK_UNTIL - 2][1]
        + facts["unknown_held_back"] / 2
    ), classified
    [(duplicates,)] = project.query(
        "select count(*) from staging.base_marketing__events where is_duplicate"
    )
    assert duplicates > 100

    # Scoring read the behaviour state, rows written by earlier refreshes (older mass_date)
    # among them, and the last refresh rebuilt the leads with late events before its cutoff.
    compiled = next(
        (project.root / "dbt_project" / "target" / "run").rglob(
            "int_scoring__behavior_components.sql"
        )
    ).read_text()
    assert "int_scoring__rule_state" in compiled
    [(mass_dates, rows_now, rebuilt)] = project.query(
        "select count(distinct mass_date), count(*), count(*) filter (where _refreshed_at = "
        "(select max(_refreshed_at) from intermediate.int_scoring__rule_state)) "
        "from intermediate.int_scoring__rule_state"
    )
    assert mass_dates >= 3 and 0 < rebuilt < rows_now

    # The quarantine held the waiting events and let them go when their contacts arrived,
    # each row once.
    waiting = facts["waiting_in_quarantine"]
    assert len(waiting) == facts["unknown_held_back"]
    keys = ", ".join(f"({file_id}, {row})" for file_id, row in waiting)
    assert project.query(
        "select count(*) from quarantine.quarantine_marketing__events "
        f"where (_file_id, _source_row) in ({keys})"
    ) == [(0,)]
    assert project.query(
        "select count(*) - count(distinct (_file_id, _source_row)) "
        "from quarantine.quarantine_marketing__events"
    ) == [(0,)]

    # Every added rule scored some leads, so the comparison below covers each kind.
    scored = {
        rule
        for (rule,) in project.query(
            "select distinct rule_id from intermediate.int_scoring__lead_score_components "
            "where points <> 0"
        )
    }
    added = {rule["rule_id"] for rule in NEW_FIT_RULES + NEW_BEHAVIOUR_RULES}
    assert added <= scored, sorted(added - scored)

    incremental_state = snapshot(project)
    full = snapshot(full_refresh_of(project, tmp_path))
    for what, full_rows in full.items():
        assert_same(incremental_state[what], full_rows, what)
    assert len(full["scores"]) > 900


def test_a_rules_edit_refreshed_incrementally_equals_a_full_refresh(incremental, tmp_path):
    project, _ = incremental
    before = rows(project, COMPONENTS)

    def shorter_half_lives(rows: list[dict]) -> list[dict]:
        for row in rows:
            if row["rule_id"] == "beh_pricing_page":
                row["half_life_days"] = "7"
            if row["rule_id"] == "beh_site_visit":
                row["page_category"] = "blog"
        return rows

    project.edit_seed("scoring_behavior_rules", shorter_half_lives)
    dbt_ok(project, "seed", "-s", "scoring_behavior_rules")
    dbt_ok(project, "run", *SELECT)
    after = rows(project, COMPONENTS)
    changed = {key for key in after if after[key] != before.get(key)}
    assert {rule for _, rule in changed} >= {"beh_pricing_page", "beh_site_visit"}

    assert_same(after, rows(full_refresh_of(project, tmp_path), COMPONENTS), "components")


def test_a_full_build_in_ranges_of_days_equals_one_statement(incremental, tmp_path):
    """Past `day_aggregate_chunk_events`, a full build of the day aggregates runs one
    statement per range of whole days (the day_chunked_incremental materialization), the recent
    days (from the behaviour state's cutoff on) always in a range of their own, written last:
    the same rows as one statement, with the recent days together at the end of the table."""
    project, _ = incremental
    # One statement: no limit, and an as-of date after every event, so no day is recent (the
    # day aggregates do not depend on the as-of date).
    far_future = date(TODAY.year + 50, 1, 1)
    builds = {}
    for name, chunk_events, as_of in (
        ("one statement", 10**9, far_future),
        ("ranges", 4000, TODAY),
    ):
        copy = ProjectCopy(project.root, tmp_path / f"{name}.duckdb")
        shutil.copy(project.duckdb_path, copy.duckdb_path)
        output = dbt_ok(
            copy,
            "run",
            "-s",
            "int_scoring__signal_activity_by_day",
            "--full-refresh",
            "--vars",
            f"{{day_aggregate_chunk_events: {chunk_events}}}",
            as_of=as_of,
        )
        builds[name] = (copy, output)
    assert "day aggregates: range" not in builds["one statement"][1]
    # About 30,000 events over a year: ranges of at most 4,000 events take eight or more.
    assert "day aggregates: range 8 of" in builds["ranges"][1], builds["ranges"][1][-2000:]
    ranged, whole = (rows(builds[name][0], DAY_AGGREGATES) for name in ("ranges", "one statement"))
    assert len(whole) > 10_000
    assert_same(ranged, whole, "day aggregates in ranges")
    # The shipped rules' longest window is 30 days: the state's cutoff is 29 days back.
    cutoff = TODAY - timedelta(days=29)
    [(last_older, first_recent, recent)] = builds["ranges"][0].query(
        f"select max(rowid) filter (where activity_date < date '{cutoff}'), "
        f"min(rowid) filter (where activity_date >= date '{cutoff}'), "
        f"count(*) filter (where activity_date >= date '{cutoff}') "
        "from intermediate.int_scoring__signal_activity_by_day"
    )
    assert recent > 100 and first_recent == last_older + 1
