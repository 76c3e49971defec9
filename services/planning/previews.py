"""What an irreversible step of the ceremony will do, with real numbers, before the planner confirms it.

Each preview reads only (no row changes, nothing audited): 发布计划 (the tasks that become public), 冻结名单并公告
(how many enterprises the list will hold and how many the ratios will draw), 执行抽取 (the frozen counts and the
exact number per stratum), 匹配 (the enterprises and the team size). The pages show them in a confirmation step.
"""

from __future__ import annotations

import uuid

import msgspec

from services.draw import protocol
from services.planning import draw_repository as drepo
from services.planning import repository as repo
from services.planning import teams_repository as trepo
from services.planning.draws import _exclusion_window
from services.planning.lookups import plan_row, task_row
from services.planning.schemas import DrawStatus, TaskStatus
from shared.context import Ctx
from shared.errors import Conflict

STRATUM_WORDS = {"ALL": "全部", "A": "A类", "B": "B类", "C": "C类", "D": "D类", "-": "未标注风险分类"}


class StratumCount(msgspec.Struct, frozen=True):
    label: str  # 全部, A类 …
    eligible: int
    drawn: int


class DrawPreview(msgspec.Struct, frozen=True):
    """The list the announcement would freeze (or has frozen) and what the ratios draw from it."""

    eligible: int
    expected: int
    strata: list[StratumCount]
    unclassified: int = 0  # entries without a risk class: a per-class task cannot be announced
    joint: bool = False  # a joint plan's list may still be narrowed to the partners' registries
    entropy_source: str = ""  # the announced source of public randomness (after the announcement)


class PlanPreview(msgspec.Struct, frozen=True):
    tasks: list[str]  # "001号 宁晋县应急管理局2023年度…"


class MatchPreview(msgspec.Struct, frozen=True):
    enterprises: int
    per_team: int
    inspectors: int  # active inspectors of the department to match from
    joint: bool = False


def _strata(ratios: dict[str, str], sizes: dict[str, int]) -> tuple[int, list[StratumCount]]:
    known = {s: n for s, n in sizes.items() if s in ratios}
    quotas = protocol.compute_quotas(ratios, known) if known else {}
    strata = [
        StratumCount(label=STRATUM_WORDS.get(s, s), eligible=known.get(s, 0), drawn=quotas.get(s, 0))
        for s in ratios
    ]
    return sum(quotas.values()), strata


async def plan_preview(ctx: Ctx, plan_id: uuid.UUID) -> PlanPreview:
    await plan_row(ctx, plan_id)
    tasks = await repo.list_tasks(ctx.session, plan_id)
    return PlanPreview(tasks=[f"{t.number} {t.name}" for t in tasks])


async def announce_preview(ctx: Ctx, task_id: uuid.UUID) -> DrawPreview:
    task = await task_row(ctx, task_id)
    plan = await plan_row(ctx, task.plan_id)
    per_class = task.ratio_mode == "per_class"
    sizes = await drepo.scope_strata(
        ctx.session,
        task.scope,
        per_class=per_class,
        recent_since=_exclusion_window(task),
        year=plan.year,
        annual_cap=task.annual_cap,
    )
    expected, strata = _strata(dict(task.ratios), sizes)
    return DrawPreview(
        eligible=sum(sizes.values()),
        expected=expected,
        strata=strata,
        unclassified=sizes.get("-", 0) if per_class else 0,
        joint=plan.kind == "部门联合",
    )


async def draw_preview(ctx: Ctx, task_id: uuid.UUID) -> DrawPreview:
    task = await task_row(ctx, task_id)
    if task.draw_id is None:
        raise Conflict("请先公告抽取（冻结名单并公布承诺值）", field="status")
    draw = await drepo.get_draw(ctx.session, task.draw_id)
    if draw is None or draw.status != DrawStatus.ANNOUNCED or task.status != TaskStatus.ANNOUNCED:
        raise Conflict(f"该任务当前为“{task.status}”，不能再次抽取", field="status")
    expected, strata = _strata(dict(draw.ratios), dict(draw.strata_sizes))
    return DrawPreview(
        eligible=draw.eligible_count, expected=expected, strata=strata, entropy_source=draw.entropy_source
    )


async def match_preview(ctx: Ctx, task_id: uuid.UUID) -> MatchPreview:
    task = await task_row(ctx, task_id)
    plan = await plan_row(ctx, task.plan_id)
    if task.status != TaskStatus.DRAWN or task.draw_id is None:
        raise Conflict(f"任务当前状态为“{task.status}”，抽取完成后才能匹配检查人员", field="status")
    draw = await drepo.get_draw(ctx.session, task.draw_id)
    return MatchPreview(
        enterprises=(draw.selected_count or 0) if draw else 0,
        per_team=task.min_inspectors,
        inspectors=len(await trepo.active_inspectors(ctx.session)),
        joint=plan.kind == "部门联合",
    )
