"""HubSpot and Salesforce tables as Fivetran loads them, scored where they are (dbt var
`crm_source`): fixture tables are loaded into a fresh DuckDB file and a fresh PostgreSQL
database, `dbt build` runs on each, and every person the fixtures hold must come out scored,
staged and segmented. What to expect is worked out here from the fixture CSVs themselves
(tests/fivetran_fixtures.py), never copied from the models' output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from dagster_dbt import dbt_assets

from orchestration.defs.dbt.translator import LeadscoreTranslator
from orchestration.defs.ingest.assets import ingest_landing_files
from orchestration.defs.resources import WarehouseResource
from orchestration.lib.dbt_manifest import manifest, relation_name
from orchestration.lib.settings import DBT_PROJECT_DIR, Settings
from orchestration.lib.warehouse import connect
from tests.conftest import settings_for
from tests.fivetran_fixtures import FIVETRAN_TABLES, copy_to_postgres, fixture_rows, load_duckdb

# Scores are computed as of a day shortly after the fixtures' activity, so it still counts.
AS_OF = {"hubspot": "2021-04-30", "salesforce": "2019-12-01"}
# The connectors' schemas are not at their default names, so the schema vars are exercised.
SCHEMAS = {"hubspot": "fivetran_hubspot", "salesforce": "fivetran_salesforce"}
# Every optional table switched off: what a customer with only the people table has.
TABLES_OFF = {
    "hubspot": {
        "hubspot_company_enabled": False,
        "hubspot_deal_enabled": False,
        "hubspot_email_event_enabled": False,
        "hubspot_contact_form_submission_enabled": False,
        "hubspot_engagement_enabled": False,
        "hubspot_owner_enabled": False,
    },
    "salesforce": {
        "salesforce_lead_enabled": False,
        "salesforce_account_enabled": False,
        "salesforce_opportunity_enabled": False,
        "salesforce_task_enabled": False,
        "salesforce_event_enabled": False,
        "salesforce_user_enabled": False,
    },
}


def is_true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "t", "1", "yes")


def is_live(row: dict[str, str]) -> bool:
    """Not deleted by Fivetran or the CRM, and the current version in history mode."""
    return (
        not is_true(row.get("_fivetran_deleted"))
        and not is_true(row.get("is_deleted"))
        and (row.get("_fivetran_active") or "true").strip().lower() != "false"
    )


def dbt(settings: Settings, work_dir: Path, *args: str, as_of: str) -> subprocess.CompletedProcess:
    """The dbt CLI on the real project, with its target and logs kept in `work_dir` so the
    project's own manifest (the one Dagster loads) is never replaced by a test's."""
    env = {
        **os.environ,
        **settings.dbt_env(),
        "LEADSCORE_AS_OF_DATE": as_of,
        "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]),
    }
    return subprocess.run(
        [
            "dbt",
            *args,
            "--profiles-dir",
            ".",
            "--target-path",
            str(work_dir / "target"),
            "--log-path",
            str(work_dir / "logs"),
        ],
        cwd=DBT_PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )


def build(source: str, settings: Settings, work_dir: Path, extra_vars: dict | None = None) -> None:
    variables = {"crm_source": source, f"{source}_schema": SCHEMAS[source], **(extra_vars or {})}
    completed = dbt(
        settings, work_dir, "build", "--vars", json.dumps(variables), as_of=AS_OF[source]
    )
    assert completed.returncode == 0, completed.stdout[-6000:]


def warehouse_with_fixtures(
    source: str, engine: str, tmp_path: Path, request: pytest.FixtureRequest, tables=None
) -> Settings:
    """A fresh warehouse of `engine` holding the source's fixture tables in its schema."""
    duckdb_settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    load_duckdb(duckdb_settings.duckdb_path, source, SCHEMAS[source], tables)
    if engine == "duckdb":
        return duckdb_settings
    database = request.getfixturevalue("postgres_database")
    settings = settings_for(LEADSCORE_TARGET="postgres", LEADSCORE_PG_DBNAME=database)
    copy_to_postgres(duckdb_settings.duckdb_path, settings, SCHEMAS[source])
    return settings


def adapter_relation(source: str) -> str:
    """The source's contacts adapter, in the staging schema (the manifest Dagster loads is
    the generic mode's, which has no adapter models)."""
    staging = relation_name("stg_crm__contacts")
    return staging.replace("stg_crm__contacts", f"adapter_{source}__crm_contacts")


def catalog(settings: Settings) -> set[str]:
    """The attribute names fit rules can use in this warehouse."""
    sql = f"select attribute from {relation_name('int_scoring__attribute_catalog')}"
    return {name for (name,) in query(settings, sql)}


