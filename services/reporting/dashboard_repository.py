"""SQL of the oversight dashboard: the county's departments (overseer) or the active department, for one year.

Every query runs under the request's tenant scope (RLS): the county overseer reads every department of its region
(read only), a department only itself. The counts come from the rollups kept exact by triggers (migration 0040),
never from the result rows themselves.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.dashboard_schemas import (
    DashboardRows,
    DepartmentCounts,
    JointTaskCounts,
    MonthCounts,
    OverdueRow,
    OversightPlanRow,
    PlanParticipant,
    PlanTaskProgress,
)
from services.reporting.repository import monthly_reports_of_year, row_as, rows_as

DASHBOARD_SQL = """
WITH scope_departments AS (
    SELECT d.id, d.code, d.name, d.short_name FROM departments d
    WHERE d.region_code = :region AND d.active AND (CAST(:only AS uuid) IS NULL OR d.id = CAST(:only AS uuid))
), checked AS (
    SELECT y.tenant_id, y.objects_checked FROM report_year_stats y WHERE y.year = :year
), reg AS (
    SELECT o.tenant_id, count(*) AS registry_size FROM registry_objects o WHERE o.active GROUP BY o.tenant_id
), haz AS (
    SELECT h.tenant_id,
           sum(h.n) AS hazards,
           sum(h.n) FILTER (WHERE h.severity = '重大隐患') AS major_hazards,
           sum(h.n) FILTER (WHERE h.status = '已整改') AS rectified,
           sum(h.n) FILTER (WHERE h.status = '逾期未整改' OR (h.status = '整改中' AND h.rectify_by < :today))
               AS overdue_hazards
    FROM report_hazard_stats h WHERE h.check_month >= :y0 AND h.check_month < :y1
    GROUP BY h.tenant_id
), pl AS (
    SELECT p.tenant_id,
           count(*) FILTER (WHERE p.kind = '内部联合') AS internal_joint,
           count(*) FILTER (WHERE p.kind = '部门联合') AS joint_led
    FROM plans p WHERE p.year = :year AND p.status IN ('已发布', '已完成') GROUP BY p.tenant_id
), joined AS (
    SELECT jp.tenant_id, count(*) AS joint_joined
    FROM joint_participants jp JOIN plans p ON p.id = jp.plan_id
    WHERE jp.status = '已接受' AND p.year = :year AND p.status IN ('已发布', '已完成')
    GROUP BY jp.tenant_id
), rep AS (
    SELECT m.tenant_id, count(*) FILTER (WHERE m.status = '已提交') AS reports_submitted
    FROM monthly_reports m WHERE m.year = :year GROUP BY m.tenant_id
)
SELECT d.id, d.code, d.name, d.short_name,
       coalesce(reg.registry_size, 0) AS registry_size, coalesce(checked.objects_checked, 0) AS objects_checked,
       coalesce(haz.hazards, 0)::int AS hazards, coalesce(haz.major_hazards, 0)::int AS major_hazards,
       coalesce(haz.rectified, 0)::int AS rectified, coalesce(haz.overdue_hazards, 0)::int AS overdue_hazards,
       coalesce(pl.internal_joint, 0) AS internal_joint, coalesce(pl.joint_led, 0) AS joint_led,
       coalesce(joined.joint_joined, 0) AS joint_joined, coalesce(rep.reports_submitted, 0) AS reports_submitted
FROM scope_departments d
LEFT JOIN reg ON reg.tenant_id = d.id LEFT JOIN checked ON checked.tenant_id = d.id
LEFT JOIN haz ON haz.tenant_id = d.id
LEFT JOIN pl ON pl.tenant_id = d.id LEFT JOIN joined ON joined.tenant_id = d.id
LEFT JOIN rep ON rep.tenant_id = d.id
ORDER BY d.code
"""

MONTHLY_SQL = """
SELECT s.tenant_id, extract(month FROM s.check_month)::int AS month,
       sum(s.n)::int AS results,
       coalesce(sum(s.n) FILTER (WHERE s.status = '已公示'), 0)::int AS published,
       coalesce(sum(s.n) FILTER (WHERE s.on_time), 0)::int AS on_time,
       coalesce(sum(s.n) FILTER (WHERE s.status <> '已公示' AND s.due_on < :today), 0)::int AS overdue_results
