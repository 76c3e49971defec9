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


async def invite(
    session: AsyncSession, lead: uuid.UUID, plan_id: uuid.UUID, tenant_id: uuid.UUID, respond_by: dt.date
) -> None:
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
        text(
            f"SELECT {PARTICIPANT_COLUMNS} FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
            " WHERE jp.plan_id = :p ORDER BY d.code"
        ),
        {"p": plan_id},
    )
    return [dict(r._mapping) for r in rows]


async def my_participation(
    session: AsyncSession, plan_id: uuid.UUID, tenant_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    row = (
        await session.execute(
            text(
                f"SELECT {PARTICIPANT_COLUMNS} FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
                " WHERE jp.plan_id = :p AND jp.tenant_id = :t" + (" FOR UPDATE OF jp" if lock else "")
            ),
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


async def respond(
    session: AsyncSession, participation_id: uuid.UUID, status: str, actor: str, reason: str | None
) -> None:
    await session.execute(
        text(
            "UPDATE joint_participants SET status = :s, responded_at = now(), responded_by = :a, reason = :r"
            " WHERE id = :id"
        ),
        {"s": status, "a": actor, "r": reason, "id": participation_id},
    )


async def set_items(
    session: AsyncSession, participation_id: uuid.UUID, ids: list[uuid.UUID], names: list[str]
) -> None:
    await session.execute(
        text("UPDATE joint_participants SET item_ids = :ids, item_names = :names WHERE id = :id"),
        {"ids": ids, "names": names, "id": participation_id},
    )


async def insert_members(
    session: AsyncSession, tenant_id: uuid.UUID, task_id: uuid.UUID, rows: list[dict[str, Any]]
) -> None:
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
        text(
            "SELECT uscc, slot, inspector_id, inspector_name, licence_no, department_code, slot_label"
            " FROM joint_team_members WHERE task_id = :t ORDER BY uscc, slot"
        ),
        {"t": task_id},
    )
    return [dict(r._mapping) for r in rows]


async def usccs(session: AsyncSession) -> set[str]:
    rows = await session.execute(text("SELECT uscc FROM registry_objects WHERE active"))
    return {r[0] for r in rows}


# ---- joint results (一企一表) ---------------------------------------------------------------------------------------


async def joint_task(session: AsyncSession, task_id: uuid.UUID) -> dict[str, Any] | None:
    """The joint facts of a task, as the current department sees them: the lead, and its own participation (if any).
    None when the task is not part of a joint plan (or is invisible)."""
    row = (
        await session.execute(
            text(
                "SELECT t.id AS task_id, t.tenant_id AS lead_tenant_id, t.plan_id, t.item_ids AS lead_item_ids,"
                " t.status AS task_status, t.tenant_id = app_tenant() AS is_lead, jp.status AS my_status,"
                " jp.item_ids AS my_item_ids FROM tasks t JOIN plans p ON p.id = t.plan_id"
                " LEFT JOIN joint_participants jp ON jp.plan_id = p.id AND jp.tenant_id = app_tenant()"
                " WHERE t.id = :t AND p.kind = '部门联合'"
            ),
            {"t": task_id},
        )
    ).first()
    return dict(row._mapping) if row else None


async def my_joint_members(session: AsyncSession, task_id: uuid.UUID, uscc: str) -> list[dict[str, Any]]:
    """The current department's own members of a joint team (the lead's lead_read policy shows partners' rows too;
    they are not ours to enter for)."""
    rows = await session.execute(
        text(
            "SELECT i.id, i.name, i.user_id, i.licence_no FROM joint_team_members m JOIN inspectors i"
            " ON i.id = m.inspector_id WHERE m.task_id = :t AND m.uscc = :u AND m.tenant_id = app_tenant()"
            " ORDER BY m.slot"
        ),
        {"t": task_id, "u": uscc},
    )
    return [dict(r._mapping) for r in rows]


async def joint_team_usccs(session: AsyncSession, task_id: uuid.UUID) -> list[str]:
    rows = await session.execute(
        text("SELECT DISTINCT uscc FROM joint_team_members WHERE task_id = :t ORDER BY uscc"), {"t": task_id}
    )
    return [r[0] for r in rows]


async def own_object(session: AsyncSession, uscc: str) -> dict[str, Any] | None:
    row = (
        await session.execute(
            text(
                "SELECT id AS object_id, name, address, uscc FROM registry_objects WHERE uscc = :u"
                " ORDER BY active DESC LIMIT 1"
            ),
            {"u": uscc},
        )
    ).first()
    return dict(row._mapping) if row else None


async def part_result(
    session: AsyncSession, task_id: uuid.UUID, uscc: str, *, submitted_only: bool, lock: bool = False
) -> dict[str, Any] | None:
    """The current department's own part (RLS: tenant rows only). ``submitted_only`` hides drafts and returned
    parts: used when the lead reads a partner's part while acting for it."""
    sql = (
        "SELECT r.id, r.tenant_id, r.status, r.check_date, r.categories, r.summary, r.entered_by_name,"
        " r.reviewed_by_name, r.reviewed_at, r.object_id, r.published_at FROM inspection_results r"
        " WHERE r.task_id = :t AND r.uscc = :u AND r.tenant_id = app_tenant()"
    )
    if submitted_only:
        sql += " AND r.status IN ('待审核', '已通过', '已公示')"
    if lock:
        sql += " FOR UPDATE"
    row = (await session.execute(text(sql), {"t": task_id, "u": uscc})).first()
    return dict(row._mapping) if row else None


async def part_points(session: AsyncSession, result_id: uuid.UUID) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(
            "SELECT i.name AS item_name, cp.seq, cp.content, rp.outcome, rp.note FROM result_points rp"
            " JOIN check_points cp ON cp.id = rp.check_point_id JOIN inspection_items i ON i.id = cp.item_id"
            " WHERE rp.result_id = :r ORDER BY i.code, cp.seq"
        ),
        {"r": result_id},
    )
    return [dict(r._mapping) for r in rows]


async def item_names(session: AsyncSession, item_ids: list[uuid.UUID]) -> list[str]:
    rows = await session.execute(
        text("SELECT name FROM inspection_items WHERE id = ANY(:ids) ORDER BY code"), {"ids": list(item_ids)}
    )
    return [r[0] for r in rows]


async def public_joint_record(session: AsyncSession, task_id: uuid.UUID, uscc: str) -> dict[str, Any] | None:
    row = (
        await session.execute(
            text(
                "SELECT id, department_name, items, check_date, categories, hazard_count, follow_up, departments,"
                " published_at FROM public_results WHERE task_id = :t AND uscc = :u"
                " AND jsonb_array_length(departments) > 0"
            ),
            {"t": task_id, "u": uscc},
        )
    ).first()
    return dict(row._mapping) if row else None


async def department_names(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, Any]]:
    rows = await session.execute(
        text("SELECT id, code, name, region_code FROM departments WHERE id = ANY(:ids)"), {"ids": ids}
    )
    return {r.id: dict(r._mapping) for r in rows}


