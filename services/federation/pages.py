"""Pages for joint plans: the lead's form, and the participants panel with the partner's response."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.federation import gaps, partners, referrals, results, service, visits
from services.federation import repository as frepo
from services.federation.schemas import JointPlanCreate, OverlapOut, PartnerChange, ReferralHandle, Respond
from shared.context import WRITERS, Ctx
from shared.errors import DomainError
from shared.web.fielderrors import convert, error_of
from shared.web.forms import clean, to_struct
from shared.web.guards import (
    current_principal,
    provide_ctx,
    provide_db_session,
    requires_login,
    requires_roles,
)
from shared.web.pages import page_context
from shared.web.params import OptionalYear, PathUscc


async def _render(request: Request[Any, Any, Any], template: str, ctx: Ctx, **context: Any) -> Template:
    base = await page_context(request)
    base["can_write"] = ctx.principal.has_any_role(*WRITERS)
    base["department_code"] = ctx.department.code
    return Template(f"federation/{template}", context={**base, **context})


JOINT_LABELS = {"year": "年度", "partners": "联合部门", "table_date": "制表时间"}


async def _form(request: Request[Any, Any, Any], ctx: Ctx, **extra: Any) -> Template:
    departments = await frepo.departments_in_region(ctx.session, ctx.department.region_code)
    others = [d for code, d in sorted(departments.items()) if code != ctx.department.code]
    return await _render(request, "joint_form.html", ctx, departments=others, **extra)


@get("/federation")
async def federation_home(request: Request[Any, Any, Any], ctx: Ctx) -> Template:
    return await _render(request, "home.html", ctx, invitations=await service.invitations(ctx))


@get("/federation/new")
async def new_joint_plan(request: Request[Any, Any, Any], ctx: Ctx) -> Template:
    return await _form(request, ctx, values={"year": 2023})


@post("/federation/new")
async def create_joint_plan(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession
) -> Template | Redirect:
    form = await request.form()
    values = clean(
        {
            "year": form.get("year"),
            "partners": form.getall("partners", []),
            "table_date": form.get("table_date"),
        }
    )
    data, errors = convert({"partners": [], **values}, JointPlanCreate)
    if data is not None:
        savepoint = await db.begin_nested()
        try:
            joint = await service.create_joint_plan(ctx, data)
        except DomainError as exc:
            await savepoint.rollback()
            errors = error_of(exc)
        else:
            return Redirect(f"/federation/plans/{joint.plan.id}")
    return await _form(request, ctx, values=values, errors=errors, labels=JOINT_LABELS)


@get("/federation/plans/{plan_id:uuid}")
async def joint_plan_page(request: Request[Any, Any, Any], ctx: Ctx, plan_id: uuid.UUID) -> Template:
    return await _render(request, "joint.html", ctx, joint=await service.joint_view(ctx, plan_id))


@post("/federation/plans/{plan_id:uuid}/respond")
async def respond_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, plan_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    savepoint = await db.begin_nested()
    try:
        data = to_struct(clean({"action": form.get("action"), "reason": form.get("reason")}), Respond)
        await service.respond(ctx, plan_id, data)
    except DomainError as exc:
        await savepoint.rollback()
        return await _render(
            request, "joint.html", ctx, joint=await service.joint_view(ctx, plan_id), error=exc
        )
    if form.get("action") == "decline":
        return Redirect("/federation")
    return Redirect(f"/federation/plans/{plan_id}")


@post("/federation/plans/{plan_id:uuid}/partners")
async def partners_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, plan_id: uuid.UUID
) -> Template | Redirect:
    """The lead invites, re-invites, removes or replaces a partner (before any announcement)."""
    form = await request.form()
    savepoint = await db.begin_nested()
    try:
        raw = {k: form.get(k) for k in ("action", "department", "replacement", "reason")}
        await partners.change_partners(ctx, plan_id, to_struct({"reason": "", **clean(raw)}, PartnerChange))
    except DomainError as exc:
        await savepoint.rollback()
        return await _render(
            request, "joint.html", ctx, joint=await service.joint_view(ctx, plan_id), error=exc
        )
    return Redirect(f"/federation/plans/{plan_id}")


@get("/federation/tasks/{task_id:uuid}/registry-gaps")
async def gaps_page(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID) -> Template:
    """The registry gaps of a joint task (a partner: its own), with the one-step action."""
    return await _render(
        request, "gaps.html", ctx, task_id=task_id, gaps=await gaps.registry_gaps(ctx, task_id)
    )


@post("/federation/tasks/{task_id:uuid}/registry-gaps")
async def add_missing_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID
) -> Template:
    """A partner adds the enterprises its registry lacks in one step; the page shows what was added and why
    anything was not."""
    savepoint = await db.begin_nested()
    try:
        done = await gaps.add_missing(ctx, task_id)
    except DomainError as exc:
        await savepoint.rollback()
        found = await gaps.registry_gaps(ctx, task_id)
        return await _render(request, "gaps.html", ctx, task_id=task_id, gaps=found, error=exc)
    return await _render(request, "gaps.html", ctx, task_id=task_id, gaps=done.gaps, done=done)


# ---- one record per enterprise, referrals ----------------------------------------------------------------------
@get("/federation/records/{task_id:uuid}/{uscc:str}")
async def record_page(
    request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, uscc: PathUscc
) -> Template:
    return await _render(
        request,
        "record.html",
        ctx,
        record=await results.unified_record(ctx, task_id, uscc),
        can_publish=ctx.principal.has_any_role(*results.REVIEWERS),
    )


@post("/federation/records/{task_id:uuid}/{uscc:str}/publish")
async def publish_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, task_id: uuid.UUID, uscc: PathUscc
) -> Template | Redirect:
    savepoint = await db.begin_nested()
    try:
        await results.publish_unified(ctx, task_id, uscc)
    except DomainError as exc:
        await savepoint.rollback()
        return await _render(
            request,
            "record.html",
            ctx,
            record=await results.unified_record(ctx, task_id, uscc),
            can_publish=ctx.principal.has_any_role(*results.REVIEWERS),
            error=exc,
        )
    return Redirect(f"/federation/records/{task_id}/{uscc}")


@get("/federation/referrals")
async def referrals_page(request: Request[Any, Any, Any], ctx: Ctx) -> Template:
    return await _render(
        request,
        "referrals.html",
        ctx,
        referrals=await referrals.referrals(ctx),
        steps=referrals.REFERRAL_STEPS[1:],
    )


@post("/federation/referrals/{referral_id:uuid}/handle")
async def handle_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, referral_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    savepoint = await db.begin_nested()
    try:
        data = to_struct(
            clean({"status": form.get("status"), "note": form.get("note") or ""}), ReferralHandle
        )
        await referrals.handle_referral(ctx, referral_id, data)
    except DomainError as exc:
        await savepoint.rollback()
        return await _render(
            request,
            "referrals.html",
            ctx,
            referrals=await referrals.referrals(ctx),
            steps=referrals.REFERRAL_STEPS[1:],
            error=exc,
        )
    return Redirect("/federation/referrals")


@get("/federation/overlaps", guards=[requires_roles("county-overseer")])
async def overlaps_page(
    request: Request[Any, Any, Any], db: AsyncSession, year: OptionalYear = None
) -> Template:
    """The county overseer: enterprises several departments plan to inspect in overlapping periods."""
    year = year or dt.date.today().year
    error, rows = None, list[OverlapOut]()
    try:
        rows = await visits.overlaps(db, current_principal(request).region_code, year)
    except DomainError as exc:
        error = exc
    return Template(
        "federation/overlaps.html",
        context={**await page_context(request), "year": year, "overlaps": rows, "error": error},
    )


router = Router(
    path="/",
    route_handlers=[
        federation_home,
        new_joint_plan,
        create_joint_plan,
        joint_plan_page,
        respond_form,
        partners_form,
        gaps_page,
        add_missing_form,
        record_page,
        publish_form,
        referrals_page,
        handle_form,
        overlaps_page,
    ],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
)
