"""SQL of joint checks: participation rows and invitation reminders, merged team members, joint records and
referrals (each row in its owner's scope). Overlapping checks and joint visits are in visits_repository.py."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec
from sqlalchemy import text
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from services.federation.rows import (
    DepartmentRow,
    JointTask,
    NewReferral,
    OverdueInvitation,
    OwnObject,
    ParticipantRow,
    PartResult,
    PendingInvitation,
    PublicJointRecord,
    ReferralRow,
    SharedObject,
)
from services.federation.schemas import (
    InvitationOut,
    JointAssignmentOut,
    ParticipationStatus,
    PointOut,
    ReferralStatus,
)

T = TypeVar("T", bound=msgspec.Struct)


def row(found: Row[Any] | None, kind: type[T]) -> T | None:
    return None if found is None else msgspec.convert(dict(found._mapping), kind)


def rows(found: Iterable[Row[Any]], kind: type[T]) -> list[T]:
    return [msgspec.convert(dict(r._mapping), kind) for r in found]


def jsonb(value: object) -> object:
    """jsonb read through text() arrives decoded with the asyncpg codec, or as its text without one."""
    return msgspec.json.decode(value) if isinstance(value, str) else value


async def departments_in_region(session: AsyncSession, region_code: str) -> dict[str, DepartmentRow]:
    found = await session.execute(
        text("SELECT id, code, name, short_name FROM departments WHERE region_code = :r AND active"),
        {"r": region_code},
    )
    return {d.code: d for d in rows(found, DepartmentRow)}


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


async def participants(session: AsyncSession, plan_id: uuid.UUID) -> list[ParticipantRow]:
    found = await session.execute(
        text(
            f"SELECT {PARTICIPANT_COLUMNS} FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
            " WHERE jp.plan_id = :p ORDER BY d.code"
        ),
        {"p": plan_id},
    )
    return rows(found, ParticipantRow)


async def my_participation(
    session: AsyncSession, plan_id: uuid.UUID, tenant_id: uuid.UUID, *, lock: bool = False
) -> ParticipantRow | None:
    found = (
        await session.execute(
            text(
                f"SELECT {PARTICIPANT_COLUMNS} FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
                " WHERE jp.plan_id = :p AND jp.tenant_id = :t" + (" FOR UPDATE OF jp" if lock else "")
            ),
            {"p": plan_id, "t": tenant_id},
        )
    ).first()
    return row(found, ParticipantRow)


async def invitations(session: AsyncSession, tenant_id: uuid.UUID) -> list[InvitationOut]:
    found = await session.execute(
        text(
            f"SELECT {PARTICIPANT_COLUMNS}, p.number AS plan_number, p.name AS plan_name, ld.name AS lead_name"
            " FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
            " JOIN plans p ON p.id = jp.plan_id JOIN departments ld ON ld.id = jp.lead_tenant_id"
            " WHERE jp.tenant_id = :t ORDER BY jp.invited_at DESC"
        ),
        {"t": tenant_id},
    )
    return rows(found, InvitationOut)


async def respond(
    session: AsyncSession,
    participation_id: uuid.UUID,
    status: ParticipationStatus,
    actor: str,
    reason: str | None,
) -> None:
    await session.execute(
        text(
            "UPDATE joint_participants SET status = :s, responded_at = now(), responded_by = :a, reason = :r"
            " WHERE id = :id"
        ),
        {"s": status, "a": actor, "r": reason, "id": participation_id},
    )


async def reinvite(session: AsyncSession, participation_id: uuid.UUID, respond_by: dt.date) -> None:
    """Invite again a department that declined or left: a fresh invitation (its items are chosen anew)."""
    await session.execute(
        text(
            "UPDATE joint_participants SET status = '邀请中', invited_at = now(), respond_by = :by,"
            " responded_at = NULL, responded_by = NULL, reason = NULL, item_ids = '{}', item_names = '{}'"
            " WHERE id = :id"
        ),
        {"by": respond_by, "id": participation_id},
    )


async def set_items(
    session: AsyncSession, participation_id: uuid.UUID, ids: list[uuid.UUID], names: list[str]
) -> None:
    await session.execute(
        text("UPDATE joint_participants SET item_ids = :ids, item_names = :names WHERE id = :id"),
        {"ids": ids, "names": names, "id": participation_id},
    )


async def usccs(session: AsyncSession) -> set[str]:
    found = await session.execute(text("SELECT uscc FROM registry_objects WHERE active"))
    return {r[0] for r in found}


async def all_usccs(session: AsyncSession, usccs: list[str]) -> set[str]:
    """Which of these USCCs the department in scope has in its registry, active or not."""
    found = await session.execute(
        text("SELECT uscc FROM registry_objects WHERE uscc = ANY(:u)"), {"u": usccs}
    )
    return {r[0] for r in found}


async def objects_to_share(session: AsyncSession, usccs: list[str]) -> list[SharedObject]:
    """What a joint check shares of the lead's registry objects of its frozen list (called acting for the lead)."""
    found = await session.execute(
        text(
            "SELECT uscc, name, address, region_code, industry, object_type FROM registry_objects"
            " WHERE uscc = ANY(:u) AND active"
        ),
        {"u": usccs},
    )
    return rows(found, SharedObject)


# ---- joint results (一企一表) ---------------------------------------------------------------------------------------