# ---- referrals ----------------------------------------------------------------------------------------------------

REFERRAL_COLUMNS = (
    "id, tenant_id, from_tenant_id, from_department_name, to_department_name, result_id, followup_id, task_id,"
    " uscc, enterprise_name, action, evidence, attachments, status, history, created_by, created_at, updated_at"
)


async def referral_for(session: AsyncSession, followup_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        await session.execute(
            text("SELECT id FROM referrals WHERE followup_id = :f AND tenant_id = app_tenant()"),
            {"f": followup_id},
        )
    ).first()
    return dict(row._mapping) if row else None


async def insert_referral(session: AsyncSession, values: dict[str, Any]) -> None:
    await session.execute(
        text(
            "INSERT INTO referrals (id, tenant_id, from_tenant_id, from_department_name, to_department_name,"
            " result_id, followup_id, task_id, uscc, enterprise_name, action, evidence, attachments, created_by)"
            " VALUES (:id, :tenant_id, :from_tenant_id, :from_department_name, :to_department_name, :result_id,"
            " :followup_id, :task_id, :uscc, :enterprise_name, :action, :evidence, CAST(:attachments AS jsonb),"
            " :created_by)"
        ),
        values,
    )


async def get_referral(
    session: AsyncSession, referral_id: uuid.UUID, *, lock: bool = False
) -> dict[str, Any] | None:
    sql = f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = :id" + (" FOR UPDATE" if lock else "")
    row = (await session.execute(text(sql), {"id": referral_id})).first()
    return dict(row._mapping) if row else None


async def list_referrals(session: AsyncSession) -> list[dict[str, Any]]:
    rows = await session.execute(
        text(f"SELECT {REFERRAL_COLUMNS} FROM referrals ORDER BY created_at DESC LIMIT 500")
    )
    return [dict(r._mapping) for r in rows]


async def update_referral(session: AsyncSession, referral_id: uuid.UUID, status: str, entry: str) -> None:
    await session.execute(
        text(
            "UPDATE referrals SET status = :s, history = history || CAST(:e AS jsonb), updated_at = now()"
            " WHERE id = :id"
        ),
        {"s": status, "e": entry, "id": referral_id},
    )


async def joint_assignments_for_user(session: AsyncSession, user_id: uuid.UUID) -> list[dict[str, Any]]:
    """The enterprises of joint teams on which the user is one of the current department's members."""
    rows = await session.execute(
        text(
            "SELECT m.task_id, m.uscc, coalesce(o.name, m.uscc) AS object_name, p.number AS plan_number,"
            " t.number AS task_number, t.name AS task_name, t.status, t.start_month, t.end_month,"
            " (SELECT r.status FROM inspection_results r WHERE r.task_id = m.task_id AND r.uscc = m.uscc"
            "  AND r.tenant_id = app_tenant()) AS result_status"
            " FROM joint_team_members m JOIN inspectors i ON i.id = m.inspector_id AND i.user_id = :u"
            " JOIN tasks t ON t.id = m.task_id JOIN plans p ON p.id = t.plan_id"
            " LEFT JOIN registry_objects o ON o.uscc = m.uscc AND o.tenant_id = app_tenant()"
            " WHERE m.tenant_id = app_tenant() ORDER BY t.start_month DESC, m.uscc"
        ),
        {"u": user_id},
    )
    return [dict(r._mapping) for r in rows]
