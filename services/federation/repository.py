"""SQL of joint plans: participation rows and merged team members (each row in its owner's scope)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def departments_in_region(session: AsyncSession, region_code: str) -> dict[str, dict[str, Any]]:
    rows = await session.execute(
        text("SELECT id, code, name, short_name FROM departments WHERE region_code = :r AND active"),
        {"r": region_code},
    )
    return {r.code: dict(r._mapping) for r in rows}


async def invite(session: AsyncSession, lead: uuid.UUID, plan_id: uuid.UUID, tenant_id: uuid.UUID,
                 respond_by: dt.date) -> None:
    await session.execute(
        text(
            "INSERT INTO joint_participants (id, lead_tenant_id, plan_id, tenant_id, respond_by)"
            " VALUES (:id, :lead, :plan, :t, :by)"
        ),
        {"id": uuid.uuid4(), "lead": lead, "plan": plan_id, "t": tenant_id, "by": respond_by},
    )


PARTICIPANT_COLUMNS = (
    "jp.id, jp.plan_id, jp.lead_tenant_id, jp.tenant_id, d.code AS department_code, d.name AS department_name,"
    " jp.status, jp.invited_at, jp.respond_by, jp.responded_at, jp.responded_by, jp.reason, jp.item_names"
)


async def participants(session: AsyncSession, plan_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(f"SELECT {PARTICIPANT_COLUMNS} FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
             " WHERE jp.plan_id = :p ORDER BY d.code"),
        {"p": plan_id},
    )
    return [dict(r._mapping) for r in rows]


async def my_participation(session: AsyncSession, plan_id: uuid.UUID, tenant_id: uuid.UUID,
                           *, lock: bool = False) -> dict[str, Any] | None:
    row = (
        await session.execute(
            text(f"SELECT {PARTICIPANT_COLUMNS} FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
                 " WHERE jp.plan_id = :p AND jp.tenant_id = :t" + (" FOR UPDATE OF jp" if lock else "")),
            {"p": plan_id, "t": tenant_id},
        )
    ).first()
    return dict(row._mapping) if row else None


async def invitations(session: AsyncSession, tenant_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            f"SELECT {PARTICIPANT_COLUMNS}, p.number AS plan_number, p.name AS plan_name, ld.name AS lead_name"
            " FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
            " JOIN plans p ON p.id = jp.plan_id JOIN departments ld ON ld.id = jp.lead_tenant_id"
            " WHERE jp.tenant_id = :t ORDER BY jp.invited_at DESC"
        ),
        {"t": tenant_id},
    )
    return [dict(r._mapping) for r in rows]


async def respond(session: AsyncSession, participation_id: uuid.UUID, status: str, actor: str,
                  reason: str | None) -> None:
    await session.execute(
        text("UPDATE joint_participants SET status = :s, responded_at = now(), responded_by = :a, reason = :r"
             " WHERE id = :id"),
        {"s": status, "a": actor, "r": reason, "id": participation_id},
    )


async def set_items(session: AsyncSession, participation_id: uuid.UUID, ids: list[uuid.UUID], names: list[str]) -> None:
    await session.execute(
        text("UPDATE joint_participants SET item_ids = :ids, item_names = :names WHERE id = :id"),
        {"ids": ids, "names": names, "id": participation_id},
    )


async def insert_members(session: AsyncSession, tenant_id: uuid.UUID, task_id: uuid.UUID,
                         rows: list[dict[str, Any]]) -> None:
    if rows:
        await session.execute(
            text(
                "INSERT INTO joint_team_members (tenant_id, task_id, uscc, slot, inspector_id, inspector_name,"
                " licence_no, department_code, slot_label) VALUES (:t, :task, :uscc, :slot, :inspector_id,"
                " :inspector_name, :licence_no, :department_code, :slot_label)"
            ),
            [{**r, "t": tenant_id, "task": task_id} for r in rows],
        )


async def members(session: AsyncSession, task_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text("SELECT uscc, slot, inspector_id, inspector_name, licence_no, department_code, slot_label"
             " FROM joint_team_members WHERE task_id = :t ORDER BY uscc, slot"),
        {"t": task_id},
    )
    return [dict(r._mapping) for r in rows]


async def usccs(session: AsyncSession) -> set[str]:
    rows = await session.execute(text("SELECT uscc FROM registry_objects WHERE active"))
    return {r[0] for r in rows}
