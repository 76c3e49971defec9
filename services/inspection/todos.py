"""The 工作台 panels of a reviewer (the 待审核 queue) and an inspector (the enterprises to enter results of)."""

from __future__ import annotations

from services.inspection import service
from services.inspection.extension import joint_parts
from services.inspection.schemas import ResultStatus
from services.planning import teams
from services.planning.schemas import TaskStatus
from shared.context import Ctx
from shared.web import todos
from shared.web.todos import Stat, TodoItem, TodoPanel


async def review_panel(ctx: Ctx) -> TodoPanel:
    waiting = await service.list_results(ctx, status=ResultStatus.SUBMITTED)
    overdue = sum(1 for r in waiting if r.overdue)
    return TodoPanel(
        id="todo-review",
        title="待审核的检查结果",
        stats=[Stat("待审核", len(waiting), "/review"), Stat("已逾期", overdue, "/review")],
        items=[
            TodoItem(
                r.object_name,
                f"/review/{r.id}",
                f"{r.plan_number}/{r.task_number} · 录入人 {r.entered_by_name} · 公示期限 {r.due_on.isoformat()}",
                "已逾期"
                if r.overdue
                else (f"剩 {r.workdays_left} 个工作日" if r.workdays_left is not None else ""),
                urgent=r.overdue or (r.workdays_left is not None and r.workdays_left <= 2),
            )
            for r in waiting[:5]
        ],
        empty="没有待审核的检查结果。",
        more_href="/review",
        more_label="进入审核队列",
    )


async def entry_panel(ctx: Ctx) -> TodoPanel:
    mine = await teams.my_assignments(ctx) + await joint_parts().my_assignments(ctx)
    open_ = [a for a in mine if a.status in (TaskStatus.MATCHED, TaskStatus.IN_PROGRESS)]
    return TodoPanel(
        id="todo-entries",
        title="我的检查任务",
        items=[
            TodoItem(
                a.object_name,
                f"/results/entry/{a.task_id}/{a.uscc}",
                f"{a.task_name} · 检查时间 {a.start_month:%Y年%m月}至{a.end_month:%Y年%m月}",
            )
            for a in open_[:8]
        ],
        empty="暂无需要录入结果的检查任务。",
        more_href="/my/assignments",
        more_label="全部检查任务",
    )


def install() -> None:
    todos.register(5, ("reviewer",), review_panel)
    todos.register(6, ("inspector",), entry_panel)
