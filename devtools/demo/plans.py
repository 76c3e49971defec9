"""The seed document's two internal plans of 宁晋县应急管理局 (附件2), set up on a fresh demo.

Plan 2023001 (危化, May–June) is published, its draw announced and run, and its teams matched, so the public draw
announcement, its proof and the inspectors' task lists have something real to show. Plan 2023002 (工贸,
September–October) is published and left for the person trying the demo to draw. Everything goes through the same
service functions as the API, acting as 李明 (``yjj-planner``), so every step is in the audit trail like any other.
"""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
import structlog
from sqlalchemy import text

from services.identity.departments import department_of
from services.identity.provisioning import department_id
from services.planning import service
from services.planning.adjust import adjust_team
from services.planning.schemas import (
    AdjustRequest,
    AnnounceRequest,
    DrawRequest,
    MatchRequest,
    PlanCreate,
    TaskCreate,
)
from services.planning.teams import match_task
from shared.context import Ctx, Principal
from shared.runtime import Runtime
from shared.tenancy import department_scope

log = structlog.get_logger()

YJJ = "130528-yjj"
# 李明, 执法监督股 planner: the user of the realm file (deploy/keycloak) with this id.
PLANNER = Principal(
    user_id=uuid.UUID("00000000-0000-4000-8000-000000000102"),
    username="yjj-planner",
    name="李明",
    region_code="130528",
    departments=(YJJ,),
    groups=(f"/{YJJ}/zfjdg",),
    roles=frozenset({"planner"}),
    active_department=YJJ,
)
# The demo's two inspector accounts, 张伟 (危化监管股) and 刘洋 (危化监察股): put on one team of 2023001 by a recorded,
# public adjustment (when the random matching has not already chosen them), so that logging in as either shows a
# task to enter results for.
DEMO_INSPECTORS = [
    (0, uuid.UUID("00000000-0000-4000-8000-000000000104"), "张伟"),
    (1, uuid.UUID("00000000-0000-4000-8000-000000000105"), "刘洋"),
]
TABLE_DATE = dt.date(2023, 1, 13)  # 制表时间 of the seed's tables

TASK_2023001: dict[str, object] = {
    "name": "宁晋县应急管理局2023年度危化企业“双随机”内部联合抽查",
    "draw_type": "定向",
    "class_ratios": {"A": "5%", "B": "5%", "C": "5%", "D": "5%"},
    "ratio_note": "5%（运用企业信用风险分级分类开展）",
    "item_codes": ["YJ-001"],
    "item_note": "对危化企业安全生产的检查",
    "scope": {"industries": ["危化"], "direct_supervision_only": True},
    "scope_note": "2023年直接监管危化行业",
    "start_month": "2023-05",
    "end_month": "2023-06",
    "min_inspectors": 2,
}
# The second task differs from the first only in its industry, item and months (附件2).
TASK_2023002 = {
    **TASK_2023001,
    "name": "宁晋县应急管理局2023年度工贸企业“双随机”内部联合抽查",
    "item_codes": ["YJ-002"],
    "item_note": "对工贸企业安全生产的检查",
    "scope": {"industries": ["工贸"], "direct_supervision_only": True},
    "scope_note": "2023年直接监管工贸行业",
    "start_month": "2023-09",
    "end_month": "2023-10",
}
# (joint sections, task) per plan, as in the seed's 附件2.
PLANS = [(["whjgg", "whjcg"], TASK_2023001), (["gmjgg", "gmjcg"], TASK_2023002)]


async def load(runtime: Runtime) -> bool:
    """Set the seed plans up unless the department already has plans. Returns True when it did."""
    tenant = department_id(YJJ)
    async with runtime.unit_of_work(department_scope(tenant)) as session:
        if (await session.execute(text("SELECT count(*) FROM plans"))).scalar_one():
            return False
        ctx = Ctx(session, PLANNER, await department_of(session, tenant))
        tasks = []
        for joint, task in PLANS:
            plan = await service.create_plan(
                ctx,
                PlanCreate(
                    year=2023,
                    kind="内部联合",
                    initiating_section="zfjdg",
                    joint_sections=joint,
                    table_date=TABLE_DATE,
                ),
            )
            created = await service.add_task(ctx, plan.id, msgspec.convert(task, TaskCreate))
            await service.publish_plan(ctx, plan.id)
            tasks.append(created.id)
        first = tasks[0]
        await service.announce(
            ctx, first, AnnounceRequest()
        )  # no public entropy source: the system secret only
        await service.run_draw(ctx, first, DrawRequest())
        teams = (await match_task(ctx, first, MatchRequest())).teams
        on_teams = {str(m.inspector_id) for t in teams for m in t.members}
        for slot, user_id, name in DEMO_INSPECTORS:
            inspector = (
                await session.execute(text("SELECT id FROM inspectors WHERE user_id = :u"), {"u": user_id})
            ).scalar_one()
            if str(inspector) not in on_teams:
                await adjust_team(
                    ctx,
                    first,
                    AdjustRequest(
                        uscc=teams[0].uscc,
                        slot=slot,
                        inspector_id=inspector,
                        reason=f"演示环境：安排演示账号{name}参加检查，便于体验结果录入",
                    ),
                )
    log.info("demo.plans_loaded", department=YJJ, plans=len(PLANS))
    return True
