"""When the warehouse refreshes on its own.

Schedules and sensors start stopped, as Dagster's do, so `dagster dev` on a laptop does not
begin refreshing by itself; production turns them all on with LEADSCORE_AUTOMATION=on (or
one by one in the UI)."""

import os

import dagster as dg

from orchestration.defs.automation.jobs import refresh_new_events, refresh_warehouse


def default_status() -> dg.DefaultScheduleStatus:
    running = os.getenv("LEADSCORE_AUTOMATION", "off").lower() in ("on", "true", "1")
    return dg.DefaultScheduleStatus.RUNNING if running else dg.DefaultScheduleStatus.STOPPED


# Decay moves every score each day, even when no event arrives, so the full refresh is daily.
daily_scoring_refresh = dg.ScheduleDefinition(
    name="daily_scoring_refresh",
    job=refresh_warehouse,
    cron_schedule="0 5 * * *",
    execution_timezone="UTC",
    default_status=default_status(),
    description="Every day at 05:00 UTC: ingest, rescore every lead as of today, re-segment, "
    "export and report.",
)

hourly_events_refresh = dg.ScheduleDefinition(
    name="hourly_events_refresh",
    job=refresh_new_events,
    cron_schedule="15 * * * *",
    execution_timezone="UTC",
    default_status=default_status(),
    description="Every hour at :15: load new event files and update what depends on events.",
)
