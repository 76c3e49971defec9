"""SQL of results, hazards, follow-ups and attachments (tenant tables: RLS scopes every statement)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.inspection.schemas import (
    Answer,
    AttachmentFile,
    AttachmentMeta,
    AttachmentRow,
    CheckPointRow,
    DueResult,
    FollowUpIn,
    FollowUpRow,
    FollowUpState,
    FollowUpStatus,
    HazardIn,
    HazardRow,
    HazardState,
    HazardStatus,
    MemberRow,
    NewAttachment,
    NewResult,
    ObjectRow,
    PointIn,
    ResultRow,
    ResultStatus,
    TaskRow,
)

T = TypeVar("T", bound=msgspec.Struct)

RESULT_COLUMNS = (
    "r.id, r.task_id, r.uscc, r.object_id, r.status, r.check_date, r.check_end, r.due_on, r.due_uncertain,"
    " r.categories, r.summary, r.entered_by, r.entered_by_name, r.submitted_at, r.reviewed_by, r.reviewed_by_name,"
    " r.reviewed_at, r.return_reason, r.published_at, r.created_at, r.updated_at, o.name AS object_name, o.address,"
    " t.name AS task_name, t.number AS task_number, p.number AS plan_number, p.name AS plan_name, p.back_entry"
)
RESULT_FROM = (
    " FROM inspection_results r JOIN registry_objects o ON o.id = r.object_id JOIN tasks t ON t.id = r.task_id"
    " JOIN plans p ON p.id = t.plan_id"
)


def _rows(result: Any, struct: type[T]) -> list[T]:
    """Rows converted once, here, into the struct of their columns."""
    return [msgspec.convert(dict(r._mapping), struct) for r in result]


def _row(row: Any, struct: type[T]) -> T | None:
    return msgspec.convert(dict(row._mapping), struct) if row is not None else None


async def _first(session: AsyncSession, sql: Any, params: dict[str, object], struct: type[T]) -> T | None:
    return _row((await session.execute(sql, params)).first(), struct)


async def task_info(session: AsyncSession, task_id: uuid.UUID, *, lock: bool = False) -> TaskRow | None:
    return await _first(
        session,
        text(
            "SELECT t.id, t.name, t.number, t.status, t.item_ids, t.end_month, p.number AS plan_number,"
            " p.name AS plan_name, (SELECT d.id FROM draws d WHERE d.task_id = t.id AND d.status <> '已作废'"
            " ORDER BY d.announced_at DESC LIMIT 1) AS draw_id, p.back_entry, t.check_point_ids"
            " FROM tasks t JOIN plans p ON p.id = t.plan_id WHERE t.id = :id"
        ),
        {"id": task_id},
        TaskRow,
    )


async def team_object(session: AsyncSession, task_id: uuid.UUID, uscc: str) -> ObjectRow | None:
    return await _first(
        session,
        text(
            "SELECT m.object_id, o.name, o.address, o.uscc FROM task_team_members m"
            " JOIN registry_objects o ON o.id = m.object_id WHERE m.task_id = :t AND m.uscc = :u LIMIT 1"
        ),
        {"t": task_id, "u": uscc},
        ObjectRow,
    )


async def team_members(session: AsyncSession, task_id: uuid.UUID, uscc: str) -> list[MemberRow]:
    return _rows(
        await session.execute(
            text(
                "SELECT i.id, i.name, i.user_id, i.licence_no FROM task_team_members m"
                " JOIN inspectors i ON i.id = m.inspector_id WHERE m.task_id = :t AND m.uscc = :u ORDER BY m.slot"
            ),
            {"t": task_id, "u": uscc},
        ),
        MemberRow,
    )


async def check_points(
    session: AsyncSession, item_ids: list[uuid.UUID], only: list[uuid.UUID] | None = None
) -> list[CheckPointRow]:
    """The check points of the items, or only the task's chosen ones (``only``)."""
    return _rows(
        await session.execute(
            text(
                "SELECT cp.id, cp.seq, cp.content, cp.method, i.code AS item_code, i.name AS item_name"
                " FROM check_points cp JOIN inspection_items i ON i.id = cp.item_id"
                " WHERE cp.item_id = ANY(:ids) AND (CAST(:only AS uuid[]) IS NULL OR cp.id = ANY(:only))"
                " ORDER BY i.code, cp.seq"
            ),
            {"ids": item_ids, "only": only},
        ),
        CheckPointRow,
    )


