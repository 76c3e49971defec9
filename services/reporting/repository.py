"""SQL of reports and oversight. Every query runs under the request's tenant scope (RLS): a department sees its own
rows, the county overseer every department of its region (read only)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, TypeVar, cast

import msgspec
from sqlalchemy import CursorResult, bindparam, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.dashboard_schemas import ReportOfYear
from services.reporting.schemas import (
    DepartmentReportRow,
    ImplementedTask,
    JointPlanRow,
    MonthlyData,
    MonthlyFields,
    MonthlyReportRow,
    MonthlyReportStatus,
    OwnPlanRow,
    PlanTableRow,
    TaskHeader,
    TaskReportRow,
    TaskResultRow,
    TaskSnapshot,
)

CHECK_DAY = "coalesce(r.check_date, r.check_end)"
T = TypeVar("T", bound=msgspec.Struct)


def rows_as(result: Any, struct: type[T]) -> list[T]:
    """Rows converted once, here, into the struct of their columns."""
    return [msgspec.convert(dict(r._mapping), struct) for r in result]


def row_as(row: Any, struct: type[T]) -> T | None:
    return msgspec.convert(dict(row._mapping), struct) if row is not None else None


# ---- monthly reports -----------------------------------------------------------------------------------------

REPORT_COLUMNS = (
    "id, year, month, status, meetings, documents, trainings, contact_person, contact_phone, mobile,"
    " snapshot, submitted_at, submitted_by_name, updated_at"
)


async def monthly_report(session: AsyncSession, year: int, month: int) -> MonthlyReportRow | None:
    row = (
        await session.execute(
            text(
                f"SELECT {REPORT_COLUMNS} FROM monthly_reports WHERE year = :y AND month = :m"
                " AND tenant_id = app_tenant()"
            ),
            {"y": year, "m": month},
        )
    ).first()
    return row_as(row, MonthlyReportRow)


async def monthly_report_by_id(session: AsyncSession, report_id: uuid.UUID) -> MonthlyReportRow | None:
    row = (
        await session.execute(
            text(f"SELECT {REPORT_COLUMNS} FROM monthly_reports WHERE id = :id"), {"id": report_id}
        )
    ).first()
    return row_as(row, MonthlyReportRow)


async def monthly_report_with_department(
    session: AsyncSession, report_id: uuid.UUID
) -> DepartmentReportRow | None:
    """Any report the scope may read (its own department's, or every department's of the overseer's county)."""
    row = (
        await session.execute(
            text(
                f"SELECT {', '.join('m.' + c.strip() for c in REPORT_COLUMNS.split(','))}, d.name AS department,"
                " d.code AS department_code FROM monthly_reports m JOIN departments d ON d.id = m.tenant_id"
                " WHERE m.id = :id"
            ),
            {"id": report_id},
        )
    ).first()
    return row_as(row, DepartmentReportRow)


async def monthly_reports_of_year(session: AsyncSession, year: int) -> list[ReportOfYear]:
    return rows_as(
        await session.execute(
            text(
                "SELECT id, tenant_id, month, status, submitted_at FROM monthly_reports WHERE year = :y ORDER BY month"
            ),
            {"y": year},
        ),
        ReportOfYear,
    )


async def upsert_monthly_report(
    session: AsyncSession, tenant_id: uuid.UUID, year: int, month: int, fields: MonthlyFields, actor: str
) -> uuid.UUID | None:
    """The report's id, or None when it is already submitted (the upsert then changes nothing)."""
    row = (
        await session.execute(
            text(
                "INSERT INTO monthly_reports (id, tenant_id, year, month, meetings, documents, trainings, contact_person,"
                " contact_phone, mobile, updated_by) VALUES (:id, :t, :y, :m, :meetings, :documents, :trainings,"
                " :contact_person, :contact_phone, :mobile, :actor)"
                " ON CONFLICT (tenant_id, year, month) DO UPDATE SET meetings = EXCLUDED.meetings,"
                " documents = EXCLUDED.documents, trainings = EXCLUDED.trainings, contact_person = EXCLUDED.contact_person,"
                " contact_phone = EXCLUDED.contact_phone, mobile = EXCLUDED.mobile, updated_by = EXCLUDED.updated_by,"
                " updated_at = now() WHERE monthly_reports.status = '草稿' RETURNING id"
            ),
            {
                "id": uuid.uuid4(),
                "t": tenant_id,
                "y": year,
                "m": month,
                "actor": actor,
                **msgspec.structs.asdict(fields),
            },
        )
    ).first()
    report_id: uuid.UUID | None = row[0] if row else None
    return report_id


async def submit_monthly_report(
    session: AsyncSession, report_id: uuid.UUID, snapshot: MonthlyData, actor_id: str, actor_name: str
) -> bool:
    result = await session.execute(
        text(
            "UPDATE monthly_reports SET status = '已提交', snapshot = :snapshot, submitted_at = now(),"
            " submitted_by = :by, submitted_by_name = :name, updated_at = now()"
            " WHERE id = :id AND status = '草稿'"
        ).bindparams(bindparam("snapshot", type_=JSONB)),
        {"id": report_id, "snapshot": msgspec.to_builtins(snapshot), "by": actor_id, "name": actor_name},
    )
    return cast("CursorResult[Any]", result).rowcount == 1  # DML: execute() returns a CursorResult


# The department's own checks of the month, per task (its own results; a partner's part of a joint check is the
# partner's own row, keyed by the lead's task): each check counted once, in the month it was carried out.
MONTH_CHECKS = (
    "(SELECT s.task_id, sum(s.n)::int AS subjects,"
    " coalesce(sum(s.n) FILTER (WHERE s.status = '已公示'), 0)::int AS published"
    " FROM report_result_stats s WHERE s.tenant_id = app_tenant() AND s.check_month = :start"
    " GROUP BY s.task_id HAVING sum(s.n) > 0) c"
)


async def own_plan_rows(session: AsyncSession, start: dt.date) -> list[OwnPlanRow]:
    """Tasks of the department's own plans (本部门 / 内部联合) it checked enterprises of in the month (by the check
    date of each result): items, the enterprises checked that month and how many of them are published."""
    return rows_as(
        await session.execute(
            text(
                "SELECT p.number AS plan_number, p.name AS plan_name, t.id AS task_id, t.number AS task_number,"
                " t.name AS task_name, cardinality(t.item_ids) AS items,"
                " CASE WHEN cardinality(t.joint_section_ids) > 0 THEN t.joint_section_ids ELSE p.joint_section_ids END"
                "   AS section_ids,"
                " coalesce(t.initiating_section_id, p.initiating_section_id) AS initiating_id,"
                " c.subjects, c.published, p.back_entry"
                f" FROM {MONTH_CHECKS} JOIN tasks t ON t.id = c.task_id JOIN plans p ON p.id = t.plan_id"
                " WHERE p.tenant_id = app_tenant() AND p.kind <> '部门联合'"
                " ORDER BY p.number, t.seq"
            ),
            {"start": start},
        ),
        OwnPlanRow,
    )


async def joint_rows(session: AsyncSession, start: dt.date) -> list[JointPlanRow]:
    """Tasks of cross-department plans the department leads or joined that it checked enterprises of in the month:
    its own part only (the enterprises its inspectors checked that month, and how many of them are published), so
    that every department counts the joint check once, in the month it was carried out."""
    return rows_as(
        await session.execute(
            text(
                "SELECT p.number AS plan_number, p.name AS plan_name, t.id AS task_id, t.number AS task_number,"
                " t.name AS task_name, lead.short_name AS lead_name,"
                " (SELECT string_agg(d.short_name, '、' ORDER BY d.code) FROM joint_participants jp"
                "   JOIN departments d ON d.id = jp.tenant_id WHERE jp.plan_id = p.id AND jp.status = '已接受') AS partners,"
                " c.subjects, c.published, p.back_entry"
                f" FROM {MONTH_CHECKS} JOIN tasks t ON t.id = c.task_id JOIN plans p ON p.id = t.plan_id"
                " JOIN departments lead ON lead.id = p.tenant_id"
                " WHERE p.kind = '部门联合' ORDER BY p.number, t.seq"
            ),
            {"start": start},
        ),
        JointPlanRow,
    )


async def section_names(session: AsyncSession) -> dict[uuid.UUID, str]:
    return {r.id: r.name for r in await session.execute(text("SELECT id, name FROM sections"))}


# ---- post-implementation (task) reports ----------------------------------------------------------------------

# The department's own task, or the lead's task of a joint plan it accepted (it reports its own part).
OWN_OR_JOINED = (
    "(t.tenant_id = app_tenant() OR EXISTS (SELECT 1 FROM joint_participants jp WHERE jp.plan_id = t.plan_id"
    " AND jp.tenant_id = app_tenant() AND jp.status = '已接受'))"
)


async def task_header(session: AsyncSession, task_id: uuid.UUID) -> TaskHeader | None:
    row = (
        await session.execute(
            text(
                "SELECT t.id, t.number AS task_number, t.name AS task_name, t.status, t.start_month, t.end_month,"
                " p.number AS plan_number, p.name AS plan_name, p.kind, p.back_entry,"
                " CASE WHEN t.tenant_id <> app_tenant() THEN lead.name END AS lead_name,"
                " (SELECT max(coalesce(r.check_date, r.check_end)) FROM inspection_results r WHERE r.task_id = t.id"
                "   AND r.tenant_id = app_tenant()) AS last_check,"
                " (SELECT max(r.created_at) FROM inspection_results r WHERE r.task_id = t.id"
                "   AND r.tenant_id = app_tenant()) AS last_entered"
                " FROM tasks t JOIN plans p ON p.id = t.plan_id JOIN departments lead ON lead.id = t.tenant_id"
                f" WHERE t.id = :id AND {OWN_OR_JOINED}"
            ),
            {"id": task_id},
        )
    ).first()
    return row_as(row, TaskHeader)


async def task_results(session: AsyncSession, task_id: uuid.UUID) -> list[TaskResultRow]:
    return rows_as(
        await session.execute(
            text(
                "SELECT r.id, r.uscc, o.name, r.status, r.check_date, r.categories, r.summary,"
                " coalesce((SELECT json_agg(json_build_object('description', h.description, 'severity', h.severity,"
                "   'rectify_by', h.rectify_by, 'status', h.status) ORDER BY h.severity, h.description)"
                "   FROM result_hazards h WHERE h.result_id = r.id), '[]') AS hazards,"
                " coalesce((SELECT json_agg(json_build_object('action', f.action, 'target', f.target, 'status', f.status)"
                "   ORDER BY f.action) FROM result_followups f WHERE f.result_id = r.id), '[]') AS followups"
                " FROM inspection_results r JOIN registry_objects o ON o.id = r.object_id"
                " WHERE r.task_id = :id AND r.tenant_id = app_tenant() ORDER BY o.name"
            ),
            {"id": task_id},
        ),
        TaskResultRow,
    )


async def task_report(session: AsyncSession, task_id: uuid.UUID) -> TaskReportRow | None:
    row = (
        await session.execute(
            text(
                "SELECT id, task_id, status, recipient_section, due_on, snapshot, submitted_at, submitted_by_name"
                " FROM task_reports WHERE task_id = :id AND tenant_id = app_tenant()"
            ),
            {"id": task_id},
        )
    ).first()
    return row_as(row, TaskReportRow)


async def insert_task_report(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    task_id: uuid.UUID,
    due_on: dt.date,
    snapshot: TaskSnapshot,
    section: str,
    actor_id: str,
    actor_name: str,
) -> uuid.UUID | None:
    row = (
        await session.execute(
            text(
                "INSERT INTO task_reports (id, tenant_id, task_id, recipient_section, due_on, snapshot, submitted_by,"
                " submitted_by_name) VALUES (:id, :t, :task, :section, :due, :snapshot, :by, :name)"
                " ON CONFLICT (tenant_id, task_id) DO NOTHING RETURNING id"
            ).bindparams(bindparam("snapshot", type_=JSONB)),
            {
                "id": uuid.uuid4(),
                "t": tenant_id,
                "task": task_id,
                "section": section,
                "due": due_on,
                "snapshot": msgspec.to_builtins(snapshot),
                "by": actor_id,
                "name": actor_name,
            },
        )
    ).first()
    return row[0] if row else None


async def implemented_tasks(session: AsyncSession) -> list[ImplementedTask]:
    return rows_as(
        await session.execute(
            text(
                "SELECT t.id, p.number AS plan_number, t.number AS task_number, t.name AS task_name, t.status,"
                " mine.results, p.back_entry,"
                " (SELECT tr.submitted_at FROM task_reports tr WHERE tr.task_id = t.id"
                "   AND tr.tenant_id = app_tenant()) AS reported_at"
                " FROM (SELECT r.task_id, count(*) AS results FROM inspection_results r"
                "   WHERE r.tenant_id = app_tenant() GROUP BY r.task_id) mine"
                " JOIN tasks t ON t.id = mine.task_id JOIN plans p ON p.id = t.plan_id"
                " ORDER BY p.number DESC, t.seq"
            )
        ),
        ImplementedTask,
    )


async def section_id(session: AsyncSession, code: str) -> uuid.UUID | None:
    return (
        await session.execute(
            text("SELECT id FROM sections WHERE code = :c AND tenant_id = app_tenant()"), {"c": code}
        )
    ).scalar()


# ---- annual plan tables (附件2 / 附件3) ------------------------------------------------------------------------


async def plan_table_rows(
    session: AsyncSession, year: int, kind: str, numbers: list[str] | None = None
) -> list[PlanTableRow]:
    return rows_as(
        await session.execute(
            text(
                "SELECT p.id AS plan_id, p.number AS plan_number, p.name AS plan_name, p.table_date, t.number AS task_number,"
                " t.name AS task_name, t.draw_type, t.ratio_mode, t.ratios, t.ratio_note, t.item_note, t.scope_note,"
                " t.start_month, t.end_month,"
                " coalesce(t.initiating_section_id, p.initiating_section_id) AS initiating_id,"
                " CASE WHEN cardinality(t.joint_section_ids) > 0 THEN t.joint_section_ids ELSE p.joint_section_ids END"
                "   AS section_ids,"
                " t.scope, p.year, p.back_entry,"
                " (SELECT coalesce(json_agg(json_build_object('name', i.name, 'points', (SELECT coalesce(json_agg("
                "   c.content ORDER BY c.seq), '[]') FROM check_points c WHERE c.item_id = i.id)) ORDER BY i.code), '[]')"
                "   FROM inspection_items i WHERE i.id = ANY(t.item_ids)) AS items,"
                " (SELECT string_agg(d.short_name, '、' ORDER BY jp.invited_at, d.code) FROM joint_participants jp"
                "   JOIN departments d ON d.id = jp.tenant_id WHERE jp.plan_id = p.id"
                "   AND jp.status IN ('邀请中', '已接受')) AS partners"
                " FROM plans p JOIN tasks t ON t.plan_id = p.id"
                " WHERE p.tenant_id = app_tenant() AND p.year = :y AND p.kind = :kind AND p.status <> '已撤销'"
                " AND (CAST(:numbers AS text[]) IS NULL OR p.number = ANY(CAST(:numbers AS text[])))"
                " ORDER BY p.seq, t.seq"
            ),
            {"y": year, "kind": kind, "numbers": numbers},
        ),
        PlanTableRow,
    )


async def departments_to_remind(session: AsyncSession, year: int, month: int) -> bool:
    """True when the scope's department has not submitted its report for (year, month)."""
    status = (
        await session.execute(
            text(
                "SELECT status FROM monthly_reports WHERE tenant_id = app_tenant() AND year = :y AND month = :m"
            ),
            {"y": year, "m": month},
        )
    ).scalar()
    return status != MonthlyReportStatus.SUBMITTED
