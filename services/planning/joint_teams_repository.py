"""SQL of the merged teams of 部门联合 tasks (``joint_team_members``): planning owns every team row, internal
(``teams_repository``) or joint. Each department's members are that department's rows; the lead reads the whole
team through its ``lead_read`` policy, a partner only its own."""

from __future__ import annotations

import uuid

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning.rows import JointMemberInspector, JointSlotRow, row, rows
from services.planning.schemas import JointMemberOut


async def insert_joint_members(
    session: AsyncSession, tenant_id: uuid.UUID, task_id: uuid.UUID, members: list[JointMemberOut]
) -> None:
    if members:
        await session.execute(
            text(
                "INSERT INTO joint_team_members (tenant_id, task_id, uscc, slot, inspector_id, inspector_name,"
                " licence_no, department_code, slot_label, adjusted) VALUES (:t, :task, :uscc, :slot, :inspector_id,"
                " :inspector_name, :licence_no, :department_code, :slot_label, :adjusted)"
            ),
            [{**msgspec.structs.asdict(m), "t": tenant_id, "task": task_id} for m in members],
        )


async def joint_members(session: AsyncSession, task_id: uuid.UUID) -> list[JointMemberOut]:
    found = await session.execute(
        text(
            "SELECT uscc, slot, inspector_id, inspector_name, licence_no, department_code, slot_label, adjusted"
            " FROM joint_team_members WHERE task_id = :t ORDER BY uscc, slot"
        ),
        {"t": task_id},
    )
    return rows(found, JointMemberOut)


async def my_joint_members(
    session: AsyncSession, task_id: uuid.UUID, uscc: str
) -> list[JointMemberInspector]:
    """The current department's own members of a joint team (the lead's lead_read policy shows partners' rows too;
    they are not ours to enter for)."""
    found = await session.execute(
        text(
            "SELECT i.id, i.name, i.user_id, i.licence_no FROM joint_team_members m JOIN inspectors i"
            " ON i.id = m.inspector_id WHERE m.task_id = :t AND m.uscc = :u AND m.tenant_id = app_tenant()"
            " ORDER BY m.slot"
        ),
        {"t": task_id, "u": uscc},
    )
    return rows(found, JointMemberInspector)


async def joint_team_usccs(session: AsyncSession, task_id: uuid.UUID) -> list[str]:
    found = await session.execute(
        text("SELECT DISTINCT uscc FROM joint_team_members WHERE task_id = :t ORDER BY uscc"), {"t": task_id}
    )
    return [r[0] for r in found]


async def joint_slot(
    session: AsyncSession, task_id: uuid.UUID, uscc: str, slot: int, *, lock: bool = False
) -> JointSlotRow | None:
    """One slot of a joint team if the department may see it (the lead every slot, a partner its own); locked only
    in the department's own rows (the lead's lead_read policy reads partners' rows, it never writes them)."""
    sql = (
        "SELECT tenant_id, uscc, slot, inspector_id, inspector_name, department_code, slot_label"
        " FROM joint_team_members WHERE task_id = :t AND uscc = :u AND slot = :s"
    )
    if lock:
        sql += " AND tenant_id = (SELECT app_tenant()) FOR UPDATE"
    found = (await session.execute(text(sql), {"t": task_id, "u": uscc, "s": slot})).first()
    return row(found, JointSlotRow)


async def replace_joint_member(
    session: AsyncSession,
    task_id: uuid.UUID,
    uscc: str,
    slot: int,
    inspector: tuple[uuid.UUID, str, str],
) -> None:
    """Put another of the department's own inspectors (id, name, licence number) in one of its own slots."""
    await session.execute(
        text(
            "UPDATE joint_team_members SET inspector_id = :i, inspector_name = :n, licence_no = :l, adjusted = true"
            " WHERE task_id = :t AND uscc = :u AND slot = :s AND tenant_id = (SELECT app_tenant())"
        ),
        {"i": inspector[0], "n": inspector[1], "l": inspector[2], "t": task_id, "u": uscc, "s": slot},
    )
