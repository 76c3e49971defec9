"""Invitation reminders: the partner before its 2-working-day deadline, the lead once a partner let it pass."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg
from sqlalchemy import text

from services.federation.jobs import remind_invitations
from services.identity.provisioning import department_id
from shared.db import asyncpg_dsn
from shared.runtime import Runtime
from shared.tenancy import department_scope
from shared.worker import load_job_modules
from shared.worker import remind_invitations as cron_remind

YJJ, SCJG = department_id("130528-yjj"), department_id("130528-scjg")


async def _set_deadline(admin_url: str, plan_id: str, when: dt.date) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(
            "UPDATE joint_participants SET respond_by = $2 WHERE plan_id = $1::uuid", plan_id, when
        )
    finally:
        await conn.close()


async def _titles(runtime: Runtime, tenant: Any) -> list[str]:
    async with runtime.unit_of_work(department_scope(tenant, read_only=True)) as session:
        return [
            r[0]
            for r in await session.execute(text("SELECT title FROM notifications WHERE kind = 'federation'"))
        ]


async def test_partner_and_lead_are_reminded(as_user: Any, runtime: Runtime, db_urls: dict[str, str]) -> None:
    load_job_modules()
    joint = (
        as_user("yjj-planner")
        .post("/api/federation/plans", {"year": 2032, "partners": ["130528-scjg"]})
        .json()
    )
    today = dt.date.today()
    await _set_deadline(db_urls["admin"], joint["plan"]["id"], today - dt.timedelta(days=1))
    for tenant in (SCJG, YJJ):
        async with runtime.unit_of_work(department_scope(tenant)) as session:
            await remind_invitations(session, tenant, day=today.isoformat())
            await remind_invitations(session, tenant, day=today.isoformat())  # same day again: no duplicates
    partner = [t for t in await _titles(runtime, SCJG) if joint["plan"]["number"] in t and "已逾期" in t]
    lead = [t for t in await _titles(runtime, YJJ) if "逾期未确认" in t and "市场监督管理局" in t]
    assert len(partner) == 1 and len(lead) >= 1
    # The daily cron queues one reminder job per active department.
    assert await cron_remind({"runtime": runtime}) >= 3
