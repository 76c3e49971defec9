"""The draw ceremony of a task: announce (freeze the list, commit to a secret), draw, void (rules; SQL in
draw_repository.py). Large populations run as background jobs (jobs.py) through the same functions."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from services.draw import fast, protocol
from services.planning import draw_repository as drepo
from services.planning import repository as repo
from services.planning.extension import joint_plans
from services.planning.lookups import plan_row, task_row
from services.planning.rows import DrawResult, NewDraw, NewPublicDraw, PlanRow, TaskRow
from services.planning.schemas import (
    AnnounceRequest,
    DrawOut,
    DrawRequest,
    DrawStatus,
    PartnerGap,
    PlanStatus,
    QueuedOut,
    TaskStatus,
    VoidRequest,
)
from shared import audit, jobs
from shared.context import Ctx
from shared.errors import Conflict, InvalidInput, NotFound
from shared.settings import large_draw_threshold


def _exclusion_window(task: TaskRow, months: int | None = None) -> dt.date | None:
    """The first day of the months before the task's window that count as "recently checked": the task's own
    exclusion, or ``months`` (the county's cool-down)."""
    months = task.exclude_checked_within_months if months is None else months
    if not months:
        return None
    start = task.start_month
    total = start.year * 12 + (start.month - 1) - months
    return dt.date(total // 12, total % 12 + 1, 1)


def _cooldown_stated(cooldown: int | None, summary: dict[str, int]) -> dict[str, int]:
    """The county's cool-down as the announcement states it (nothing without one)."""
    if not cooldown:
        return {}
    return {"cooldown_months": cooldown, "county_cooldown": summary["county_cooldown"]}


def _draw_task_number(plan: PlanRow, task: TaskRow) -> str:
    # The draw binds to the plan and task numbers together: "2023001/001号" is unique per department.
    return f"{plan.number}/{task.number}"


async def announce(
    ctx: Ctx, task_id: uuid.UUID, data: AnnounceRequest, *, in_job: bool = False
) -> DrawOut | QueuedOut:
    """Freeze the eligible list, commit to a secret and publish both before anyone can know the result.

    Large populations are handed to a background job (the request returns 202 and the task shows 公告中)."""
    ctx.require_writer()
    task = await task_row(ctx, task_id, lock=True)
    plan = await plan_row(ctx, task.plan_id)
    if plan.status != PlanStatus.PUBLISHED:
        raise Conflict("计划发布后才能公告抽取", field="plan_status")
    departments: list[str] = []
    if plan.kind == "部门联合":
        departments = [ctx.department.name, *await joint_plans().require_partners(ctx, plan.id)]
    if task.status != (TaskStatus.ANNOUNCING if in_job else TaskStatus.DRAFT):
        raise Conflict(f"任务当前状态为“{task.status}”，每个任务只能抽取一次", field="status")
    per_class = task.ratio_mode == "per_class"
    recent_since = _exclusion_window(task)
    cooldown = await drepo.county_cooldown_months(ctx.session)
    if not in_job and await drepo.in_scope_exceeds(ctx.session, task.scope, large_draw_threshold()):
        return await _queue(
            ctx, task_id, TaskStatus.ANNOUNCING, "planning.announce", entropy_source=data.entropy_source
        )
    with fast.phase("announce.fetch"):
        lines, summary = await drepo.eligible_population(
            ctx.session,
            task.scope,
            per_class=per_class,
            recent_since=recent_since,
            year=plan.year,
            annual_cap=task.annual_cap,
            cooldown_since=_exclusion_window(task, cooldown) if cooldown else None,
        )
    if per_class and summary["unclassified"]:
        raise Conflict(
            f"范围内有 {summary['unclassified']} 家企业未标注信用风险分类，请先补充分类或改用统一比例",
            field="risk_class",
        )
    if plan.kind == "部门联合":
        intersect = bool(task.scope.get("intersect_partners"))
        lines = await joint_plans().shared_population(ctx, plan.id, intersect, lines)
    with fast.phase("announce.canonical"):
        canonical = fast.canonicalize(lines)
        del lines
    if len(canonical) == 0:
        raise Conflict("当前筛选条件下没有可抽取的检查对象", field="scope")
    count, population_hash = len(canonical), canonical.population_hash
    secret = protocol.new_secret()
    draw_id = uuid.uuid4()
    with fast.phase("announce.freeze"):
        await drepo.insert_draw(
            ctx.session,
            NewDraw(
                id=draw_id,
                tenant_id=ctx.tenant_id,
                task_id=task_id,
                task_number=_draw_task_number(plan, task),
                ratios=task.ratios,
                population_hash=population_hash,
                eligible_count=count,
                strata_sizes=canonical.sizes(),
                eligible_list=canonical.data,
                excluded={
                    "recently_checked": summary["recently_checked"],
                    "at_annual_cap": summary["at_annual_cap"],
                    **_cooldown_stated(cooldown, summary),
                },
                commitment=protocol.commitment(secret),
                secret=secret,
                entropy_source=data.entropy_source,
                announced_by=ctx.principal.name,
            ),
        )
    await repo.set_task_status(ctx.session, task_id, TaskStatus.ANNOUNCED)
    await drepo.insert_public_draw(
        ctx.session,
        NewPublicDraw(
            draw_id=draw_id,
            task_id=task_id,
            department_code=ctx.department.code,
            department_name=ctx.department.name,
            region_code=ctx.department.region_code,
            plan_number=plan.number,
            plan_name=plan.name,
            task_number=task.number,
            protocol_task_number=_draw_task_number(plan, task),
            task_name=task.name,
            ratios=task.ratios,
            population_hash=population_hash,
            eligible_count=count,
            commitment=protocol.commitment(secret),
            entropy_source=data.entropy_source,
            departments=departments,
            exclusions=_cooldown_stated(cooldown, summary),
        ),
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "draw.announce",
        "task",
        task_id,
        {
            "draw_id": str(draw_id),
            "population_hash": population_hash,
            "eligible": count,
            "commitment": protocol.commitment(secret),
            "entropy_source": data.entropy_source,
        },
    )
    return await draw_detail(ctx, draw_id, with_selected=False)


async def _queue(ctx: Ctx, task_id: uuid.UUID, status: TaskStatus, job: str, **kwargs: str) -> QueuedOut:
    await repo.set_task_status(ctx.session, task_id, status)
    job_id = await jobs.defer(
        ctx.session,
        job,
        ctx.tenant_id,
        task_id=str(task_id),
        actor=msgspec.to_builtins(ctx.principal),
        **kwargs,
    )
    await audit.record(
        ctx.session, ctx.tenant_id, ctx.actor, f"{job}.queued", "task", task_id, {"job": str(job_id)}
    )
    return QueuedOut(
        task_id=task_id,
        status=status,
        job_id=job_id,
        message="对象较多，已转入后台处理，完成后将通知您并在任务页显示结果",
    )


async def run_draw(
    ctx: Ctx, task_id: uuid.UUID, data: DrawRequest, *, in_job: bool = False
) -> DrawOut | QueuedOut:
    ctx.require_writer()
    task = await task_row(ctx, task_id, lock=True)
    if task.draw_id is None:
        raise Conflict("请先公告抽取（冻结名单并公布承诺值）", field="status")
    draw = await drepo.get_draw(ctx.session, task.draw_id, lock=True)
    assert draw is not None
    if draw.status != DrawStatus.ANNOUNCED or task.status != (
        TaskStatus.DRAWING if in_job else TaskStatus.ANNOUNCED
    ):
        raise Conflict(f"该任务当前为“{task.status}”，不能再次抽取", field="status")
    if draw.entropy_source != AnnounceRequest().entropy_source and not data.public_entropy.strip():
        raise InvalidInput(
            f"公告的公共随机数来源为“{draw.entropy_source}”，请填写其数值", field="public_entropy"
        )
    if not in_job and draw.eligible_count > large_draw_threshold():
        return await _queue(
            ctx, task_id, TaskStatus.DRAWING, "planning.draw", public_entropy=data.public_entropy
        )
    secret = await drepo.draw_secret(ctx.session, draw.id)
    if secret is None:
        raise Conflict("只有发起抽取的部门可以执行抽取", field="draw_id")
    with fast.phase("draw.load"):
        canonical = fast.from_canonical(await drepo.eligible_list(ctx.session, draw.id))
    result = fast.draw(canonical, dict(draw.ratios), secret, draw.task_number, data.public_entropy)
    if result.population_hash != draw.population_hash:
        raise Conflict("冻结名单与公告的名单哈希不一致，抽取已中止", field="population_hash")
    drawn = [u for ranked in result.selected.values() for u in ranked]
    with fast.phase("draw.persist"):
        names = await drepo.insert_selected(ctx.session, ctx.tenant_id, draw.id, result.selected)
    if len(names) != len(drawn):
        missing = [u for u in drawn if u not in names]
        raise Conflict(
            f"抽中的企业 {'、'.join(missing[:3])} 已不在本部门名录库中，抽取已中止", field="registry"
        )
    with fast.phase("draw.publish"):
        drawn_at = await drepo.mark_drawn(
            ctx.session, draw.id, data.public_entropy, result.seed, len(drawn), ctx.principal.name
        )
        await repo.set_task_status(ctx.session, task_id, TaskStatus.DRAWN)
        await drepo.publish_draw_result(
            ctx.session,
            draw.id,
            DrawResult(
                drawn_at=drawn_at,
                selected_count=len(drawn),
                secret=secret.hex(),
                seed=result.seed,
                public_entropy=data.public_entropy,
            ),
            result.selected,
            names,
        )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "draw.run",
        "task",
        task_id,
        {
            "draw_id": str(draw.id),
            "seed": result.seed,
            "public_entropy": data.public_entropy,
            "selected": {k: len(v) for k, v in result.selected.items()},
        },
    )
    # The selected list can be long at province scale; it is read with GET /api/draws/{id}.
    return await draw_detail(ctx, draw.id, with_selected=False)


async def void_draw(ctx: Ctx, task_id: uuid.UUID, data: VoidRequest) -> DrawOut:
    ctx.require_writer()
    task = await task_row(ctx, task_id, lock=True)
    if task.draw_id is None:
        raise Conflict("该任务尚未公告抽取，无可作废的抽取", field="status")
    draw = await drepo.get_draw(ctx.session, task.draw_id, lock=True)
    assert draw is not None
    if draw.status == DrawStatus.VOIDED:
        raise Conflict("该抽取已作废", field="status")
    voided_at = await drepo.mark_voided(ctx.session, draw.id, data.reason.strip(), ctx.principal.name)
    await repo.set_task_status(ctx.session, task_id, TaskStatus.VOIDED)
    await drepo.publish_void(ctx.session, draw.id, voided_at, data.reason.strip())
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "draw.void",
        "task",
        task_id,
        {"draw_id": str(draw.id), "reason": data.reason.strip()},
    )
    return await draw_detail(ctx, draw.id)


