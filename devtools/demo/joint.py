"""The seed's joint check 联2023001 (附件3) on a fresh demo: 县应急管理局 leads, 县消防救援大队 joins.

Set up through the same service functions as the API, each step acting as the person who does it in the county:
李明 (``yjj-planner``) creates the plan, 杨帆 (``xf-planner``) accepts and chooses the fire brigade's item, 李明 adds
the task, publishes, announces, draws and matches; then each planner puts its department's demo inspector on the
same enterprise's team by a recorded, public adjustment — 张伟 (``yjj-insp-whjg``) and 黄磊 (``xf-inspector``) — so
that a person trying the demo can carry that enterprise to one published record naming both departments.
"""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import structlog
from sqlalchemy import text

from devtools.demo.plans import PLANNER, YJJ
from services.federation import service as federation
from services.federation.schemas import JointPlanCreate, PartnerItems, Respond
from services.identity.departments import department_of
from services.identity.provisioning import department_id
from services.planning import service
from services.planning.adjust import adjust_team
from services.planning.schemas import AdjustRequest, AnnounceRequest, DrawRequest, MatchRequest, TaskCreate
from services.planning.teams import match_task, teams_view
from shared.context import Ctx, Principal
from shared.errors import DomainError
from shared.runtime import Runtime
from shared.tenancy import department_scope

log = structlog.get_logger()

XF = "130528-xfjy"
# 杨帆, 防火监督科 planner of 县消防救援大队 (deploy/keycloak).
XF_PLANNER = Principal(
    user_id=uuid.UUID("00000000-0000-4000-8000-000000000202"),
    username="xf-planner",
    name="杨帆",
    region_code="130528",
    departments=(XF,),
    groups=(f"/{XF}/fhjdk",),
    roles=frozenset({"planner"}),
    active_department=XF,
)
ZHANG_WEI = uuid.UUID("00000000-0000-4000-8000-000000000104")  # yjj-insp-whjg
HUANG_LEI = uuid.UUID("00000000-0000-4000-8000-000000000203")  # xf-inspector

# 附件3's row 联2023001.
LIAN_2023001: dict[str, object] = {
    "name": "2023年宁晋县危化行业重大危险源企业部门联合随机抽查",
    "draw_type": "定向",
    "class_ratios": {"A": "10%", "B": "10%", "C": "10%", "D": "10%"},
    "ratio_note": "10% (运用企业信用风险分级分类开展)",
    "item_codes": ["YJ-001"],
    "item_note": "1、人员和资质管理情况。 2、工艺管理情况。 3、设备设施管理情况。 4、重大危险源安全管理情况。",
    "scope": {"industries": ["危化"], "tags_all": ["重大危险源"], "direct_supervision_only": True},
    "scope_note": "2023年直接监管危化行业企业",
    "start_month": "2023-05",
    "end_month": "2023-07",
    "min_inspectors": 2,
}
FOUR_TOPICS = ["人员和资质管理情况", "工艺管理情况", "设备设施管理情况", "重大危险源安全管理情况"]
REASON = "演示环境：安排演示账号{name}参加该企业的联合检查，便于体验结果录入与统一公示"


async def _inspector(ctx: Ctx, user_id: uuid.UUID) -> uuid.UUID:
    found = await ctx.session.execute(text("SELECT id FROM inspectors WHERE user_id = :u"), {"u": user_id})
    inspector: uuid.UUID = found.scalar_one()
    return inspector


async def _place(ctx: Ctx, task_id: uuid.UUID, uscc: str, slot: int, user_id: uuid.UUID, name: str) -> bool:
    """Put the department's demo inspector on ``slot`` of ``uscc``'s team; False when a matching rule refuses."""
    inspector = await _inspector(ctx, user_id)
    team = next(t for t in (await teams_view(ctx, task_id)).teams if t.uscc == uscc)
    if any(m.slot == slot and m.inspector_id == inspector for m in team.members):
        return True
    savepoint = await ctx.session.begin_nested()
    try:
        await adjust_team(
            ctx,
            task_id,
            AdjustRequest(uscc=uscc, slot=slot, inspector_id=inspector, reason=REASON.format(name=name)),
        )
    except DomainError:
        await savepoint.rollback()
        return False
    await savepoint.commit()
    return True


async def load(runtime: Runtime) -> bool:
    """Set 联2023001 up unless the lead already has a joint plan. Returns True when it did."""
    lead, partner = department_id(YJJ), department_id(XF)
    async with runtime.unit_of_work(department_scope(lead)) as session:
        if (await session.execute(text("SELECT count(*) FROM plans WHERE kind = '部门联合'"))).scalar_one():
            return False
        ctx = Ctx(session, PLANNER, await department_of(session, lead))
        joint = await federation.create_joint_plan(
            ctx, JointPlanCreate(year=2023, partners=[XF], table_date=dt.date(2023, 1, 13))
        )
        plan_id = joint.plan.id
    async with runtime.unit_of_work(department_scope(partner)) as session:
        ctx = Ctx(session, XF_PLANNER, await department_of(session, partner))
        await federation.respond(ctx, plan_id, Respond(action="accept"))
        await federation.set_partner_items(ctx, plan_id, PartnerItems(item_codes=["XF-001"]))
    async with runtime.unit_of_work(department_scope(lead)) as session:
        ctx = Ctx(session, PLANNER, await department_of(session, lead))
        # 附件3 lists four topics of YJ-001 (which has six check points): the task takes exactly those.
        topics = await session.execute(
            text(
                "SELECT cp.id FROM check_points cp JOIN inspection_items i ON i.id = cp.item_id"
                " WHERE i.code = 'YJ-001' AND cp.content = ANY(:c) ORDER BY cp.seq"
            ),
            {"c": FOUR_TOPICS},
        )
        content = {**LIAN_2023001, "check_point_ids": [str(r.id) for r in topics]}
        task = await service.add_task(ctx, plan_id, msgspec.convert(content, TaskCreate, strict=False))
        await service.publish_plan(ctx, plan_id)
        await service.announce(ctx, task.id, AnnounceRequest())
        await service.run_draw(ctx, task.id, DrawRequest())
        teams = (await match_task(ctx, task.id, MatchRequest())).teams
        chosen = None
        for team in teams:
            if await _place(ctx, task.id, team.uscc, 0, ZHANG_WEI, "张伟"):
                chosen = team.uscc
                break
    if chosen is None:
        log.warning("demo.joint_no_team", task=str(task.id))
        return True
    async with runtime.unit_of_work(department_scope(partner)) as session:
        ctx = Ctx(session, XF_PLANNER, await department_of(session, partner))
        if not await _place(ctx, task.id, chosen, 1, HUANG_LEI, "黄磊"):
            log.warning("demo.joint_partner_not_placed", task=str(task.id), uscc=chosen)
    log.info("demo.joint_loaded", plan=str(plan_id), task=str(task.id), uscc=chosen)
    return True
