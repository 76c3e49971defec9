"""SQL for matching: eligible inspectors, conflicts, previous inspectors, teams and adjustments."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.draw.matching import MatchingProof, Slot
from services.planning.rows import (
    AdjustmentRow,
    InspectorRow,
    MatchingRow,
    NewAdjustment,
    TeamMemberRow,
    row,
    rows,
)
from services.planning.schemas import Assignment, PublicAdjustment


async def active_inspectors(session: AsyncSession) -> list[InspectorRow]:
    found = await session.execute(
        text(
            "SELECT i.id, i.name, i.licence_no, i.licence_expiry, i.specialties, i.user_id, s.code AS section,"
            " s.name AS section_name FROM inspectors i LEFT JOIN sections s ON s.id = i.section_id"
            " WHERE i.active ORDER BY i.licence_no"
        )
    )
    return rows(found, InspectorRow)


async def conflicts(session: AsyncSession, usccs: list[str]) -> dict[str, set[str]]:
    found = await session.execute(
        text("SELECT uscc, inspector_id FROM inspector_conflicts WHERE uscc = ANY(:u)"), {"u": usccs}
    )
    result: dict[str, set[str]] = {}
    for uscc, inspector_id in found:
        result.setdefault(uscc, set()).add(str(inspector_id))
    return result


async def previous_inspectors(
    session: AsyncSession, usccs: list[str], task_id: uuid.UUID
) -> dict[str, set[str]]:
    """The department's members of the most recent earlier team that checked each enterprise, internal or joint
    (回避: not the same people again). Joint teams count with the department's own members only."""
    found = await session.execute(
        text(
            "WITH mine AS (SELECT uscc, task_id, inspector_id, created_at FROM task_team_members"
            "  WHERE uscc = ANY(:u) AND task_id <> :t"
            " UNION ALL SELECT uscc, task_id, inspector_id, created_at FROM joint_team_members"
            "  WHERE uscc = ANY(:u) AND task_id <> :t AND tenant_id = (SELECT app_tenant())),"
            " last AS (SELECT DISTINCT ON (uscc) uscc, task_id FROM mine ORDER BY uscc, created_at DESC)"
            " SELECT m.uscc, m.inspector_id FROM mine m JOIN last USING (uscc, task_id)"
        ),
        {"u": usccs, "t": task_id},
    )
    result: dict[str, set[str]] = {}
    for uscc, inspector_id in found:
        result.setdefault(uscc, set()).add(str(inspector_id))
    return result


async def save_matching(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    task_id: uuid.UUID,
    draw_id: uuid.UUID,
    load_slack: int,
    check_end: dt.date,
    caps: dict[str, int],
    labels: list[str],
    actor: str,
    members: list[tuple[str, uuid.UUID, int, uuid.UUID]],
) -> None:
    await session.execute(
        text(
            "INSERT INTO task_matchings (task_id, tenant_id, draw_id, load_slack, check_end, caps, slot_labels,"
            " matched_by) VALUES (:task, :t, :draw, :slack, :end, CAST(:caps AS jsonb), :labels, :by)"
        ),
        {
            "task": task_id,
            "t": tenant_id,
            "draw": draw_id,
            "slack": load_slack,
            "end": check_end,
            "caps": msgspec.json.encode(caps).decode(),
            "labels": labels,
            "by": actor,
        },
    )
    await session.execute(
        text(
            "INSERT INTO task_team_members (tenant_id, task_id, uscc, object_id, slot, inspector_id)"
            " SELECT :t, :task, u, o, s, i FROM unnest(CAST(:u AS text[]), CAST(:o AS uuid[]), CAST(:s AS int[]),"
            " CAST(:i AS uuid[])) AS x(u, o, s, i)"
        ),
        {
            "t": tenant_id,
            "task": task_id,
            "u": [m[0] for m in members],
            "o": [m[1] for m in members],
            "s": [m[2] for m in members],
            "i": [m[3] for m in members],
        },
    )


async def get_matching(session: AsyncSession, task_id: uuid.UUID) -> MatchingRow | None:
    found = (
        await session.execute(
            text(
                "SELECT task_id, draw_id, load_slack, check_end, caps, slot_labels, matched_at, matched_by"
                " FROM task_matchings WHERE task_id = :t"
            ),
            {"t": task_id},
        )
    ).first()
    return row(found, MatchingRow)


async def team_rows(session: AsyncSession, task_id: uuid.UUID) -> list[TeamMemberRow]:
    found = await session.execute(
        text(
            "SELECT m.uscc, m.object_id, m.slot, m.adjusted, m.inspector_id, i.name AS inspector_name, i.licence_no,"
            " s.name AS section_name, o.name AS object_name, o.address, sel.stratum, sel.rank"
            " FROM task_team_members m JOIN inspectors i ON i.id = m.inspector_id"
            " LEFT JOIN sections s ON s.id = i.section_id JOIN registry_objects o ON o.id = m.object_id"
            " JOIN task_matchings tm ON tm.task_id = m.task_id"
            " JOIN draw_selected sel ON sel.draw_id = tm.draw_id AND sel.uscc = m.uscc"
            " WHERE m.task_id = :t ORDER BY sel.stratum, sel.rank, m.slot"
        ),
        {"t": task_id},
    )
    return rows(found, TeamMemberRow)


