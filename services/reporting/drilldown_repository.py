"""SQL of the dashboard's drill-down: a department's plans of a year, a task with its results and public records.

Runs under the request's tenant scope (RLS): the county overseer reads every department of its region, a department
its own plans and tasks and the joint plans it takes part in."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.reporting.dashboard_schemas import DepartmentPlan, TaskHead, TaskResultRow
from services.reporting.repository import row_as, rows_as

DEPARTMENT_PLANS_SQL = """
SELECT p.id, p.number, p.name, p.kind, p.status, p.back_entry, d.name AS department,
       CASE WHEN p.tenant_id <> me.id THEN '参与' WHEN p.kind = '部门联合' THEN '牵头' ELSE '本部门' END AS role,
       (SELECT count(*) FROM tasks t WHERE t.plan_id = p.id)::int AS tasks,
       (SELECT coalesce(sum(dr.selected_count), 0) FROM tasks t
          JOIN draws dr ON dr.task_id = t.id AND dr.status = '已抽取' WHERE t.plan_id = p.id)::int AS drawn,
       (SELECT count(DISTINCT (r.task_id, r.uscc)) FROM tasks t
          JOIN inspection_results r ON r.task_id = t.id AND r.check_date IS NOT NULL WHERE t.plan_id = p.id)::int
          AS checked,
       (SELECT count(*) FROM tasks t JOIN public_results pr ON pr.task_id = t.id WHERE t.plan_id = p.id)::int
          AS published
FROM plans p JOIN departments d ON d.id = p.tenant_id JOIN departments me ON me.code = :code
WHERE p.year = :year AND (p.tenant_id = me.id OR EXISTS (
    SELECT 1 FROM joint_participants jp WHERE jp.plan_id = p.id AND jp.tenant_id = me.id AND jp.status = '已接受'))
ORDER BY p.number, p.id
"""

TASK_SQL = """
SELECT t.id, t.number, t.name, t.status, t.start_month, t.end_month, p.id AS plan_id, p.number AS plan_number,
       p.name AS plan_name, p.year AS plan_year, p.kind, d.name AS department, d.code AS department_code,
       dr.id AS draw_id, dr.eligible_count AS eligible, dr.selected_count AS drawn
FROM tasks t JOIN plans p ON p.id = t.plan_id JOIN departments d ON d.id = t.tenant_id
LEFT JOIN draws dr ON dr.task_id = t.id AND dr.status = '已抽取'
WHERE t.id = :id
"""

TASK_RESULTS_SQL = """
SELECT r.uscc, d.name AS department, r.status, r.check_date, r.due_on, r.id AS result_id
FROM inspection_results r JOIN departments d ON d.id = r.tenant_id
WHERE r.task_id = :id ORDER BY d.code
"""


async def department_plans(session: AsyncSession, code: str, year: int) -> list[DepartmentPlan]:
    found = await session.execute(text(DEPARTMENT_PLANS_SQL), {"code": code, "year": year})
    return rows_as(found, DepartmentPlan)


async def task(session: AsyncSession, task_id: uuid.UUID) -> TaskHead | None:
    return row_as((await session.execute(text(TASK_SQL), {"id": task_id})).first(), TaskHead)


async def task_results(session: AsyncSession, task_id: uuid.UUID) -> list[TaskResultRow]:
    return rows_as(await session.execute(text(TASK_RESULTS_SQL), {"id": task_id}), TaskResultRow)


async def task_public(session: AsyncSession, task_id: uuid.UUID) -> dict[str, uuid.UUID]:
    """The published record of each enterprise of the task (the public register: one per enterprise)."""
    found = await session.execute(
        text("SELECT uscc, id FROM public_results WHERE task_id = :id"), {"id": task_id}
    )
    return {r.uscc: r.id for r in found}
