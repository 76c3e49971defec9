"""Pages of the department and the overseer: the 告知书 (one enterprise or a whole task, printable on A4), the
inspector's code on the phone, the department's visits (checks outside a random plan, dates, cancellation, alerts)
and the overseer's enterprise-side page (burden ledger, evaluations, findings by risk class)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import segno
from litestar import Request, Router, get, post
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.enterprise import codes, oversight, service
from services.enterprise import repository as repo
from services.enterprise.routes import department_names, department_names_by_id, year_or_now
from services.enterprise.schemas import JointProposal, OtherVisitCreate, VisitCancel, VisitDateSet, VisitOut
from services.planning import records as planning_records
from services.planning import service as planning
from services.reporting.extension import register_oversight_block
from shared.context import WRITERS, Ctx
from shared.errors import DomainError, NotFound
from shared.web.forms import clean, to_struct
from shared.web.guards import (
    current_principal,
    provide_ctx,
    provide_db_session,
    requires_department,
    requires_login,
    requires_roles,
)
from shared.web.pages import page_context
from shared.web.params import OptionalYear, PathUscc


def scan_url(request: Request[Any, Any, Any], code: str) -> str:
    return f"{str(request.base_url).rstrip('/')}/v/{code}"


def qr_svg(url: str, label: str) -> str:
    return str(segno.make(url, error="m").svg_inline(scale=3, title=label))


async def _render(request: Request[Any, Any, Any], template: str, **context: Any) -> Template:
    return Template(f"enterprise/{template}", context={**await page_context(request), **context})


# ---- 告知书 --------------------------------------------------------------------------------------------------------


async def _notices(
    request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, only: str | None
) -> list[dict[str, Any]]:
    names = await department_names(request, ctx.department.region_code)
    visits = {v.uscc: v for v in await service.ensure_task_visits(ctx, task_id, names)}
    cards = await service.task_cards(ctx, task_id, names)
    if only is not None and only not in cards:
        raise NotFound("该企业不在本任务已匹配的检查名单中", field="uscc")
    settings = await repo.county_settings(ctx.session, ctx.department.region_code)
    notices = []
    for uscc, card in cards.items():
        visit = visits.get(uscc)
        if (only is not None and uscc != only) or visit is None:
            continue
        url = scan_url(request, visit.code)
        notices.append(
            {
                "uscc": uscc,
                "card": card,
                "visit": visit,
                "code": codes.grouped(visit.code),
                "secret": codes.grouped(service.secret_of(visit.code), 4),
                "url": url,
                "qr": qr_svg(url, f"检查码 {visit.code}"),
                "phone": settings.supervision_phone,
            }
        )
    return notices


async def _notice_page(
    request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, only: str | None
) -> Template:
    task, plan = await planning.task_detail(ctx, task_id)
    notices = await _notices(request, ctx, task_id, only)
    return await _render(
        request,
        "notice.html",
        ctx=ctx,
        task=task,
        plan=plan,
        notices=notices,
        department=ctx.department,
        contact=ctx.principal.name,
        today=dt.date.today(),
        draw_url=f"{str(request.base_url).rstrip('/')}/public/draws/{task.draw_id}" if task.draw_id else "",
    )


@get("/tasks/{task_id:uuid}/notice/{uscc:str}")
async def notice_page(
    request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, uscc: PathUscc
) -> Template:
    return await _notice_page(request, ctx, task_id, uscc)


@get("/tasks/{task_id:uuid}/notices")
async def notices_page(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID) -> Template:
    return await _notice_page(request, ctx, task_id, None)


# ---- the inspector's phone ---------------------------------------------------------------------------------------


@get("/tasks/{task_id:uuid}/codes/{uscc:str}")
async def code_page(
    request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID, uscc: PathUscc
) -> Template:
    """The public part of the code as a QR for the enterprise to scan (a joint partner's inspector too)."""
    code: str | None = None
    name = uscc
    try:
        names = await department_names(request, ctx.department.region_code)
        visit = await service.visit_of_task(ctx, task_id, uscc, names)
        code, name = visit.code, visit.enterprise_name
    except NotFound:
        code = await repo.public_code(ctx.session, task_id, uscc)
    url = scan_url(request, code) if code else ""
    return await _render(
        request,
        "code.html",
        uscc=uscc,
        name=name,
        task_id=task_id,
        code=codes.grouped(code) if code else None,
        url=url,
        qr=qr_svg(url, f"检查码 {code}") if code else "",
    )


# ---- the department's visits ------------------------------------------------------------------------------------


async def _visits_page(request: Request[Any, Any, Any], ctx: Ctx, **extra: Any) -> Template:
    visits: list[VisitOut] = await service.list_visits(ctx)
    usccs = sorted({v.uscc for v in visits})
    alerts = (
        await repo.alerts(ctx.session, ctx.department.region_code, dt.date.today().year, usccs)
        if usccs
        else []
    )
    inspectors = await planning_records.active_inspectors(ctx)
    return await _render(
        request,
        "visits.html",
        ctx=ctx,
        visits=visits,
        alerts=alerts,
        inspectors=inspectors,
        can_write=ctx.principal.has_any_role(*WRITERS),
        values=extra.pop("values", {"visit_date": dt.date.today().isoformat(), "kind": "投诉举报"}),
        **extra,
    )


@get("/visits")
async def visits_page(request: Request[Any, Any, Any], ctx: Ctx) -> Template:
    return await _visits_page(request, ctx)


@post("/visits/new")
async def register_form(request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession) -> Template | Redirect:
    form = await request.form()
    values = clean(
        {
            "uscc": form.get("uscc"),
            "enterprise_name": form.get("enterprise_name"),
            "kind": form.get("kind"),
            "reason": form.get("reason"),
            "visit_date": form.get("visit_date"),
            "legal_basis": form.get("legal_basis"),
            "inspector_ids": form.getall("inspector_ids", []),
        }
    )
    savepoint = await db.begin_nested()
    try:
        registered = await service.register_other(ctx, to_struct(values, OtherVisitCreate))
    except DomainError as exc:
        await savepoint.rollback()
        return await _visits_page(request, ctx, values=values, error=exc)
    return await _visits_page(request, ctx, registered=registered)


@post("/visits/{visit_id:uuid}/date")
async def date_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, visit_id: uuid.UUID
) -> Template:
    form = await request.form()
    savepoint = await db.begin_nested()
    try:
        dated = await service.set_visit_date(
            ctx, visit_id, to_struct({"visit_date": form.get("visit_date")}, VisitDateSet)
        )
    except DomainError as exc:
        await savepoint.rollback()
        return await _visits_page(request, ctx, error=exc, error_visit=visit_id)
    return await _visits_page(request, ctx, registered=dated)


