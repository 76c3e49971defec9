"""API of the enterprise's side: the department's visits and codes, the overseer's views, and the public scan,
evaluation, self-service and 信用修复 guidance (no login)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure.throttle import Limiter
from services.enterprise import oversight, scan, service
from services.enterprise.schemas import (
    AlertOut,
    BurdenOut,
    BurdenWarning,
    CreditRepair,
    EnterpriseLookup,
    EnterpriseView,
    EvaluationDone,
    EvaluationIn,
    EvaluationsOut,
    FindingsOut,
    JointProposal,
    OtherVisitCreate,
    ProposalOut,
    ScanOut,
    VisitCancel,
    VisitDateSet,
    VisitOut,
    VisitRegistered,
)
from services.planning.public import provide_public_session
from shared.context import Ctx
from shared.errors import InvalidInput
from shared.ratelimit import TooManyRequests, client_address
from shared.runtime import Runtime
from shared.tenancy import anonymous_scope
from shared.web.guards import (
    current_principal,
    provide_ctx,
    provide_db_session,
    requires_department,
    requires_login,
    requires_roles,
)
from shared.web.params import OptionalYear, PathId, PathUscc, QueryText

# Scans, evaluations and self-service lookups per client address and minute, under the public site's limit
# (``SPOTCHECK_PUBLIC_SEARCH_PER_MINUTE``): codes are unguessable, and this keeps anyone from trying.
_limiter = Limiter("enterprise-public")


async def check_rate(request: Request[Any, Any, Any]) -> None:
    runtime: Runtime = request.app.state.runtime
    limit = int(request.app.state.settings.app.public_search_per_minute)
    if not await _limiter.allow(runtime.arq, client_address(request), limit):
        raise TooManyRequests("查询过于频繁，请一分钟后再试", field="code")


async def department_names(request: Request[Any, Any, Any], region: str) -> dict[str, str]:
    return {d.code: d.name for d in await request.app.state.departments.in_region(region)}


async def department_names_by_id(request: Request[Any, Any, Any], region: str) -> dict[uuid.UUID, str]:
    return {d.id: d.name for d in await request.app.state.departments.in_region(region)}


def year_or_now(year: int | None) -> int:
    return year or dt.date.today().year


# ---- the department --------------------------------------------------------------------------------------------


@get("/api/tasks/{task_id:uuid}/visits")
async def task_visits(request: Request[Any, Any, Any], ctx: Ctx, task_id: uuid.UUID) -> list[VisitOut]:
    names = await department_names(request, ctx.department.region_code)
    return await service.ensure_task_visits(ctx, task_id, names)


@get("/api/visits")
async def list_visits(ctx: Ctx) -> list[VisitOut]:
    return await service.list_visits(ctx)


@post("/api/visits")
async def register_visit(ctx: Ctx, data: OtherVisitCreate) -> VisitRegistered:
    return await service.register_other(ctx, data)


@post("/api/visits/{visit_id:uuid}/date", status_code=200)
async def set_visit_date(ctx: Ctx, visit_id: uuid.UUID, data: VisitDateSet) -> VisitRegistered:
    return await service.set_visit_date(ctx, visit_id, data)


@post("/api/visits/{visit_id:uuid}/cancel", status_code=200)
async def cancel_visit(ctx: Ctx, visit_id: uuid.UUID, data: VisitCancel) -> VisitOut:
    return await service.cancel_visit(ctx, visit_id, data)


@get("/api/visits/burden")
async def burden_preview(ctx: Ctx, uscc: QueryText = None, date: QueryText = None) -> list[BurdenWarning]:
    """What another visit to the enterprise on ``date`` would meet: the thresholds its day, week and month reach."""
    if not uscc:
        raise InvalidInput("请填写统一社会信用代码", field="uscc")
    try:
        day = dt.date.fromisoformat(date or "")
    except ValueError as exc:
        raise InvalidInput("日期格式应为 2023-05-01", field="date") from exc
    return await service.burden_on(ctx, uscc.upper(), day)


department_router = Router(
    path="/",
    route_handlers=[task_visits, list_visits, register_visit, set_visit_date, cancel_visit, burden_preview],
    guards=[requires_login, requires_department],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    tags=["enterprise"],
)


# ---- the county overseer ---------------------------------------------------------------------------------------


@get("/api/oversight/burden")
async def burden_api(
    request: Request[Any, Any, Any], db: AsyncSession, year: OptionalYear = None
) -> BurdenOut:
    return await oversight.burden(db, current_principal(request).region_code, year_or_now(year))


@get("/api/oversight/alerts")
async def alerts_api(
    request: Request[Any, Any, Any], db: AsyncSession, year: OptionalYear = None
) -> list[AlertOut]:
    return (await oversight.burden(db, current_principal(request).region_code, year_or_now(year))).alerts


@get("/api/oversight/evaluations")
async def evaluations_api(
    request: Request[Any, Any, Any], db: AsyncSession, year: OptionalYear = None
) -> EvaluationsOut:
    region = current_principal(request).region_code
    return await oversight.evaluations(db, year_or_now(year), await department_names_by_id(request, region))


@get("/api/oversight/findings-by-class")
async def findings_api(
    request: Request[Any, Any, Any], db: AsyncSession, year: OptionalYear = None
) -> FindingsOut:
    region = current_principal(request).region_code
    return await oversight.findings(db, year_or_now(year), await department_names_by_id(request, region))


@post("/api/oversight/joint-proposals", status_code=200)
async def propose_joint_visit(
    request: Request[Any, Any, Any], db: AsyncSession, data: JointProposal
) -> ProposalOut:
    principal = current_principal(request)
    names = await department_names_by_id(request, principal.region_code)
    return await oversight.propose_joint_visit(
        request.app.state.runtime, db, principal.region_code, principal.name, data, names
    )


overseer_router = Router(
    path="/",
    route_handlers=[burden_api, alerts_api, evaluations_api, findings_api, propose_joint_visit],
    guards=[requires_login, requires_roles("county-overseer")],
    dependencies={"db": Provide(provide_db_session)},
    tags=["enterprise"],
)


# ---- the public (no login) ---------------------------------------------------------------------------------------


@get("/api/public/visits/{code:str}", exclude_from_auth=True)
async def scan_api(request: Request[Any, Any, Any], public_db: AsyncSession, code: PathId) -> ScanOut:
    await check_rate(request)
    return await scan.scan(public_db, code)


@post("/api/public/visits/{code:str}/evaluation", exclude_from_auth=True, status_code=201)
async def evaluation_api(request: Request[Any, Any, Any], code: PathId, data: EvaluationIn) -> EvaluationDone:
    await check_rate(request)
    runtime: Runtime = request.app.state.runtime
    async with runtime.unit_of_work(anonymous_scope()) as session:
        return await scan.evaluate(session, code, data)


@post("/api/public/enterprise", exclude_from_auth=True, status_code=200)
async def enterprise_api(
    request: Request[Any, Any, Any], public_db: AsyncSession, data: EnterpriseLookup
) -> EnterpriseView:
    await check_rate(request)
    return await scan.enterprise_view(public_db, data)


@get("/api/public/credit-repair/{region:str}", exclude_from_auth=True)
async def credit_repair_api(public_db: AsyncSession, region: PathUscc) -> CreditRepair:
    return await scan.credit_repair(public_db, region)


public_router = Router(
    path="/",
    route_handlers=[scan_api, evaluation_api, enterprise_api, credit_repair_api],
    dependencies={"public_db": Provide(provide_public_session)},
    tags=["public"],
)