async def get_result(session: AsyncSession, result_id: uuid.UUID, *, lock: bool = False) -> ResultRow | None:
    sql = f"SELECT {RESULT_COLUMNS}{RESULT_FROM} WHERE r.id = :id" + (" FOR UPDATE OF r" if lock else "")
    row = (await session.execute(text(sql), {"id": result_id})).first()
    return _row(row, ResultRow)


async def result_for(
    session: AsyncSession, task_id: uuid.UUID, uscc: str, *, lock: bool = False
) -> ResultRow | None:
    sql = f"SELECT {RESULT_COLUMNS}{RESULT_FROM} WHERE r.task_id = :t AND r.uscc = :u" + (
        " FOR UPDATE OF r" if lock else ""
    )
    row = (await session.execute(text(sql), {"t": task_id, "u": uscc})).first()
    return _row(row, ResultRow)


async def list_results(
    session: AsyncSession, *, task_id: uuid.UUID | None = None, status: str | None = None, limit: int = 500
) -> list[ResultRow]:
    sql = f"SELECT {RESULT_COLUMNS}{RESULT_FROM} WHERE true"
    params: dict[str, object] = {"limit": limit}
    if task_id is not None:
        sql += " AND r.task_id = :t"
        params["t"] = task_id
    if status is not None:
        sql += " AND r.status = :s"
        params["s"] = status
    return _rows(
        await session.execute(text(sql + " ORDER BY r.due_on, o.name LIMIT :limit"), params), ResultRow
    )


async def insert_result(session: AsyncSession, values: NewResult) -> None:
    await session.execute(
        text(
            "INSERT INTO inspection_results (id, tenant_id, task_id, uscc, object_id, check_end, due_on,"
            " due_uncertain, entered_by, entered_by_name) VALUES (:id, :tenant_id, :task_id, :uscc, :object_id,"
            " :check_end, :due_on, :due_uncertain, :entered_by, :entered_by_name)"
        ),
        msgspec.structs.asdict(values),
    )


async def update_draft(
    session: AsyncSession,
    result_id: uuid.UUID,
    values: NewResult,
    check_date: dt.date | None,
    categories: list[str],
    summary: str,
) -> None:
    """The draft's answers, and the deadline and enterer of ``values`` (its other fields are the row's own)."""
    await session.execute(
        text(
            "UPDATE inspection_results SET check_date = :check_date, check_end = :check_end, due_on = :due_on,"
            " due_uncertain = :due_uncertain, categories = :categories, summary = :summary,"
            " entered_by = :entered_by, entered_by_name = :entered_by_name, updated_at = now() WHERE id = :id"
        ),
        {
            "id": result_id,
            "check_date": check_date,
            "check_end": values.check_end,
            "due_on": values.due_on,
            "due_uncertain": values.due_uncertain,
            "categories": categories,
            "summary": summary,
            "entered_by": values.entered_by,
            "entered_by_name": values.entered_by_name,
        },
    )


async def set_status(
    session: AsyncSession, result_id: uuid.UUID, status: ResultStatus, **extra: str | dt.datetime | None
) -> None:
    sets = ", ".join(f"{k} = :{k}" for k in extra)
    await session.execute(
        text(
            f"UPDATE inspection_results SET status = :status, updated_at = now(){', ' + sets if sets else ''}"
            " WHERE id = :id"
        ),
        {"status": str(status), "id": result_id, **extra},
    )


async def points(session: AsyncSession, result_id: uuid.UUID) -> dict[uuid.UUID, Answer]:
    rows = await session.execute(
        text("SELECT check_point_id, outcome, note FROM result_points WHERE result_id = :r"), {"r": result_id}
    )
    return {r.check_point_id: Answer(outcome=r.outcome, note=r.note) for r in rows}


