"""Pages for correcting a plan (issue #17 item 1): the task's edit form, cancelling a task or a plan, the trail."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning import corrections, service
from services.planning import repository as repo
from services.planning.lookups import points_by_item, task_row
from services.planning.pages import TASK_ALIASES, TASK_LABELS, _check_ratios, _task_values, render
from shared.context import Ctx
from shared.errors import DomainError
from shared.web.fielderrors import convert, error_of
from shared.web.forms import to_struct
from shared.web.guards import provide_ctx, provide_db_session, requires_login


def _percent(stored: str) -> str:
    """A stored ratio ("0.05") as the form shows it ("5%"), exactly: a correction saves back the same value."""
    return format((Decimal(stored) * 100).normalize(), "f") + "%"


def _form_values(task: Any) -> dict[str, Any]:
    """A task as the task form's values (the same keys the form posts)."""
    scope = dict(task.scope)
    values: dict[str, Any] = {
        "name": task.name,
        "draw_type": task.draw_type,
        "start_month": task.start_month,
        "end_month": task.end_month,
        "ratio_note": task.ratio_note,
        "item_note": task.item_note,
        "scope_note": task.scope_note,
        "min_inspectors": task.min_inspectors,
        "exclude_checked_within_months": task.exclude_checked_within_months,
        "annual_cap": task.annual_cap,
        "ratio_mode": "per_class" if task.ratio_mode == "per_class" else "overall",
        **scope,
    }
    if task.ratio_mode == "per_class":
        values.update({f"class_{c}": _percent(r) for c, r in task.ratios.items()})
    else:
        values["ratio"] = _percent(next(iter(task.ratios.values())))
    return values


async def _edit_form(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, **extra: Any) -> Template:
    task, plan = await service.task_detail(ctx, task_id)
    row = await task_row(ctx, task_id)
    items = await repo.active_items(ctx.session)
    tags = await repo.tags_by_category(ctx.session)
    codes = {i.id: i.code for i in items}
    values = extra.pop("values", None) or {
        **_form_values(task),
        "item_codes": [codes.get(i) for i in row.item_ids],
        "check_point_ids": [str(p) for p in row.check_point_ids or []],
    }
    return await render(
        request,
        "task_form.html",
        ctx=ctx,
        plan=plan,
        items=items,
        tags=tags,
        points=await points_by_item(ctx, [i.id for i in items]),
        values=values,
        editing=task,
        form_action=f"/tasks/{task.id}/edit",
        **{"labels": TASK_LABELS, **extra},
    )


@get("/tasks/{task_id:uuid}/edit")
async def edit_task_page(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID) -> Template:
    return await _edit_form(request, ctx, task_id)


@post("/tasks/{task_id:uuid}/edit")
async def edit_task_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    values = {**_task_values(form), "reason": form.get("reason", "")}
    data, errors = convert(values, corrections.TaskEdit, TASK_ALIASES)
    _check_ratios(values, errors)
    if data is not None and not errors:
        savepoint = await db.begin_nested()
        try:
            await corrections.edit_task(ctx, task_id, data)
        except DomainError as exc:
            await savepoint.rollback()
            errors = error_of(exc, TASK_ALIASES)
        else:
            return Redirect(f"/tasks/{task_id}")
    flat = {**values, **values.get("scope", {}), "ratio_mode": form.get("ratio_mode")}
    flat.update({f"class_{c}": form.get(f"class_{c}", "") for c in "ABCD"})
    return await _edit_form(request, ctx, task_id, values=flat, errors=errors, labels=TASK_LABELS)


@post("/tasks/{task_id:uuid}/cancel")
async def cancel_task_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    savepoint = await db.begin_nested()
    try:
        task = await corrections.cancel_task(
            ctx, task_id, to_struct({"reason": form.get("reason", "")}, corrections.CancelRequest)
        )
    except DomainError as exc:
        await savepoint.rollback()
        task, _ = await service.task_detail(ctx, task_id)
        return await _plan_page(request, ctx, task.plan_id, error=exc)
    return Redirect(f"/plans/{task.plan_id}")


@post("/plans/{plan_id:uuid}/cancel")
async def cancel_plan_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, plan_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    savepoint = await db.begin_nested()
    try:
        await corrections.cancel_plan(
            ctx, plan_id, to_struct({"reason": form.get("reason", "")}, corrections.CancelRequest)
        )
    except DomainError as exc:
        await savepoint.rollback()
        return await _plan_page(request, ctx, plan_id, error=exc)
    return Redirect(f"/plans/{plan_id}")


async def _plan_page(request: Request[Any, Any, Any], ctx: Ctx, plan_id: uuid.UUID, **extra: Any) -> Template:
    return await render(
        request,
        "plan.html",
        ctx=ctx,
        plan=await service.plan_detail(ctx, plan_id),
        changes=await corrections.plan_changes(ctx, plan_id),
        **extra,
    )


router = Router(
    path="/",
    route_handlers=[edit_task_page, edit_task_form, cancel_task_form, cancel_plan_form],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
)
