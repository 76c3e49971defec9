"""Server-rendered pages for planners: plans, tasks, and the draw ceremony (announce → draw → result)."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning import corrections, previews, service, stepper, teams
from services.planning import repository as repo
from services.planning.lookups import points_by_item
from services.planning.schemas import PlanCreate, PlanStatus, TaskCreate
from shared.context import WRITERS, Ctx
from shared.errors import DomainError, InvalidInput
from shared.web.fielderrors import FormErrors, convert, error_of
from shared.web.forms import clean
from shared.web.guards import provide_ctx, provide_db_session, requires_login
from shared.web.pages import page_context
from shared.web.params import OptionalYear

# The labels of the form inputs (error summaries link to them) and the API paths each input holds.
PLAN_LABELS = {
    "year": "年度",
    "kind": "抽查类型",
    "initiating_section": "发起科（股）室",
    "joint_sections": "联合科（股）室",
    "table_date": "制表时间",
    "back_entry": "补录",
}
TASK_LABELS = {
    "name": "任务名称",
    "draw_type": "抽查类型",
    "ratios": "抽查比例",
    **{f"class_{c}": f"{c}类比例" for c in "ABCD"},
    "ratio": "统一比例",
    "ratio_note": "比例说明",
    "item_codes": "抽查事项",
    "item_note": "事项说明",
    "industries": "对象范围 · 行业",
    "tags_all": "对象范围 · 标签",
    "scope_other": "对象范围 · 其他",
    "scope_note": "范围说明",
    "start_month": "抽查开始月份",
    "end_month": "抽查结束月份",
    "min_inspectors": "每家企业最少检查人数",
    "exclude_checked_within_months": "排除近期已检查",
    "annual_cap": "年度检查上限",
    "joint_sections": "联合科（股）室",
    "check_point_ids": "检查要点",
    "reason": "更正理由",
}
TASK_ALIASES = {
    **{f"class_ratios.{c}": f"class_{c}" for c in "ABCD"},
    "class_ratios": "ratios",
    "scope.industries": "industries",
    "scope.tags_all": "tags_all",
    "scope": "scope_other",
    "status": "",
    "joint_sections": "",
    "initiating_section": "",
}


async def render(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    base = await page_context(request)
    ctx: Ctx | None = context.get("ctx")
    base["can_write"] = ctx is not None and ctx.principal.has_any_role(*WRITERS)
    base.update(
        state_label=stepper.state_label,
        slot_word=stepper.slot_word,
        stratum_word=stepper.stratum_word,
        scope_words=stepper.scope_words,
    )
    return Template(f"planning/{template}", context={**base, **context})


@get("/plans")
async def plans_page(request: Request[Any, Any, Any], ctx: Ctx, year: OptionalYear = None) -> Template:
    plans = await service.list_plans(ctx, year)
    by_state = {state.value: sum(1 for p in plans if p.status == state) for state in PlanStatus}
    return await render(request, "plans.html", ctx=ctx, plans=plans, year=year, by_state=by_state)


async def _plan_form(request: Request[Any, Any, Any], ctx: Ctx, **extra: Any) -> Template:
    sections = await repo.sections_by_code(ctx.session)
    return await render(request, "plan_form.html", ctx=ctx, sections=list(sections.values()), **extra)


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
    data, errors = convert(values, PlanCreate)
    if data is not None:
        savepoint = await db.begin_nested()
        try:
            plan = await service.create_plan(ctx, data)
        except DomainError as exc:
            await savepoint.rollback()
            errors = error_of(exc)
        else:
            return Redirect(f"/plans/{plan.id}")
    return await _plan_form(request, ctx, values=values, errors=errors, labels=PLAN_LABELS)


@get("/plans/{plan_id:uuid}")
async def plan_page(request: Request[Any, Any, Any], ctx: Ctx, plan_id: uuid.UUID) -> Template:
    plan = await service.plan_detail(ctx, plan_id)
    changes = await corrections.plan_changes(ctx, plan_id)
    return await render(request, "plan.html", ctx=ctx, plan=plan, changes=changes)


@post("/plans/{plan_id:uuid}/publish")
async def publish_plan_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, plan_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    if form.get("confirm") != "yes":
        # The confirmation step: what publishing does, with the tasks it makes public; nothing changes yet.
        return await render(
            request,
            "confirm_publish.html",
            ctx=ctx,
            plan=await service.plan_detail(ctx, plan_id),
            preview=await previews.plan_preview(ctx, plan_id),
        )
    savepoint = await db.begin_nested()
    try:
        await service.publish_plan(ctx, plan_id)
    except DomainError as exc:
        await savepoint.rollback()
        return await render(
            request, "plan.html", ctx=ctx, plan=await service.plan_detail(ctx, plan_id), error=exc
        )
    return Redirect(f"/plans/{plan_id}")


async def _task_form(request: Request[Any, Any, Any], ctx: Ctx, plan_id: uuid.UUID, **extra: Any) -> Template:
    plan = await service.plan_detail(ctx, plan_id)
    items = await repo.active_items(ctx.session)
    tags = await repo.tags_by_category(ctx.session)
    points = await points_by_item(ctx, [i.id for i in items])
    return await render(
        request, "task_form.html", ctx=ctx, plan=plan, items=items, tags=tags, points=points, **extra
    )


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
            "check_point_ids": form.getall("check_point_ids", []) or None,
        }
    )


@post("/plans/{plan_id:uuid}/tasks/new")
async def create_task_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, plan_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    values = _task_values(form)
    data, errors = convert(values, TaskCreate, TASK_ALIASES)
    _check_ratios(values, errors)
    if data is not None and not errors:
        savepoint = await db.begin_nested()
        try:
            task = await service.add_task(ctx, plan_id, data)
        except DomainError as exc:
            await savepoint.rollback()
            errors = error_of(exc, TASK_ALIASES)
        else:
            return Redirect(f"/tasks/{task.id}")
    flat = {**values, **values.get("scope", {}), "ratio_mode": form.get("ratio_mode")}
    flat.update({f"class_{c}": form.get(f"class_{c}", "") for c in "ABCD"})
    return await _task_form(request, ctx, plan_id, values=flat, errors=errors, labels=TASK_LABELS)


def _check_ratios(values: dict[str, Any], errors: FormErrors) -> None:
    """Each ratio box checked on its own, so all four wrong ones are named at once."""
    boxes = {f"class_{c}": v for c, v in (values.get("class_ratios") or {}).items()}
    if values.get("ratio") is not None:
        boxes["ratio"] = values["ratio"]
    for name, value in boxes.items():
        if name in errors.fields:
            continue
        if not str(value).strip():
            errors.add(name, "请填写比例，如 5%")
            continue
        try:
            service.parse_ratio(str(value), name)
        except InvalidInput as exc:
            errors.add(name, exc.message)


# The 告知书 (notice) of a drawn enterprise, with its inspection code, is served by services/enterprise/pages.py.


@get("/my/assignments")
async def my_assignments_page(request: Request[Any, Any, Any], ctx: Ctx) -> Template:
    return await render(request, "assignments.html", ctx=ctx, assignments=await teams.assignments(ctx))


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
        my_assignments_page,
    ],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
)