async def replace_points(
    session: AsyncSession, tenant_id: uuid.UUID, result_id: uuid.UUID, entries: list[PointIn]
) -> None:
    await session.execute(text("DELETE FROM result_points WHERE result_id = :r"), {"r": result_id})
    if entries:
        await session.execute(
            text(
                "INSERT INTO result_points (tenant_id, result_id, check_point_id, outcome, note)"
                " VALUES (:t, :r, :cp, :outcome, :note)"
            ),
            [
                {"t": tenant_id, "r": result_id, "cp": e.check_point_id, "outcome": e.outcome, "note": e.note}
                for e in entries
            ],
        )


async def hazards(session: AsyncSession, result_id: uuid.UUID) -> list[HazardRow]:
    return _rows(
        await session.execute(
            text(
                "SELECT id, description, severity, rectify_by, status, rechecked_on, recheck_note, rechecked_by"
                " FROM result_hazards WHERE result_id = :r ORDER BY severity DESC, description"
            ),
            {"r": result_id},
        ),
        HazardRow,
    )


async def replace_hazards(
    session: AsyncSession, tenant_id: uuid.UUID, result_id: uuid.UUID, entries: list[HazardIn]
) -> None:
    """``entries`` carry their ids (new ones given by the caller)."""
    keep = [e.id for e in entries]
    await session.execute(
        text("DELETE FROM result_hazards WHERE result_id = :r AND NOT (id = ANY(:keep))"),
        {"r": result_id, "keep": keep},
    )
    if entries:  # one executemany, not a statement per hazard
        await session.execute(
            text(
                "INSERT INTO result_hazards (id, tenant_id, result_id, description, severity, rectify_by)"
                " VALUES (:id, :t, :r, :description, :severity, :rectify_by) ON CONFLICT (id) DO UPDATE SET"
                " description = EXCLUDED.description, severity = EXCLUDED.severity,"
                " rectify_by = EXCLUDED.rectify_by WHERE result_hazards.result_id = :r"
            ),
            [{"t": tenant_id, "r": result_id, **msgspec.structs.asdict(e)} for e in entries],
        )


async def get_hazard(session: AsyncSession, result_id: uuid.UUID, hazard_id: uuid.UUID) -> HazardState | None:
    return await _first(
        session,
        text("SELECT id, status, rectify_by FROM result_hazards WHERE id = :h AND result_id = :r FOR UPDATE"),
        {"h": hazard_id, "r": result_id},
        HazardState,
    )


async def recheck_hazard(
    session: AsyncSession, hazard_id: uuid.UUID, status: HazardStatus, on: dt.date, note: str, actor: str
) -> None:
    await session.execute(
        text(
            "UPDATE result_hazards SET status = :s, rechecked_on = :on, recheck_note = :note, rechecked_by = :a"
            " WHERE id = :h"
        ),
        {"s": str(status), "on": on, "note": note, "a": actor, "h": hazard_id},
    )


async def followups(session: AsyncSession, result_id: uuid.UUID) -> list[FollowUpRow]:
    return _rows(
        await session.execute(
            text(
                "SELECT id, action, target, note, status, closed_at, closed_by FROM result_followups"
                " WHERE result_id = :r ORDER BY action"
            ),
            {"r": result_id},
        ),
        FollowUpRow,
    )


async def replace_followups(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    result_id: uuid.UUID,
    entries: list[tuple[FollowUpIn, FollowUpStatus]],
) -> None:
    """``entries`` carry their ids (new ones given by the caller) and the status each starts in."""
    keep = [e.id for e, _ in entries]
    await session.execute(
        text("DELETE FROM result_followups WHERE result_id = :r AND NOT (id = ANY(:keep))"),
        {"r": result_id, "keep": keep},
    )
    if entries:  # one executemany, not a statement per follow-up
        await session.execute(
            text(
                "INSERT INTO result_followups (id, tenant_id, result_id, action, target, note, status)"
                " VALUES (:id, :t, :r, :action, :target, :note, :status) ON CONFLICT (id) DO UPDATE SET"
                " action = EXCLUDED.action, target = EXCLUDED.target, note = EXCLUDED.note,"
                " status = EXCLUDED.status WHERE result_followups.result_id = :r"
            ),
            [
                {"t": tenant_id, "r": result_id, **msgspec.structs.asdict(e), "status": str(status)}
                for e, status in entries
            ],
        )