async def adjustments(session: AsyncSession, task_id: uuid.UUID) -> list[AdjustmentRow]:
    """Adjustments of a task's teams as the department may see them: its own, and a joint task's lead also its
    partners' (``lead_read``). Names are kept on the row (a partner's inspectors are not the lead's to read)."""
    found = await session.execute(
        text(
            "SELECT a.uscc, a.slot, a.reason, a.adjusted_by, a.adjusted_at, coalesce(a.old_name, oi.name) AS old_name,"
            " coalesce(a.new_name, ni.name, '') AS new_name, a.department_name"
            " FROM team_adjustments a LEFT JOIN inspectors oi ON oi.id = a.old_inspector_id"
            " LEFT JOIN inspectors ni ON ni.id = a.new_inspector_id WHERE a.task_id = :t ORDER BY a.adjusted_at"
        ),
        {"t": task_id},
    )
    return rows(found, AdjustmentRow)


async def member(session: AsyncSession, task_id: uuid.UUID, uscc: str, slot: int) -> uuid.UUID | None:
    """The inspector in one slot of one enterprise's team, locked for the adjustment; None if no such slot."""
    found = (
        await session.execute(
            text(
                "SELECT inspector_id FROM task_team_members WHERE task_id = :t AND uscc = :u AND slot = :s FOR UPDATE"
            ),
            {"t": task_id, "u": uscc, "s": slot},
        )
    ).first()
    return None if found is None else uuid.UUID(str(found.inspector_id))


async def team_of(session: AsyncSession, task_id: uuid.UUID, uscc: str) -> set[uuid.UUID]:
    found = await session.execute(
        text("SELECT inspector_id FROM task_team_members WHERE task_id = :t AND uscc = :u"),
        {"t": task_id, "u": uscc},
    )
    return {r[0] for r in found}


async def replace_member(
    session: AsyncSession, task_id: uuid.UUID, uscc: str, slot: int, new: uuid.UUID
) -> None:
    await session.execute(
        text(
            "UPDATE task_team_members SET inspector_id = :new, adjusted = true"
            " WHERE task_id = :t AND uscc = :u AND slot = :s"
        ),
        {"new": new, "t": task_id, "u": uscc, "s": slot},
    )


async def insert_adjustment(session: AsyncSession, adjustment: NewAdjustment) -> None:
    """The recorded adjustment of one slot, internal or joint, in the adjusting department's rows."""
    await session.execute(
        text(
            "INSERT INTO team_adjustments (id, tenant_id, task_id, uscc, slot, old_inspector_id, new_inspector_id,"
            " reason, adjusted_by, department_name, old_name, new_name) VALUES (:id, :tenant_id, :task_id, :uscc,"
            " :slot, :old_inspector_id, :new_inspector_id, :reason, :adjusted_by, :department_name, :old_name,"
            " :new_name)"
        ),
        msgspec.structs.asdict(adjustment),
    )


async def published_team_slot(session: AsyncSession, draw_id: uuid.UUID, uscc: str, slot: int) -> bool:
    """Whether the published matching has this slot on this enterprise's team (public facts only)."""
    found = (
        await session.execute(
            text(
                "SELECT matching -> 'teams' -> CAST(:u AS text) -> CAST(:s AS int) IS NOT NULL FROM public_draws"
                " WHERE draw_id = :d"
            ),
            {"u": uscc, "s": slot, "d": draw_id},
        )
    ).scalar_one_or_none()
    return bool(found)


async def matching_slot(session: AsyncSession, draw_id: uuid.UUID, slot: int) -> Slot | None:
    """One slot of the published matching (its label and requirements), None if there is no such slot."""
    found = (
        await session.execute(
            text(
                "SELECT CAST(matching -> 'slots' -> CAST(:s AS int) AS text) FROM public_draws WHERE draw_id = :d"
            ),
            {"s": slot, "d": draw_id},
        )
    ).scalar_one_or_none()
    if found is None:
        return None
    return msgspec.json.decode(found, type=Slot)


async def publish_matching(session: AsyncSession, draw_id: uuid.UUID, matching: MatchingProof) -> None:
    await session.execute(
        text("UPDATE public_draws SET matching = CAST(:m AS jsonb) WHERE draw_id = :d"),
        {"m": msgspec.json.encode(matching).decode(), "d": draw_id},
    )


async def publish_adjustment(session: AsyncSession, draw_id: uuid.UUID, entry: PublicAdjustment) -> None:
    await session.execute(
        text("UPDATE public_draws SET adjustments = adjustments || CAST(:e AS jsonb) WHERE draw_id = :d"),
        {"e": msgspec.json.encode([entry]).decode(), "d": draw_id},
    )


async def assignments_for_user(session: AsyncSession, user_id: uuid.UUID) -> list[Assignment]:
    found = await session.execute(
        text(
            "SELECT t.id AS task_id, t.name AS task_name, t.number AS task_number, p.number AS plan_number,"
            " t.start_month, t.end_month, t.status, m.uscc, o.name AS object_name, o.address, m.slot"
            " FROM task_team_members m JOIN inspectors i ON i.id = m.inspector_id"
            " JOIN tasks t ON t.id = m.task_id JOIN plans p ON p.id = t.plan_id"
            " JOIN registry_objects o ON o.id = m.object_id WHERE i.user_id = :u"
            " ORDER BY t.start_month DESC, t.number, o.name"
        ),
        {"u": user_id},
    )
    return rows(found, Assignment)