def query(settings: Settings, sql: str) -> list[tuple]:
    with connect(settings, read_only=True) as conn:
        return [tuple(row) for row in conn.fetchall(sql)]


def assert_every_person_scored_staged_and_segmented(settings: Settings, people: set[str]):
    leads = query(
        settings,
        f"select contact_id, lead_score, lead_stage from {relation_name('dim_leads')}",
    )
    assert {contact for contact, _, _ in leads} == people
    assert all(score is not None for _, score, _ in leads)
    assert {stage for _, _, stage in leads} <= {"Cold", "MQL", "SQL"}
    segments = query(
        settings, f"select contact_id, segment from {relation_name('dim_lead_segments')}"
    )
    assert sorted(contact for contact, _ in segments) == sorted(people)  # one row each
    assert all(segment for _, segment in segments)


def staged_events(settings: Settings) -> set[tuple[str, str, str]]:
    return set(
        query(
            settings,
            "select event_id, contact_id, event_type "
            f"from {relation_name('stg_marketing__events')}",
        )
    )


def unsubscribed(settings: Settings) -> set[str]:
    return {
        contact
        for (contact,) in query(
            settings,
            f"select contact_id from {relation_name('stg_crm__contacts')} where is_unsubscribed",
        )
    }


# HubSpot, worked out from the CSVs --------------------------------------------------------


class HubSpotFixtures:
    """What the HubSpot fixtures say, read with the csv module."""

    def __init__(self) -> None:
        contacts = fixture_rows("hubspot", "contact")
        self.deleted = {c["id"] for c in contacts if not is_live(c)}
        live = [c for c in contacts if is_live(c)]
        # property_hs_calculated_merged_vids is "vid:timestamp;vid:timestamp".
        self.survivor = {
            entry.split(":")[0]: contact["id"]
            for contact in live
            for entry in (contact["property_hs_calculated_merged_vids"] or "").split(";")
            if entry
        }
        self.people = {c["id"] for c in live} - set(self.survivor)
        self.person_of_id = {c["id"]: self.survivor.get(c["id"], c["id"]) for c in live}
        self.person_of_email = {
            c["property_email"].strip().lower(): self.person_of_id[c["id"]] for c in live
        }

    def events(self) -> set[tuple[str, str, str]]:
        """(event_id, person, event_type) of every event that reaches a fixture person."""
        unsubscribing = {
            s["id"]
            for s in fixture_rows("hubspot", "email_event_status_change")
            if s["portal_subscription_status"] == "UNSUBSCRIBED"
        }
        email_types = {"OPEN": "email_open", "CLICK": "email_click", "BOUNCE": "email_bounce"}
        expected = set()
        for event in fixture_rows("hubspot", "email_event"):
            person = self.person_of_email.get(event["recipient"].strip().lower())
            kind = email_types.get(event["type"])
            if event["type"] == "STATUS_CHANGE" and event["id"] in unsubscribing:
                kind = "unsubscribe"
            if person and kind and not is_true(event["filtered_event"]):
                expected.add((f"email:{event['id']}", person, kind))
        for form in fixture_rows("hubspot", "contact_form_submission"):
            person = self.person_of_id.get(form["contact_id"])
            kind = "demo_request" if "demo" in form["title"].lower() else None
            if person:
                assert kind, "the fixture forms that reach a person are demo requests"
                expected.add((f"form:{form['conversion_id']}", person, kind))
        meetings = {m["engagement_id"] for m in fixture_rows("hubspot", "engagement_meeting")}
        for link in fixture_rows("hubspot", "engagement_contact"):
            person = self.person_of_id.get(link["contact_id"])
            if person and link["engagement_id"] in meetings:
                event_id = f"meeting:{link['engagement_id']}:{link['contact_id']}"
                expected.add((event_id, person, "sales_meeting"))
        return expected

    def won_deals(self) -> set[tuple[str, str]]:
        """(deal, person) of live deals in a live closed-won stage with a fixture person."""
        won_stages = {
            s["stage_id"]
            for s in fixture_rows("hubspot", "deal_pipeline_stage")
            if is_true(s["closed_won"]) and is_live(s)
        }
        contact_of_deal = {
            link["deal_id"]: link["contact_id"] for link in fixture_rows("hubspot", "deal_contact")
        }
        return {
            (deal["deal_id"], self.person_of_id[contact_of_deal[deal["deal_id"]]])
            for deal in fixture_rows("hubspot", "deal")
            if is_live(deal)
            and deal["deal_pipeline_stage_id"] in won_stages
            and contact_of_deal.get(deal["deal_id"]) in self.person_of_id
        }


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_hubspot_tables_are_scored_where_fivetran_loads_them(engine, tmp_path, request):
    expected = HubSpotFixtures()
    # The cases the checks below rely on are in the fixtures (hand-written rows included).
    assert expected.deleted and len(expected.survivor) == 3 and expected.won_deals()

    settings = warehouse_with_fixtures("hubspot", engine, tmp_path, request)
    build("hubspot", settings, tmp_path)

    assert_every_person_scored_staged_and_segmented(settings, expected.people)
    # Soft-deleted and merged-away contacts are nobody of their own.
    leads = {c for (c,) in query(settings, f"select contact_id from {relation_name('dim_leads')}")}
    assert not leads & (expected.deleted | set(expected.survivor))
    # What merged contacts did (by their id or their email) belongs to the survivor.
    assert staged_events(settings) == expected.events()
    won = query(
        settings,
        f"select deal_id, contact_id from {relation_name('stg_crm__deals')} where is_won",
    )
    assert set(won) == expected.won_deals()
    customers = query(
        settings,
        f"select contact_id from {relation_name('int_scoring__contact_profile')} where is_customer",
    )
    assert {c for (c,) in customers} == {person for _, person in expected.won_deals()}
    # Unsubscribed exactly where a STATUS_CHANGE email event unsubscribed the person.
    assert unsubscribed(settings) == {
        person for _, person, kind in expected.events() if kind == "unsubscribe"
    }
    # Every Fivetran row is staged, quarantined or merged (the reconciliation test passed in
    # the build); deleted deals never reach staging.
    live_deals = [d for d in fixture_rows("hubspot", "deal") if is_live(d)]
    assert query(settings, f"select count(*) from {relation_name('stg_crm__deals')}") == [
        (len(live_deals),)
    ]
    # The portal's other properties are attributes fit rules can name, with their values.
    assert {"contact.company", "company.hs_all_funky_a9384_syntax", "company.city"} <= catalog(
        settings
    )
    companies_named = {
        row["id"]: row.get("property_company") or None for row in fixture_rows("hubspot", "contact")
    }
    adapted = query(settings, f"select contact_id, company from {adapter_relation('hubspot')}")
    assert adapted and all(companies_named[contact] == name for contact, name in adapted)
    assert any(name for _, name in adapted)


