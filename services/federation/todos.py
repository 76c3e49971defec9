"""The 工作台 panel of a planner: joint-plan invitations to answer."""

from __future__ import annotations

import datetime as dt

from services.federation import service
from services.federation.schemas import ParticipationStatus
from shared.context import WRITERS, Ctx
from shared.web import todos
from shared.web.todos import TodoItem, TodoPanel


async def invitations_panel(ctx: Ctx) -> TodoPanel:
    today = dt.date.today()
    open_ = [i for i in await service.invitations(ctx) if i.status == ParticipationStatus.INVITED]
    return TodoPanel(
        id="todo-invitations",
        title="待确认的联合抽查邀请",
        items=[
            TodoItem(
                f"{i.plan_name}",
                f"/federation/plans/{i.plan_id}",
                f"{i.lead_name}邀请 · 请于 {i.respond_by.isoformat()} 前确认",
                "已逾期" if i.respond_by < today else "待确认",
                urgent=i.respond_by <= today + dt.timedelta(days=1),
            )
            for i in open_[:5]
        ],
        empty="没有待确认的邀请。",
        more_href="/federation",
        more_label="部门联合抽查",
    )


def install() -> None:
    todos.register(12, WRITERS, invitations_panel)