@post("/visits/{visit_id:uuid}/cancel")
async def cancel_form(
    request: Request[Any, Any, Any], ctx: Ctx, db: AsyncSession, visit_id: uuid.UUID
) -> Template | Redirect:
    form = await request.form()
    savepoint = await db.begin_nested()
    try:
        await service.cancel_visit(ctx, visit_id, to_struct({"reason": form.get("reason", "")}, VisitCancel))
    except DomainError as exc:
        await savepoint.rollback()
        return await _visits_page(request, ctx, error=exc, error_visit=visit_id)
    return Redirect("/visits")


department_pages = Router(
    path="/",
    route_handlers=[notice_page, notices_page, code_page, visits_page, register_form, date_form, cancel_form],
    guards=[requires_login, requires_department],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
)


# ---- the overseer's page, and its block on the dashboard ------------------------------------------------------------


async def _oversight_page(
    request: Request[Any, Any, Any], db: AsyncSession, year: int | None, **extra: Any
) -> Template:
    region = current_principal(request).region_code
    names = await department_names_by_id(request, region)
    shown = year_or_now(year)
    return await _render(
        request,
        "oversight.html",
        year=shown,
        burden=await oversight.burden(db, region, shown),
        evaluations=await oversight.evaluations(db, shown, names),
        findings=await oversight.findings(db, shown, names),
        **extra,
    )


@get("/oversight/enterprise")
async def oversight_enterprise_page(
    request: Request[Any, Any, Any], db: AsyncSession, year: OptionalYear = None
) -> Template:
    return await _oversight_page(request, db, year)


@post("/oversight/enterprise/propose")
async def propose_form(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    form = await request.form()
    principal = current_principal(request)
    names = await department_names_by_id(request, principal.region_code)
    try:
        data = to_struct(clean({"uscc": form.get("uscc")}), JointProposal)
        proposal = await oversight.propose_joint_visit(
            request.app.state.runtime, db, principal.region_code, principal.name, data, names
        )
    except DomainError as exc:
        return await _oversight_page(request, db, None, error=exc)
    return await _oversight_page(request, db, None, proposal=proposal)


async def _dashboard_block(
    request: Request[Any, Any, Any], db: AsyncSession, year: int
) -> tuple[str, dict[str, Any]]:
    principal = current_principal(request)
    names = await department_names_by_id(request, principal.region_code)
    return "enterprise/_oversight_block.html", {
        "year": year,
        "findings": await oversight.findings(db, year, names),
        "overseer": principal.is_overseer,
    }


register_oversight_block(_dashboard_block)

overseer_pages = Router(
    path="/",
    route_handlers=[oversight_enterprise_page, propose_form],
    guards=[requires_login, requires_roles("county-overseer")],
    dependencies={"db": Provide(provide_db_session)},
)