# Salesforce, worked out from the CSVs -----------------------------------------------------


class SalesforceFixtures:
    def __init__(self) -> None:
        contacts = fixture_rows("salesforce", "contact")
        leads = fixture_rows("salesforce", "lead")
        self.deleted = {r["id"] for r in contacts + leads if not is_live(r)}
        live_leads = [lead for lead in leads if is_live(lead)]
        self.converted = {
            lead["id"]: lead["converted_contact_id"]
            for lead in live_leads
            if is_true(lead["is_converted"]) and lead["converted_contact_id"]
        }
        self.contacts = {c["id"] for c in contacts if is_live(c)}
        self.people = self.contacts | {lead["id"] for lead in live_leads} - set(self.converted)
        self.opted_out = {
            r["id"] for r in contacts + leads if is_true(r["has_opted_out_of_email"])
        } & self.people

    def person(self, who_id: str) -> str | None:
        who = self.converted.get(who_id, who_id)
        return who if who in self.people else None

    def events(self) -> set[tuple[str, str, str]]:
        expected = set()
        for event in fixture_rows("salesforce", "event"):
            person = self.person(event["who_id"])
            if person and is_live(event):
                kind = "sales_call" if event["type"] == "Call" else "sales_meeting"
                expected.add((f"event:{event['id']}", person, kind))
        for task in fixture_rows("salesforce", "task"):
            person = self.person(task["who_id"])
            if person and is_live(task) and is_true(task["is_closed"]):
                is_call = "Call" in (task["task_subtype"], task["type"]) or task.get("call_type")
                expected.add(
                    (f"task:{task['id']}", person, "sales_call" if is_call else "sales_task")
                )
        return expected


