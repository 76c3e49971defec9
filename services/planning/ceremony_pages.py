"""The draw ceremony's pages: the task page with its stepper, and each irreversible step behind a confirmation.

冻结名单并公告, 执行抽取 and 匹配 post their form once without ``confirm=yes``: the page answers with what will
happen and what becomes public, with the real numbers (``previews``), and changes nothing; the confirmation posts
the same values with ``confirm=yes``. Large announcements and draws run as jobs: the task page polls
``/tasks/{id}/progress`` and shows the result when the job is done (a plain link without JavaScript).
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning import adjust, previews, service, stepper, teams
from services.planning import teams_repository as trepo
from services.planning.pages import render
from services.planning.schemas import (
    AdjustRequest,
    AnnounceRequest,
    DrawRequest,
    MatchRequest,
    TaskStatus,
    VoidRequest,
)
from shared.context import Ctx
from shared.errors import DomainError, InvalidInput
from shared.web.fielderrors import error_of
from shared.web.forms import clean, to_struct
from shared.web.guards import provide_ctx, provide_db_session, requires_login

RUNNING = (TaskStatus.ANNOUNCING, TaskStatus.DRAWING)
# Refusals shown beside an input of the task page; the others (states, lists) in the banner only.
FIELDS = ("entropy_source", "public_entropy", "load_slack", "reason")


class TaskProgress(msgspec.Struct, frozen=True):
    """The task's state for the page's live progress (polled while a job announces or draws)."""

    status: str
    label: str
    running: bool


async def _task_page(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, **extra: Any) -> Template:
    task, plan = await service.task_detail(ctx, task_id)
    draw = await service.draw_detail(ctx, task.draw_id) if task.draw_id else None
    team_view = await teams.teams_view(ctx, task_id)
    inspectors = await trepo.active_inspectors(ctx.session) if team_view.matched else []
    error = extra.get("error")
    if error is not None and error.field in FIELDS:
        extra["errors"] = error_of(error)
    return await render(
        request,
        "task.html",
        ctx=ctx,
        task=task,
        plan=plan,
        draw=draw,
        teams=team_view,
        inspectors=inspectors,
        department_code=ctx.department.code,
        steps=stepper.steps(task.status, plan.status),
        running=task.status in RUNNING,
        **extra,
    )


@get("/tasks/{task_id:uuid}")
async def task_page(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID) -> Template:
    return await _task_page(request, ctx, task_id)


@get("/tasks/{task_id:uuid}/progress")
async def task_progress(ctx: Ctx, task_id: uuid.UUID) -> TaskProgress:
    task, plan = await service.task_detail(ctx, task_id)
    return TaskProgress(
        status=str(task.status),
        label=stepper.state_label(task.status, plan.status),
        running=task.status in RUNNING,
    )


async def _task_action(
    request: Request[Any, Any, Any],
    ctx: Ctx,
    db: AsyncSession,
    task_id: uuid.UUID,
    action: Any,
    **values: Any,
) -> Template | Redirect:
    savepoint = await db.begin_nested()
    try:
        await action()
    except DomainError as exc:
        await savepoint.rollback()
        return await _task_page(request, ctx, task_id, error=exc, values=values)
    return Redirect(f"/tasks/{task_id}")


async def _confirm(
    request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, step: str, preview: Any, **values: Any
) -> Template:
    task, plan = await service.task_detail(ctx, task_id)
    return await render(
        request,
        "confirm_step.html",
        ctx=ctx,
        task=task,
        plan=plan,
        step=step,
        preview=preview,
        values=values,
        steps=stepper.steps(task.status, plan.status),
    )


async def _preview_or_error(
    request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, make: Any
) -> tuple[Any, Template | None]:
    try:
        return await make(ctx, task_id), None
    except DomainError as exc:
        return None, await _task_page(request, ctx, task_id, error=exc)


@post("/tasks/{task_id:uuid}/announce")
async def announce_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    source = form.get("entropy_source")
    if form.get("confirm") != "yes":
        try:
            data = to_struct(clean({"entropy_source": source}), AnnounceRequest)
        except DomainError as exc:
            return await _task_page(request, ctx, task_id, error=exc, values={"entropy_source": source})
        preview, failed = await _preview_or_error(request, ctx, task_id, previews.announce_preview)
        if failed is not None:
            return failed
        return await _confirm(request, ctx, task_id, "announce", preview, entropy_source=data.entropy_source)

    async def action() -> None:
        data = to_struct(clean({"entropy_source": source}), AnnounceRequest)
        await service.announce(ctx, task_id, data)

    return await _task_action(request, ctx, db, task_id, action, entropy_source=source)


@post("/tasks/{task_id:uuid}/draw")
async def draw_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    entropy = form.get("public_entropy", "")
    if form.get("confirm") != "yes":
        preview, failed = await _preview_or_error(request, ctx, task_id, previews.draw_preview)
        if failed is not None:
            return failed
        if preview.entropy_source != AnnounceRequest().entropy_source and not str(entropy).strip():
            # Refused before the confirmation, beside its field: the announced source needs its value.
            message = f"公告的公共随机数来源为“{preview.entropy_source}”，请填写其数值"
            error = InvalidInput(message, field="public_entropy")
            return await _task_page(request, ctx, task_id, error=error, values={"public_entropy": entropy})
        return await _confirm(request, ctx, task_id, "draw", preview, public_entropy=entropy)

    async def action() -> None:
        await service.run_draw(ctx, task_id, to_struct({"public_entropy": entropy}, DrawRequest))

    return await _task_action(request, ctx, db, task_id, action, public_entropy=entropy)


@post("/tasks/{task_id:uuid}/void")
async def void_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()

    async def action() -> None:
        await service.void_draw(ctx, task_id, to_struct({"reason": form.get("reason", "")}, VoidRequest))

    return await _task_action(request, ctx, db, task_id, action)


@post("/tasks/{task_id:uuid}/match")
async def match_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    slack_value = form.get("load_slack")
    if form.get("confirm") != "yes":
        try:
            slack = to_struct(clean({"load_slack": slack_value}), MatchRequest)
        except DomainError as exc:
            return await _task_page(request, ctx, task_id, error=exc, values={"load_slack": slack_value})
        preview, failed = await _preview_or_error(request, ctx, task_id, previews.match_preview)
        if failed is not None:
            return failed
        return await _confirm(request, ctx, task_id, "match", preview, load_slack=slack.load_slack)

    async def action() -> None:
        slack = to_struct(clean({"load_slack": slack_value}), MatchRequest)
        await teams.match_task(ctx, task_id, slack)

    return await _task_action(request, ctx, db, task_id, action, load_slack=slack_value)


@post("/tasks/{task_id:uuid}/adjust")
async def adjust_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()

    async def action() -> None:
        uscc, _, slot = str(form.get("member", "")).partition("|")
        data = to_struct(
            {
                "uscc": uscc,
                "slot": slot or "-1",
                "inspector_id": form.get("inspector_id", ""),
                "reason": form.get("reason", ""),
            },
            AdjustRequest,
        )
        await adjust.adjust_team(ctx, task_id, data)

    return await _task_action(request, ctx, db, task_id, action)


router = Router(
    path="/",
    route_handlers=[task_page, task_progress, announce_form, draw_form, void_form, match_form, adjust_form],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    include_in_schema=False,
)
