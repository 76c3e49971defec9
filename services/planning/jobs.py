"""Background announce and draw for large populations (same service code as the API, in the job's scope)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.departments import department_of
from services.planning import draws
from services.planning import repository as repo
from services.planning.schemas import AnnounceRequest, DrawRequest, TaskStatus
from shared import notifications
from shared.context import Ctx, Principal
from shared.errors import DomainError
from shared.jobs import tenant_job

# The planner who queued the job, as the job's JSON arguments carry it (``msgspec.to_builtins(Principal)``).
JobActor = dict[str, Any]
Step = Callable[[Ctx, uuid.UUID], Awaitable[object]]


async def _run(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    task_id: str,
    actor: JobActor,
    step: str,
    back_to: TaskStatus,
    action: Step,
) -> None:
    principal = msgspec.convert(actor, Principal)
    ctx = Ctx(session, principal, await department_of(session, tenant_id))
    task = uuid.UUID(task_id)
    savepoint = await session.begin_nested()
    try:
        await action(ctx, task)
        title = f"任务{step}已完成"
    except DomainError as exc:
        # A refusal is final (no retry would change it): put the task back and tell the planner why.
        await savepoint.rollback()
        await repo.set_task_status(session, task, back_to)
        title = f"任务{step}未完成：{exc.message}"
    await notifications.create(
        session, tenant_id, "planning", title, link=f"/tasks/{task}", recipient_id=str(principal.user_id)
    )


async def _give_up(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    task_id: str,
    actor: JobActor,
    step: str,
    running: TaskStatus,
    back_to: TaskStatus,
) -> None:
    """The job failed every attempt (an error, a timeout): put the task back where the planner can try again."""
    task = uuid.UUID(task_id)
    current = await repo.get_task(session, task)
    if current is None or current.status != running:
        return
    await repo.set_task_status(session, task, back_to)
    await notifications.create(
        session,
        tenant_id,
        "planning",
        f"任务{step}未完成：系统多次尝试均失败，请稍后重试或联系运维人员",
        link=f"/tasks/{task}",
        recipient_id=str(actor["user_id"]),
    )


async def give_up_announce(
    session: AsyncSession, tenant_id: uuid.UUID, *, task_id: str, actor: JobActor, entropy_source: str
) -> None:
    await _give_up(session, tenant_id, task_id, actor, "公告", TaskStatus.ANNOUNCING, TaskStatus.DRAFT)


async def give_up_draw(
    session: AsyncSession, tenant_id: uuid.UUID, *, task_id: str, actor: JobActor, public_entropy: str
) -> None:
    await _give_up(session, tenant_id, task_id, actor, "抽取", TaskStatus.DRAWING, TaskStatus.ANNOUNCED)


@tenant_job("planning.announce", give_up=give_up_announce)
async def announce_job(
    session: AsyncSession, tenant_id: uuid.UUID, *, task_id: str, actor: JobActor, entropy_source: str
) -> None:
    await _run(
        session,
        tenant_id,
        task_id,
        actor,
        "公告",
        TaskStatus.DRAFT,
        lambda ctx, task: draws.announce(ctx, task, AnnounceRequest(entropy_source), in_job=True),
    )


@tenant_job("planning.draw", give_up=give_up_draw)
async def draw_job(
    session: AsyncSession, tenant_id: uuid.UUID, *, task_id: str, actor: JobActor, public_entropy: str
) -> None:
    await _run(
        session,
        tenant_id,
        task_id,
        actor,
        "抽取",
        TaskStatus.ANNOUNCED,
        lambda ctx, task: draws.run_draw(ctx, task, DrawRequest(public_entropy), in_job=True),
    )
