"""Federation API: joint plans, invitations and responses, partner items, merged teams."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Request, Router, get, post
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from services.federation import gaps, partners, referrals, results, service, visits
from services.federation.schemas import (
    InvitationOut,
    JointAssignmentOut,
    JointPlanCreate,
    JointPlanView,
    OverlapOut,
    PartnerChange,
    PartnerItems,
    RecordOut,
    ReferralCreate,
    ReferralHandle,
    ReferralOut,
    Respond,
    ResponseOut,
    VisitCreate,
    VisitOut,
)
from services.planning.schemas import PartnerGap
from shared.context import WRITERS, Ctx
from shared.web.guards import (
    current_principal,
    provide_ctx,
    provide_db_session,
    requires_department,
    requires_login,
    requires_roles,
)
from shared.web.params import PathUscc, QueryText, YearNumber

write = [requires_department, requires_roles(*WRITERS)]
dept = [requires_department]


@post("/plans", guards=write)
async def create_joint_plan(ctx: Ctx, data: JointPlanCreate) -> JointPlanView:
    return await service.create_joint_plan(ctx, data)


@get("/plans/{plan_id:uuid}", guards=dept)
async def get_joint_plan(ctx: Ctx, plan_id: uuid.UUID) -> JointPlanView:
    return await service.joint_view(ctx, plan_id)


@post("/plans/{plan_id:uuid}/respond", guards=write, status_code=200)
async def respond(ctx: Ctx, plan_id: uuid.UUID, data: Respond) -> JointPlanView | ResponseOut:
    return await service.respond(ctx, plan_id, data)


@post("/plans/{plan_id:uuid}/items", guards=write, status_code=200)
async def partner_items(ctx: Ctx, plan_id: uuid.UUID, data: PartnerItems) -> JointPlanView:
    return await service.set_partner_items(ctx, plan_id, data)


@post("/plans/{plan_id:uuid}/partners", guards=write, status_code=200)
async def change_partners(ctx: Ctx, plan_id: uuid.UUID, data: PartnerChange) -> JointPlanView:
    return await partners.change_partners(ctx, plan_id, data)


@get("/tasks/{task_id:uuid}/registry-gaps", guards=dept)
async def registry_gaps(ctx: Ctx, task_id: uuid.UUID) -> list[PartnerGap]:
    return await gaps.registry_gaps(ctx, task_id)


@post("/tasks/{task_id:uuid}/registry-gaps/add", guards=write, status_code=200)
async def add_missing(ctx: Ctx, task_id: uuid.UUID) -> gaps.GapsAdded:
    return await gaps.add_missing(ctx, task_id)


@get("/invitations", guards=dept)
async def invitations(ctx: Ctx) -> list[InvitationOut]:
    return await service.invitations(ctx)


# ---- one record per enterprise (一企一表) ------------------------------------------------------------------------
@get("/tasks/{task_id:uuid}/records/{uscc:str}", guards=dept)
async def unified_record(ctx: Ctx, task_id: uuid.UUID, uscc: PathUscc) -> RecordOut:
    return await results.unified_record(ctx, task_id, uscc)


@post("/tasks/{task_id:uuid}/records/{uscc:str}/publish", guards=dept, status_code=200)
async def publish_unified(ctx: Ctx, task_id: uuid.UUID, uscc: PathUscc) -> RecordOut:
    return await results.publish_unified(ctx, task_id, uscc)


@get("/my/assignments", guards=dept)
async def my_joint_assignments(ctx: Ctx) -> list[JointAssignmentOut]:
    return await results.my_joint_assignments(ctx)


# ---- referrals (抄告 / 移送) -----------------------------------------------------------------------------------------
@post("/referrals", guards=dept)
async def create_referral(ctx: Ctx, data: ReferralCreate) -> ReferralOut:
    return await referrals.create_referral(ctx, data)


@get("/referrals", guards=dept)
async def list_referrals(ctx: Ctx, direction: QueryText = None) -> list[ReferralOut]:
    return await referrals.referrals(ctx, direction)


@get("/referrals/{referral_id:uuid}", guards=dept)
async def get_referral(ctx: Ctx, referral_id: uuid.UUID) -> ReferralOut:
    return await referrals.referral(ctx, referral_id)


@post("/referrals/{referral_id:uuid}/handle", guards=dept, status_code=200)
async def handle_referral(ctx: Ctx, referral_id: uuid.UUID, data: ReferralHandle) -> ReferralOut:
    return await referrals.handle_referral(ctx, referral_id, data)


# ---- fewer visits ----------------------------------------------------------------------------------------------
@get("/overlaps", guards=[requires_roles("county-overseer")])
async def overlaps(request: Request[Any, Any, Any], db: AsyncSession, year: YearNumber) -> list[OverlapOut]:
    """The county overseer's list of enterprises several departments plan to inspect in overlapping periods."""
    return await visits.overlaps(db, current_principal(request).region_code, year)


@post("/visits", guards=write)
async def propose_visit(ctx: Ctx, data: VisitCreate) -> VisitOut:
    return await visits.propose_visit(ctx, data)


@post("/visits/{visit_id:uuid}/confirm", guards=write, status_code=200)
async def confirm_visit(ctx: Ctx, visit_id: uuid.UUID) -> VisitOut:
    return await visits.confirm_visit(ctx, visit_id)


@get("/tasks/{task_id:uuid}/visits", guards=dept)
async def task_visits(ctx: Ctx, task_id: uuid.UUID) -> list[VisitOut]:
    return await visits.task_visits(ctx, task_id)


router = Router(
    path="/api/federation",
    route_handlers=[
        create_joint_plan,
        get_joint_plan,
        respond,
        partner_items,
        change_partners,
        registry_gaps,
        add_missing,
        invitations,
        unified_record,
        publish_unified,
        my_joint_assignments,
        create_referral,
        list_referrals,
        get_referral,
        handle_referral,
        overlaps,
        propose_visit,
        confirm_visit,
        task_visits,
    ],
    guards=[requires_login],
    dependencies={"db": Provide(provide_db_session), "ctx": Provide(provide_ctx)},
    tags=["federation"],
)