FROM report_result_stats s
WHERE s.check_month >= :y0 AND s.check_month < :y1
GROUP BY 1, 2
"""

# A task's progress: drawn enterprises with a check entered (results the scope may read: the overseer every
# department's parts, a department its own) and published records (the public register, one per enterprise).
PROGRESS_COLUMNS = """
       (SELECT count(DISTINCT r.uscc) FROM inspection_results r WHERE r.task_id = t.id
          AND r.check_date IS NOT NULL)::int AS checked,
       (SELECT count(*) FROM public_results pr WHERE pr.task_id = t.id)::int AS published"""

JOINT_TASKS_SQL = f"""
SELECT p.tenant_id, p.id AS plan_id, p.number AS plan_number, t.id AS task_id, t.number AS task_number,
       t.name AS task_name, dr.eligible_count, dr.selected_count,{PROGRESS_COLUMNS}
FROM tasks t JOIN plans p ON p.id = t.plan_id
LEFT JOIN draws dr ON dr.task_id = t.id AND dr.status = '已抽取'
WHERE p.kind = '部门联合' AND p.year = :year AND p.status IN ('已发布', '已完成')
ORDER BY p.number, t.seq
"""

PLAN_SQL = """
SELECT p.id, p.number, p.name, p.year, p.kind, p.status, p.back_entry, p.table_date, d.name AS department
FROM plans p JOIN departments d ON d.id = p.tenant_id WHERE p.id = :id
"""

PLAN_PARTICIPANTS_SQL = """
SELECT d.name AS department, jp.status FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id
WHERE jp.plan_id = :id ORDER BY jp.invited_at, d.code
"""

PLAN_TASKS_SQL = f"""
SELECT t.id, t.number, t.name, t.status, t.start_month, t.end_month, dr.eligible_count AS eligible,
       dr.selected_count AS drawn,{PROGRESS_COLUMNS}
FROM tasks t LEFT JOIN draws dr ON dr.task_id = t.id AND dr.status = '已抽取'
WHERE t.plan_id = :id ORDER BY t.seq
"""

# Per department and open status, the oldest due dates first, straight off ix_results_due (tenant, status, due_on).
OVERDUE_SQL = """
SELECT o.tenant_id, o.id, x.name, o.status, o.due_on
FROM departments d
CROSS JOIN unnest(ARRAY['草稿', '待审核', '退回', '已通过']) AS st(status)
CROSS JOIN LATERAL (
    SELECT r.tenant_id, r.id, r.status, r.due_on, r.object_id FROM inspection_results r
    WHERE r.tenant_id = d.id AND r.status = st.status AND r.due_on < :today
      AND coalesce(r.check_date, r.check_end) >= :y0 AND coalesce(r.check_date, r.check_end) < :y1
    ORDER BY r.due_on, r.id LIMIT 50) o
JOIN registry_objects x ON x.id = o.object_id
WHERE d.region_code = :region AND d.active AND (CAST(:only AS uuid) IS NULL OR d.id = CAST(:only AS uuid))
ORDER BY o.due_on, o.id LIMIT 50
"""


def _dashboard_params(region: str, only: uuid.UUID | None, year: int, today: dt.date) -> dict[str, object]:
    return {
        "region": region,
        "only": str(only) if only else None,
        "year": year,
        "today": today,
        "y0": dt.date(year, 1, 1),
        "y1": dt.date(year + 1, 1, 1),
    }


async def dashboard(
    session: AsyncSession, region: str, only: uuid.UUID | None, year: int, today: dt.date
) -> DashboardRows:
    params = _dashboard_params(region, only, year, today)
    return DashboardRows(
        departments=rows_as(await session.execute(text(DASHBOARD_SQL), params), DepartmentCounts),
        monthly=rows_as(await session.execute(text(MONTHLY_SQL), params), MonthCounts),
        joint_tasks=rows_as(await session.execute(text(JOINT_TASKS_SQL), params), JointTaskCounts),
        overdue=rows_as(await session.execute(text(OVERDUE_SQL), params), OverdueRow),
        reports=await monthly_reports_of_year(session, year),
    )


async def plan(
    session: AsyncSession, plan_id: uuid.UUID
) -> tuple[OversightPlanRow, list[PlanParticipant], list[PlanTaskProgress]] | None:
    """A plan the scope may read (RLS: the overseer's county, a department its own or a joint plan it takes part
    in), its partners and its tasks' progress."""
    found = row_as((await session.execute(text(PLAN_SQL), {"id": plan_id})).first(), OversightPlanRow)
    if found is None:
        return None
    params = {"id": plan_id}
    return (
        found,
        rows_as(await session.execute(text(PLAN_PARTICIPANTS_SQL), params), PlanParticipant),
        rows_as(await session.execute(text(PLAN_TASKS_SQL), params), PlanTaskProgress),
    )