async def get_followup(
    session: AsyncSession, result_id: uuid.UUID, followup_id: uuid.UUID
) -> FollowUpState | None:
    return await _first(
        session,
        text("SELECT id, action, status FROM result_followups WHERE id = :f AND result_id = :r FOR UPDATE"),
        {"f": followup_id, "r": result_id},
        FollowUpState,
    )


async def close_followup(session: AsyncSession, followup_id: uuid.UUID, note: str, actor: str) -> None:
    await session.execute(
        text(
            "UPDATE result_followups SET status = '已办结', closed_at = now(), closed_by = :a,"
            " note = CASE WHEN :note = '' THEN note ELSE :note END WHERE id = :f"
        ),
        {"a": actor, "note": note, "f": followup_id},
    )


async def insert_attachment(session: AsyncSession, values: NewAttachment) -> None:
    await session.execute(
        text(
            "INSERT INTO result_attachments (id, tenant_id, result_id, followup_id, check_point_id, hazard_id,"
            " filename, content_type, size, sha256, data, uploaded_by) VALUES (:id, :tenant_id, :result_id,"
            " :followup_id, :check_point_id, :hazard_id, :filename, :content_type, :size, :sha256, :data,"
            " :uploaded_by)"
        ),
        msgspec.structs.asdict(values),
    )


async def attachments(session: AsyncSession, result_id: uuid.UUID) -> list[AttachmentRow]:
    return _rows(
        await session.execute(
            text(
                "SELECT id, followup_id, filename, content_type, size, sha256, uploaded_by, uploaded_at,"
                " check_point_id, hazard_id FROM result_attachments WHERE result_id = :r ORDER BY uploaded_at"
            ),
            {"r": result_id},
        ),
        AttachmentRow,
    )


async def attachment_meta(
    session: AsyncSession, result_id: uuid.UUID, attachment_id: uuid.UUID
) -> AttachmentMeta | None:
    return await _first(
        session,
        text(
            "SELECT a.id, a.followup_id, a.filename, a.content_type, a.size, a.sha256, f.status AS followup_status"
            " FROM result_attachments a LEFT JOIN result_followups f ON f.id = a.followup_id"
            " WHERE a.id = :a AND a.result_id = :r"
        ),  # the caller holds the result's row lock
        {"a": attachment_id, "r": result_id},
        AttachmentMeta,
    )


async def delete_attachment(session: AsyncSession, attachment_id: uuid.UUID) -> None:
    await session.execute(text("DELETE FROM result_attachments WHERE id = :a"), {"a": attachment_id})


async def attachment_data(session: AsyncSession, attachment_id: uuid.UUID) -> AttachmentFile | None:
    return await _first(
        session,
        text("SELECT id, result_id, filename, content_type, data FROM result_attachments WHERE id = :id"),
        {"id": attachment_id},
        AttachmentFile,
    )


async def unpublished_due_by(session: AsyncSession, horizon: dt.date) -> list[DueResult]:
    """Results not yet published whose deadline falls on or before ``horizon`` (reminders)."""
    rows = await session.execute(
        text(
            "SELECT r.id, r.due_on, r.status, r.entered_by, o.name, coalesce(p.back_entry, false) AS back_entry"
            " FROM inspection_results r JOIN registry_objects o ON o.id = r.object_id"
            " LEFT JOIN tasks t ON t.id = r.task_id LEFT JOIN plans p ON p.id = t.plan_id WHERE r.status <> '已公示'"
            " AND r.due_on <= :horizon ORDER BY r.due_on"
        ),
        {"horizon": horizon},
    )
    return _rows(rows, DueResult)


async def set_part_published(session: AsyncSession, result_id: uuid.UUID, at: dt.datetime) -> None:
    await session.execute(
        text(
            "UPDATE inspection_results SET status = '已公示', published_at = :at, updated_at = now()"
            " WHERE id = :id AND status = '已通过'"
        ),
        {"at": at, "id": result_id},
    )


async def count_published(session: AsyncSession, task_id: uuid.UUID) -> int:
    found = await session.execute(
        text("SELECT count(*) FROM inspection_results WHERE task_id = :t AND status = '已公示'"),
        {"t": task_id},
    )
    return int(found.scalar_one())