@pytest.mark.parametrize("engine", ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_salesforce_tables_are_scored_where_fivetran_loads_them(engine, tmp_path, request):
    expected = SalesforceFixtures()
    # A lead converted into a fixture contact, with a call logged on the lead.
    assert set(expected.converted.values()) & expected.contacts
    assert expected.deleted and expected.opted_out

    settings = warehouse_with_fixtures("salesforce", engine, tmp_path, request)
    build("salesforce", settings, tmp_path)

    assert_every_person_scored_staged_and_segmented(settings, expected.people)
    leads = {c for (c,) in query(settings, f"select contact_id from {relation_name('dim_leads')}")}
    assert not leads & (expected.deleted | set(expected.converted))
    # Activity logged on a converted lead follows it to its contact.
    events = staged_events(settings)
    assert events == expected.events()
    assert any(person in expected.converted.values() for _, person, _ in events)
    assert unsubscribed(settings) == expected.opted_out
    owners = {
        o for (o,) in query(settings, f"select owner_id from {relation_name('stg_crm__owners')}")
    }
    assert owners == {
        u["id"]
        for u in fixture_rows("salesforce", "user")
        if is_live(u) and is_true(u["is_active"])
    }
    # The org's custom fields (on contacts and leads) and other account fields are
    # attributes fit rules can name, with their values; a lead has none of a contact field.
    assert {"contact.contact_status_c", "contact.status", "company.account_source"} <= catalog(
        settings
    )
    statuses = {
        row["id"]: row.get("contact_status_c") or None
        for row in fixture_rows("salesforce", "contact")
    }
    adapter = adapter_relation("salesforce")
    adapted = query(settings, f"select contact_id, contact_status_c from {adapter}")
    assert any(status for _, status in adapted)
    assert all(statuses.get(person) == status for person, status in adapted)


@pytest.mark.parametrize("source", ["hubspot", "salesforce"])
def test_a_customer_with_only_the_people_table_still_builds(source, tmp_path, request):
    """Every optional table switched off by its var (and absent from the warehouse)."""
    settings = warehouse_with_fixtures(source, "duckdb", tmp_path, request, ["contact"])
    build(source, settings, tmp_path, TABLES_OFF[source])

    # HubSpot merges need only the contact table; Salesforce has no leads without theirs.
    people = HubSpotFixtures().people if source == "hubspot" else SalesforceFixtures().contacts
    assert_every_person_scored_staged_and_segmented(settings, people)
    for model in ("stg_crm__companies", "stg_crm__deals", "stg_crm__owners"):
        assert query(settings, f"select count(*) from {relation_name(model)}") == [(0,)]


# The switch itself ------------------------------------------------------------------------


def test_generic_mode_has_no_fivetran_sources_or_adapters():
    """The project's manifest (the default crm_source) is the generic graph, unchanged."""
    parsed = manifest()
    assert {s["source_name"] for s in parsed["sources"].values()} == {"crm", "marketing"}
    adapters = [
        name
        for name, node in parsed["nodes"].items()
        if node["fqn"][1:3] in (["staging", "hubspot"], ["staging", "salesforce"])
    ]
    assert adapters == []
    # (The sync payloads for HubSpot and Salesforce are destinations, not sources.)
    assert "model.leadscore.sync_hubspot__contacts" in parsed["nodes"]


@pytest.mark.parametrize("source", ["hubspot", "salesforce"])
def test_fivetran_sources_become_connector_assets(source, tmp_path):
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    completed = dbt(
        settings,
        tmp_path,
        "parse",
        "--vars",
        json.dumps({"crm_source": source}),
        as_of="2021-01-01",
    )
    assert completed.returncode == 0, completed.stdout[-4000:]
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    translator = LeadscoreTranslator()
    keys = {
        translator.get_asset_key(props): translator.get_group_name(props)
        for props in manifest["sources"].values()
        if props["source_name"] == source
    }
    assert keys == {dg.AssetKey([source, table]): "ingest" for table in FIVETRAN_TABLES[source]}
    base = manifest["nodes"]["model.leadscore.base_crm__contacts"]
    assert f"model.leadscore.adapter_{source}__crm_contacts" in base["depends_on"]["nodes"]

    # Beside the ingest assets the graph loads: the connector's tables are external assets
    # upstream of the adapters, and no key collides with the raw tables.
    @dbt_assets(
        manifest=tmp_path / "target" / "manifest.json",
        dagster_dbt_translator=LeadscoreTranslator(),
    )
    def fivetran_models(context): ...

    graph = dg.Definitions(
        assets=[ingest_landing_files, fivetran_models],
        resources={"warehouse": WarehouseResource()},
    ).resolve_asset_graph()
    contact = dg.AssetKey([source, "contact"])
    assert not graph.get(contact).is_materializable
    adapter = graph.get(dg.AssetKey(["staging", f"adapter_{source}__crm_contacts"]))
    assert contact in adapter.parent_keys
    assert graph.get(dg.AssetKey(["scoring", "dim_leads"])).is_materializable


def test_an_unknown_crm_source_stops_the_build_with_its_name(tmp_path):
    settings = settings_for(LEADSCORE_TARGET="duckdb", LEADSCORE_DATA_DIR=str(tmp_path))
    completed = dbt(
        settings, tmp_path, "parse", "--vars", '{"crm_source": "pipedrive"}', as_of=AS_OF["hubspot"]
    )
    assert completed.returncode != 0
    assert "var crm_source must be one of generic, hubspot, salesforce, got 'pipedrive'" in (
        completed.stdout
    )
