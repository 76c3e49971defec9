"""The 工作台 panels of a planner: plans by state and the draws to run."""

from __future__ import annotations

from services.planning import service, stepper
from services.planning.schemas import PlanStatus, TaskStatus
from shared.context import WRITERS, Ctx
from shared.web import todos
from shared.web.todos import Stat, TodoItem, TodoPanel

# Tasks of a published plan that wait for the planner, in ceremony order.
WAITING = (
    TaskStatus.DRAFT,
    TaskStatus.ANNOUNCING,
    TaskStatus.ANNOUNCED,
    TaskStatus.DRAWING,
    TaskStatus.DRAWN,
)


async def plans_panel(ctx: Ctx) -> TodoPanel:
    plans = await service.list_plans(ctx)
    drafts = [p for p in plans if p.status == PlanStatus.DRAFT]
    return TodoPanel(
        id="todo-plans",
        title="抽查计划",
        stats=[
            Stat(str(state), sum(1 for p in plans if p.status == state), "/plans")
            for state in (PlanStatus.DRAFT, PlanStatus.PUBLISHED, PlanStatus.COMPLETED)
        ],
        items=[
            TodoItem(
                p.name,
                f"/plans/{p.id}",
                f"{p.number} · {len(p.tasks)} 个任务" + ("，请添加任务" if not p.tasks else "，待发布"),
                "草稿",
            )
            for p in drafts[:5]
        ],
        empty="没有待发布的计划。",
        more_href="/plans",
        more_label="全部计划",
    )


async def draws_panel(ctx: Ctx) -> TodoPanel:
    plans = await service.list_plans(ctx)
    waiting = [
        (p, t) for p in plans if p.status == PlanStatus.PUBLISHED for t in p.tasks if t.status in WAITING
    ]
    waiting.sort(key=lambda pt: (WAITING.index(pt[1].status), pt[1].start_month))
    steps = {s: stepper.steps(s, PlanStatus.PUBLISHED) for s in WAITING}
    return TodoPanel(
        id="todo-draws",
        title="待办抽取",
        items=[
            TodoItem(
                t.name,
                f"/tasks/{t.id}",
                f"{p.number}/{t.number} · 抽查时间 {t.period_label}",
                next(s.note for s in steps[t.status] if s.state == "current"),
                urgent=t.status == TaskStatus.DRAWN,
            )
            for p, t in waiting[:8]
        ],
        empty="没有待公告、待抽取或待匹配的任务。",
        more_href="/plans",
        more_label="全部计划",
    )


def install() -> None:
    todos.register(10, WRITERS, draws_panel)
    todos.register(11, WRITERS, plans_panel)
