"""The dashboard's drill-down, county → department → plan → task → enterprise: each level a page of its own, read
only, under the reader's scope (the county overseer every department of its region, a department its own)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.planning import records as planning
from services.reporting import drilldown_repository as repo
from services.reporting.dashboard import dashboard
from services.reporting.dashboard_schemas import (
    OversightDepartment,
    OversightTask,
    TaskEnterprise,
    TaskResultRow,
)
from shared.context import Department, Principal
from shared.errors import NotFound

NOT_ENTERED = "未录入"
PUBLISHED = "已公示"
# How far a check has come, least advanced first: a joint enterprise stands where its slowest part stands.
PROGRESS = ("草稿", "退回", "待审核", "已通过", PUBLISHED)
STATUS_ORDER = (NOT_ENTERED, *PROGRESS)


async def department(
    session: AsyncSession,
    principal: Principal,
    active: Department | None,
    code: str,
    year: int,
    today: dt.date | None = None,
) -> OversightDepartment:
    """One department of the dashboard (the overseer: any of its county; a department: itself only)."""
    view = await dashboard(session, principal, active, year, today)
    found = next((d for d in view.departments if d.code == code), None)
    if found is None:
        raise NotFound("该部门不存在，或不在您可查看的范围内", field="code")
    return OversightDepartment(
        year=view.year,
        today=view.today,
        department=found,
        plans=await repo.department_plans(session, code, view.year),
        overdue=[o for o in view.overdue if o.department_code == code],
    )


def _standing(results: list[TaskResultRow], public: bool) -> str:
    if public:
        return PUBLISHED
    if not results:
        return NOT_ENTERED
    return min((r.status for r in results), key=lambda s: PROGRESS.index(s) if s in PROGRESS else 0)


async def task(session: AsyncSession, task_id: uuid.UUID, today: dt.date | None = None) -> OversightTask:
    """A task with every drawn enterprise and where its check stands; enterprises checked without being drawn
    (none in a random task, but the data may hold them) come last."""
    today = today or dt.date.today()
    head = await repo.task(session, task_id)
    if head is None:
        raise NotFound("抽查任务不存在，或不在您可查看的范围内", field="task_id")
    drawn = await planning.drawn_objects(session, head.draw_id) if head.draw_id else []
    results: dict[str, list[TaskResultRow]] = {}
    for r in await repo.task_results(session, task_id):
        results.setdefault(r.uscc, []).append(r)
    public = await repo.task_public(session, task_id)
    listed = [(o.stratum, o.rank, o.uscc, o.name) for o in drawn]
    known = {o.uscc for o in drawn}
    listed += [("未经抽取", 0, u, None) for u in sorted(set(results) | set(public)) if u not in known]
    enterprises = []
    for stratum, rank, uscc, name in listed:
        rows = results.get(uscc, [])
        status = _standing(rows, uscc in public)
        due = min((r.due_on for r in rows), default=None)
        enterprises.append(
            TaskEnterprise(
                rank=rank,
                stratum=stratum,
                uscc=uscc,
                name=name or uscc,
                status=status,
                check_date=max((r.check_date for r in rows if r.check_date), default=None),
                due_on=due,
                overdue=status != PUBLISHED and due is not None and due < today,
                departments=[r.department for r in rows],
                public_id=public.get(uscc),
            )
        )
    counts = {s: sum(1 for e in enterprises if e.status == s) for s in STATUS_ORDER}
    return OversightTask(task=head, enterprises=enterprises, counts={k: v for k, v in counts.items() if v})
