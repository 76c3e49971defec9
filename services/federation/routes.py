"""Federation API: joint plans, invitations and responses, partner items, merged teams."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Router, get, post
from litestar.di import Provide

from services.federation import service
from services.identity.auth import provide_db_session, requires_department, requires_login, requires_roles
from services.planning.deps import WRITERS, provide_ctx
from services.planning.service import Ctx

write = [requires_roles(*WRITERS)]


@post("/plans", guards=write)
async def create_joint_plan(ctx: Ctx, data: service.JointPlanCreate) -> dict[str, Any]:
    return await service.create_joint_plan(ctx, data)


@get("/plans/{plan_id:uuid}")
async def get_joint_plan(ctx: Ctx, plan_id: uuid.UUID) -> dict[str, Any]:
    return await service.joint_view(ctx, plan_id)


@post("/plans/{plan_id:uuid}/respond", guards=write, status_code=200)
async def respond(ctx: Ctx, plan_id: uuid.UUID, data: service.Respond) -> dict[str, Any]:
    return await service.respond(ctx, plan_id, data)


@post("/plans/{plan_id:uuid}/items", guards=write, status_code=200)
async def partner_items(ctx: Ctx, plan_id: uuid.UUID, data: service.PartnerItems) -> dict[str, Any]:
    return await service.set_partner_items(ctx, plan_id, data)


@get("/invitations")
async def invitations(ctx: Ctx) -> list[dict[str, Any]]:
    return await service.invitations(ctx)


router = Router(
    path="/api/federation",
    route_handlers=[create_joint_plan, get_joint_plan, respond, partner_items, invitations],
    guards=[requires_login, requires_department],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    tags=["federation"],
)
