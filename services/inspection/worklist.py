"""The inspector's worklist (the field app's home): the enterprises on the inspector's teams, most urgent first.

Each enterprise shows the date that matters to it: the 公示期限 of its result (20 working days after the check), or,
before anything is entered, the 公示期限 it will have if the check ends with the task's window."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from services.disclosure import deadlines
from services.inspection.common import EDITABLE, load_task
from services.inspection.extension import joint_parts
from services.inspection.schemas import ResultOut
from services.inspection.views import list_results
from services.planning import teams
from shared import workdays
from shared.context import Ctx

NOT_STARTED = "待录入"


class WorkItem(msgspec.Struct):
    task_id: uuid.UUID
    uscc: str
    object_name: str
    task_name: str
    task_number: str
    plan_number: str
    status: str  # 待录入, or the result's status
    result_id: uuid.UUID | None
    due_on: dt.date
    workdays_left: int  # negative once overdue
    todo: bool  # still the inspector's to enter (待录入, 草稿, 退回)


class TaskLine(msgspec.Struct):
    task_id: uuid.UUID
    task_name: str
    task_number: str
    plan_number: str
    start_month: dt.date
    end_month: dt.date
    enterprises: int
    todo: int


class Worklist(msgspec.Struct):
    todo: list[WorkItem]
    done: list[WorkItem]
    tasks: list[TaskLine]


async def worklist(ctx: Ctx, today: dt.date | None = None) -> Worklist:
    today = today or dt.date.today()
    mine = await teams.my_assignments(ctx) + await joint_parts().my_assignments(ctx)
    results: dict[tuple[uuid.UUID, str], ResultOut] = {}
    projected: dict[uuid.UUID, dt.date] = {}
    for task_id in dict.fromkeys(a.task_id for a in mine):
        results.update({(r.task_id, r.uscc): r for r in await list_results(ctx, task_id=task_id)})
        task = await load_task(ctx, task_id)
        end = workdays.month_end(task.end_month)
        projected[task_id] = (
            await deadlines.deadline(ctx.session, end, today if task.back_entry else None)
        ).due
    items: list[WorkItem] = []
    for a in mine:
        result = results.get((a.task_id, a.uscc))
        due = result.due_on if result else projected[a.task_id]
        items.append(
            WorkItem(
                task_id=a.task_id,
                uscc=a.uscc,
                object_name=a.object_name,
                task_name=a.task_name,
                task_number=a.task_number,
                plan_number=a.plan_number,
                status=str(result.status) if result else NOT_STARTED,
                result_id=result.id if result else None,
                due_on=due,
                workdays_left=workdays.workdays_between(today, due),
                todo=result is None or result.status in EDITABLE,
            )
        )
    # Most urgent first: the nearest deadline, a returned result before a draft before one not started.
    rank = {"退回": 0, "草稿": 1, NOT_STARTED: 2}
    todo = sorted(
        (i for i in items if i.todo), key=lambda i: (i.due_on, rank.get(i.status, 3), i.object_name)
    )
    done = sorted((i for i in items if not i.todo), key=lambda i: (i.due_on, i.object_name), reverse=True)
    tasks = []
    for task_id in dict.fromkeys(a.task_id for a in mine):
        of_task = [a for a in mine if a.task_id == task_id]
        first = of_task[0]
        tasks.append(
            TaskLine(
                task_id=task_id,
                task_name=first.task_name,
                task_number=first.task_number,
                plan_number=first.plan_number,
                start_month=first.start_month,
                end_month=first.end_month,
                enterprises=len(of_task),
                todo=sum(1 for i in todo if i.task_id == task_id),
            )
        )
    tasks.sort(key=lambda t: (t.todo == 0, t.end_month, t.task_number))
    return Worklist(todo=todo, done=done, tasks=tasks)
