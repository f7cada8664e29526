"""Erasure as a Dagster job: `forget_people`, run on demand with the people to forget in its
run config. It writes to the warehouse, so it takes the warehouse pool like every writer."""

import dagster as dg

from orchestration.defs.resources import WarehouseResource
from orchestration.lib.asset_keys import WAREHOUSE_POOL
from orchestration.privacy.erasure import forget_in_project

FORGET_JOB_NAME = "forget_people"


class ForgetConfig(dg.Config):
    """`emails` and `contact_ids` of the people to erase (every record sharing an id or an
    email with them goes too)."""

    emails: list[str] = []  # noqa: RUF012 (pydantic copies defaults per instance)
    contact_ids: list[str] = []  # noqa: RUF012


@dg.op(pool=WAREHOUSE_POOL, description="Erase people from the warehouse, files and destinations.")
def forget(
    context: dg.OpExecutionContext, config: ForgetConfig, warehouse: WarehouseResource
) -> dict:
    report = forget_in_project(
        warehouse.settings,
        emails=config.emails,
        contact_ids=config.contact_ids,
        log=context.log.info,
    )
    context.log.info(report.summary())
    return {"tables": len(report.tables), "files": len(report.files)}


@dg.job(
    name=FORGET_JOB_NAME,
    description="Erase people (run config `ops.forget.config`: emails, contact_ids) from every "
    "table and file that holds them, log the erasure (hashed) and compact the warehouse.",
)
def forget_people():
    forget()
