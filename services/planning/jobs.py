"""Background announce and draw for large populations (same service code as the API, in the job's scope)."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.departments import department_of
from services.planning import repository as repo
from services.planning import service
from services.planning.schemas import AnnounceRequest, DrawRequest
from shared import notifications
from shared.context import Ctx, Principal
from shared.errors import DomainError
from shared.jobs import tenant_job


async def _ctx(session: AsyncSession, tenant_id: uuid.UUID, actor: dict[str, Any]) -> Ctx:
    return Ctx(session, msgspec.convert(actor, Principal), await department_of(session, tenant_id))


async def _run(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    task_id: str,
    actor: dict[str, Any],
    step: str,
    back_to: str,
    action: Any,
) -> None:
    ctx = await _ctx(session, tenant_id, actor)
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
        session, tenant_id, "planning", title, link=f"/tasks/{task}", recipient_id=str(actor["user_id"])
    )


async def _give_up(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    task_id: str,
    actor: dict[str, Any],
    step: str,
    running: str,
    back_to: str,
) -> None:
    """The job failed every attempt (an error, a timeout): put the task back where the planner can try again."""
    task = uuid.UUID(task_id)
    current = await repo.get_task(session, task)
    if current is None or current["status"] != running:
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
    session: AsyncSession, tenant_id: uuid.UUID, *, task_id: str, actor: dict[str, Any], entropy_source: str
) -> None:
    await _give_up(session, tenant_id, task_id, actor, "公告", "公告中", "草稿")


async def give_up_draw(
    session: AsyncSession, tenant_id: uuid.UUID, *, task_id: str, actor: dict[str, Any], public_entropy: str
) -> None:
    await _give_up(session, tenant_id, task_id, actor, "抽取", "抽取中", "已公告")


@tenant_job("planning.announce", give_up=give_up_announce)
async def announce_job(
    session: AsyncSession, tenant_id: uuid.UUID, *, task_id: str, actor: dict[str, Any], entropy_source: str
) -> None:
    await _run(
        session,
        tenant_id,
        task_id,
        actor,
        "公告",
        "草稿",
        lambda ctx, task: service.announce(ctx, task, AnnounceRequest(entropy_source), in_job=True),
    )


@tenant_job("planning.draw", give_up=give_up_draw)
async def draw_job(
    session: AsyncSession, tenant_id: uuid.UUID, *, task_id: str, actor: dict[str, Any], public_entropy: str
) -> None:
    await _run(
        session,
        tenant_id,
        task_id,
        actor,
        "抽取",
        "已公告",
        lambda ctx, task: service.run_draw(ctx, task, DrawRequest(public_entropy), in_job=True),
    )
