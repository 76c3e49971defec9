"""Server-rendered pages for planners: plans, tasks, and the draw ceremony (announce → draw → result)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning import adjust, service, teams
from services.planning import repository as repo
from services.planning import teams_repository as trepo
from services.planning.schemas import (
    AdjustRequest,
    AnnounceRequest,
    DrawRequest,
    MatchRequest,
    PlanCreate,
    TaskCreate,
    VoidRequest,
)
from shared.context import WRITERS, Ctx
from shared.errors import DomainError
from shared.web.forms import clean, to_struct
from shared.web.guards import provide_ctx, provide_db_session, requires_login
from shared.web.pages import page_context
from shared.web.params import OptionalYear


async def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    base = await page_context(request)
    ctx: Ctx | None = context.get("ctx")
    base["can_write"] = ctx is not None and ctx.principal.has_any_role(*WRITERS)
    return Template(f"planning/{template}", context={**base, **context})


@get("/plans")
async def plans_page(request: Request[Any, Any, Any], ctx: Ctx, year: OptionalYear = None) -> Template:
    return await _render(request, "plans.html", ctx=ctx, plans=await service.list_plans(ctx, year), year=year)


async def _plan_form(request: Request[Any, Any, Any], ctx: Ctx, **extra: Any) -> Template:
    sections = await repo.sections_by_code(ctx.session)
    return await _render(request, "plan_form.html", ctx=ctx, sections=list(sections.values()), **extra)


@get("/plans/new")
async def new_plan_page(request: Request[Any, Any, Any], ctx: Ctx) -> Template:
    return await _plan_form(request, ctx, values={"year": 2023, "kind": "内部联合"})


@post("/plans/new")
async def create_plan_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession
) -> Template | Redirect:
    form = await request.form()
    values = clean(
        {
            "year": form.get("year"),
            "kind": form.get("kind"),
            "initiating_section": form.get("initiating_section"),
            "joint_sections": form.getall("joint_sections", []),
            "table_date": form.get("table_date"),
            "back_entry": True if form.get("back_entry") == "on" else None,
        }
    )
    savepoint = await db.begin_nested()
    try:
        plan = await service.create_plan(ctx, to_struct(values, PlanCreate))
    except DomainError as exc:
        await savepoint.rollback()
        return await _plan_form(request, ctx, values=values, error=exc)
    return Redirect(f"/plans/{plan.id}")


@get("/plans/{plan_id:uuid}")
async def plan_page(request: Request[Any, Any, Any], ctx: Ctx, plan_id: uuid.UUID) -> Template:
    return await _render(request, "plan.html", ctx=ctx, plan=await service.plan_detail(ctx, plan_id))


@post("/plans/{plan_id:uuid}/publish")
async def publish_plan_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, plan_id: uuid.UUID
) -> Template | Redirect:
    savepoint = await db.begin_nested()
    try:
        await service.publish_plan(ctx, plan_id)
    except DomainError as exc:
        await savepoint.rollback()
        return await _render(
            request, "plan.html", ctx=ctx, plan=await service.plan_detail(ctx, plan_id), error=exc
        )
    return Redirect(f"/plans/{plan_id}")


async def _task_form(request: Request[Any, Any, Any], ctx: Ctx, plan_id: uuid.UUID, **extra: Any) -> Template:
    plan = await service.plan_detail(ctx, plan_id)
    items = await repo.active_items(ctx.session)
    tags = await repo.tags_by_category(ctx.session)
    return await _render(request, "task_form.html", ctx=ctx, plan=plan, items=items, tags=tags, **extra)


@get("/plans/{plan_id:uuid}/tasks/new")
async def new_task_page(request: Request[Any, Any, Any], ctx: Ctx, plan_id: uuid.UUID) -> Template:
    plan = await service.plan_detail(ctx, plan_id)
    return await _task_form(
        request,
        ctx,
        plan_id,
        values={
            "draw_type": "定向",
            "ratio_mode": "per_class",
            "start_month": f"{plan.year}-05",
            "end_month": f"{plan.year}-06",
            "min_inspectors": 2,
            "class_A": "5%",
            "class_B": "5%",
            "class_C": "5%",
            "class_D": "5%",
        },
    )


def _task_values(form: Any) -> dict[str, Any]:  # the raw form, before msgspec validates it
    per_class = form.get("ratio_mode") == "per_class"
    scope = clean(
        {
            "industries": form.getall("industries", []),
            "tags_all": form.getall("tags_all", []),
            "risk_classes": form.getall("risk_classes", []),
            "major_hazard_only": form.get("major_hazard_only") == "on" or None,
            "direct_supervision_only": form.get("direct_supervision_only") == "on" or None,
        }
    )
    return clean(
        {
            "name": form.get("name"),
            "draw_type": form.get("draw_type"),
            "start_month": form.get("start_month"),
            "end_month": form.get("end_month"),
            "item_codes": form.getall("item_codes", []),
            "ratio": None if per_class else form.get("ratio"),
            "class_ratios": {c: form.get(f"class_{c}", "") for c in "ABCD"} if per_class else None,
            "ratio_note": form.get("ratio_note"),
            "item_note": form.get("item_note"),
            "scope": scope,
            "scope_note": form.get("scope_note"),
            "min_inspectors": form.get("min_inspectors"),
            "exclude_checked_within_months": form.get("exclude_checked_within_months"),
            "annual_cap": form.get("annual_cap"),
        }
    )


@post("/plans/{plan_id:uuid}/tasks/new")
async def create_task_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, plan_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    values = _task_values(form)
    savepoint = await db.begin_nested()
    try:
        task = await service.add_task(ctx, plan_id, to_struct(values, TaskCreate))
    except DomainError as exc:
        await savepoint.rollback()
        flat = {**values, **values.get("scope", {}), "ratio_mode": form.get("ratio_mode")}
        flat.update({f"class_{c}": form.get(f"class_{c}", "") for c in "ABCD"})
        return await _task_form(request, ctx, plan_id, values=flat, error=exc)
    return Redirect(f"/tasks/{task.id}")


async def _task_page(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, **extra: Any) -> Template:
    task, plan = await service.task_detail(ctx, task_id)
    draw = await service.draw_detail(ctx, task.draw_id) if task.draw_id else None
    team_view = await teams.teams_view(ctx, task_id)
    inspectors = await trepo.active_inspectors(ctx.session) if team_view.matched else []
    return await _render(
        request,
        "task.html",
        ctx=ctx,
        task=task,
        plan=plan,
        draw=draw,
        teams=team_view,
        inspectors=inspectors,
        department_code=ctx.department.code,
        **extra,
    )


@get("/tasks/{task_id:uuid}")
async def task_page(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID) -> Template:
    return await _task_page(request, ctx, task_id)


async def _task_action(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID, action: Any
) -> Template | Redirect:
    savepoint = await db.begin_nested()
    try:
        await action()
    except DomainError as exc:
        await savepoint.rollback()
        return await _task_page(request, ctx, task_id, error=exc)
    return Redirect(f"/tasks/{task_id}")


@post("/tasks/{task_id:uuid}/announce")
async def announce_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()

    async def action() -> None:
        data = to_struct(clean({"entropy_source": form.get("entropy_source")}), AnnounceRequest)
        await service.announce(ctx, task_id, data)

    return await _task_action(request, ctx, db, task_id, action)


@post("/tasks/{task_id:uuid}/draw")
async def draw_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()

    async def action() -> None:
        await service.run_draw(
            ctx, task_id, to_struct({"public_entropy": form.get("public_entropy", "")}, DrawRequest)
        )

    return await _task_action(request, ctx, db, task_id, action)


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

    async def action() -> None:
        slack = to_struct(clean({"load_slack": form.get("load_slack")}), MatchRequest)
        await teams.match_task(ctx, task_id, slack)

    return await _task_action(request, ctx, db, task_id, action)


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


# The 告知书 (notice) of a drawn enterprise, with its inspection code, is served by services/enterprise/pages.py.


@get("/my/assignments")
async def my_assignments_page(request: Request[Any, Any, Any], ctx: Ctx) -> Template:
    return await _render(request, "assignments.html", ctx=ctx, assignments=await teams.assignments(ctx))


router = Router(
    path="/",
    route_handlers=[
        plans_page,
        new_plan_page,
        create_plan_form,
        plan_page,
        publish_plan_form,
        new_task_page,
        create_task_form,
        task_page,
        announce_form,
        draw_form,
        void_form,
        match_form,
        adjust_form,
        my_assignments_page,
    ],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
)