async def draw_detail(ctx: Ctx, draw_id: uuid.UUID, *, with_selected: bool = True) -> DrawOut:
    draw = await drepo.get_draw(ctx.session, draw_id)
    if draw is None:
        raise NotFound("抽取记录不存在", field="draw_id")
    selected = []
    if with_selected and draw.status != DrawStatus.ANNOUNCED:
        selected = await drepo.selected_objects(ctx.session, draw_id)
    return DrawOut(
        id=draw.id,
        task_id=draw.task_id,
        status=draw.status,
        task_number=draw.task_number,
        ratios=draw.ratios,
        population_hash=draw.population_hash,
        eligible_count=draw.eligible_count,
        excluded=draw.excluded,
        commitment=draw.commitment,
        entropy_source=draw.entropy_source,
        announced_at=draw.announced_at,
        public_entropy=draw.public_entropy,
        seed=draw.seed,
        selected_count=draw.selected_count,
        drawn_at=draw.drawn_at,
        void_reason=draw.void_reason,
        selected=selected,
        partner_gaps=await _partner_gaps(ctx, draw.task_id),
    )


async def _partner_gaps(ctx: Ctx, task_id: uuid.UUID) -> list[PartnerGap]:
    task = await task_row(ctx, task_id)
    if (await plan_row(ctx, task.plan_id)).kind != "部门联合" or task.scope.get("intersect_partners"):
        return []
    return await joint_plans().registry_gaps(ctx, task_id)