async def joint_task(session: AsyncSession, task_id: uuid.UUID) -> JointTask | None:
    """The joint facts of a task, as the current department sees them: the lead, and its own participation (if any).
    None when the task is not part of a joint plan (or is invisible)."""
    found = (
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
    return row(found, JointTask)


async def own_object(session: AsyncSession, uscc: str) -> OwnObject | None:
    found = (
        await session.execute(
            text(
                "SELECT id AS object_id, name, address, uscc FROM registry_objects WHERE uscc = :u"
                " ORDER BY active DESC LIMIT 1"
            ),
            {"u": uscc},
        )
    ).first()
    return row(found, OwnObject)


async def part_result(
    session: AsyncSession, task_id: uuid.UUID, uscc: str, *, submitted_only: bool, lock: bool = False
) -> PartResult | None:
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
    return row((await session.execute(text(sql), {"t": task_id, "u": uscc})).first(), PartResult)


async def part_points(session: AsyncSession, result_id: uuid.UUID) -> list[PointOut]:
    found = await session.execute(
        text(
            "SELECT i.name AS item_name, cp.seq, cp.content, rp.outcome, rp.note FROM result_points rp"
            " JOIN check_points cp ON cp.id = rp.check_point_id JOIN inspection_items i ON i.id = cp.item_id"
            " WHERE rp.result_id = :r ORDER BY i.code, cp.seq"
        ),
        {"r": result_id},
    )
    return rows(found, PointOut)


async def item_names(session: AsyncSession, item_ids: list[uuid.UUID]) -> list[str]:
    found = await session.execute(
        text("SELECT name FROM inspection_items WHERE id = ANY(:ids) ORDER BY code"), {"ids": list(item_ids)}
    )
    return [r[0] for r in found]


async def public_joint_record(
    session: AsyncSession, task_id: uuid.UUID, uscc: str
) -> PublicJointRecord | None:
    found = (
        await session.execute(
            text(
                "SELECT id, department_name, items, check_date, categories, hazard_count, follow_up, departments,"
                " published_at FROM public_results WHERE task_id = :t AND uscc = :u"
                " AND jsonb_array_length(departments) > 0"
            ),
            {"t": task_id, "u": uscc},
        )
    ).first()
    return row(found, PublicJointRecord)


# ---- referrals ----------------------------------------------------------------------------------------------------

REFERRAL_COLUMNS = (
    "id, tenant_id, from_tenant_id, from_department_name, to_department_name, result_id, followup_id, task_id,"
    " uscc, enterprise_name, action, evidence, attachments, status, history, created_by, created_at, updated_at"
)


async def referral_exists(session: AsyncSession, followup_id: uuid.UUID) -> bool:
    found = (
        await session.execute(
            text("SELECT id FROM referrals WHERE followup_id = :f AND tenant_id = app_tenant()"),
            {"f": followup_id},
        )
    ).first()
    return found is not None


async def insert_referral(session: AsyncSession, referral: NewReferral) -> None:
    await session.execute(
        text(
            "INSERT INTO referrals (id, tenant_id, from_tenant_id, from_department_name, to_department_name,"
            " result_id, followup_id, task_id, uscc, enterprise_name, action, evidence, attachments, created_by)"
            " VALUES (:id, :tenant_id, :from_tenant_id, :from_department_name, :to_department_name, :result_id,"
            " :followup_id, :task_id, :uscc, :enterprise_name, :action, :evidence, CAST(:attachments AS jsonb),"
            " :created_by)"
        ),
        msgspec.structs.asdict(referral),
    )


async def get_referral(
    session: AsyncSession, referral_id: uuid.UUID, *, lock: bool = False
) -> ReferralRow | None:
    sql = f"SELECT {REFERRAL_COLUMNS} FROM referrals WHERE id = :id" + (" FOR UPDATE" if lock else "")
    return row((await session.execute(text(sql), {"id": referral_id})).first(), ReferralRow)


async def list_referrals(session: AsyncSession) -> list[ReferralRow]:
    found = await session.execute(
        text(f"SELECT {REFERRAL_COLUMNS} FROM referrals ORDER BY created_at DESC LIMIT 500")
    )
    return rows(found, ReferralRow)


async def update_referral(
    session: AsyncSession, referral_id: uuid.UUID, status: ReferralStatus, entry: str
) -> None:
    await session.execute(
        text(
            "UPDATE referrals SET status = :s, history = history || CAST(:e AS jsonb), updated_at = now()"
            " WHERE id = :id"
        ),
        {"s": status, "e": entry, "id": referral_id},
    )


async def joint_assignments_for_user(session: AsyncSession, user_id: uuid.UUID) -> list[JointAssignmentOut]:
    """The enterprises of joint teams on which the user is one of the current department's members."""
    found = await session.execute(
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
    return rows(found, JointAssignmentOut)


# ---- invitation reminders ---------------------------------------------------------------------------------------


async def pending_invitations(
    session: AsyncSession, tenant_id: uuid.UUID, soon: dt.date
) -> list[PendingInvitation]:
    """Invitations this department still has to answer (its own participation rows) due by ``soon`` or late."""
    found = await session.execute(
        text(
            "SELECT jp.id, jp.plan_id, jp.respond_by, p.number FROM joint_participants jp JOIN plans p ON p.id = jp.plan_id"
            " WHERE jp.tenant_id = :t AND jp.status = '邀请中' AND jp.respond_by <= :soon"
        ),
        {"t": tenant_id, "soon": soon},
    )
    return rows(found, PendingInvitation)


async def overdue_partners(
    session: AsyncSession, tenant_id: uuid.UUID, today: dt.date
) -> list[OverdueInvitation]:
    """Partners of this department's joint plans that let the deadline pass."""
    found = await session.execute(
        text(
            "SELECT jp.id, jp.plan_id, d.name FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
            " WHERE jp.lead_tenant_id = :t AND jp.status = '邀请中' AND jp.respond_by < :today"
        ),
        {"t": tenant_id, "today": today},
    )
    return rows(found, OverdueInvitation)
