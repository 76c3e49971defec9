"""Rules of plans, tasks and the draw (no SQL here; see repository.py)."""

from __future__ import annotations

import datetime as dt
import os
import re
import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.draw import fast, protocol
from services.planning import repository as repo
from services.planning.extension import joint_plans
from services.planning.schemas import (
    AnnounceRequest,
    DrawOut,
    DrawRequest,
    PlanCreate,
    PlanOut,
    QueuedOut,
    RiskClass,
    SectionRef,
    TaskCreate,
    TaskOut,
    VoidRequest,
)
from shared import audit, jobs
from shared.context import Ctx
from shared.errors import Conflict, InvalidInput, NotFound


def large_draw_threshold() -> int:
    """Above this many eligible entries, announce and draw run as background jobs (operators may tune it)."""
    return int(os.environ.get("SPOTCHECK_LARGE_DRAW_THRESHOLD", "200000"))


KIND_WORD = {"本部门": "随机抽查", "内部联合": "内部门联合抽查", "部门联合": "部门联合抽查"}
RISK_CLASSES: tuple[RiskClass, ...] = ("A", "B", "C", "D")


# ---- small pure helpers ---------------------------------------------------------------------------------------


def parse_ratio(value: str, field: str) -> str:
    """'5%' or '0.05' → canonical decimal string '0.05' (exact; floats never touch a ratio)."""
    raw = value.strip().replace("％", "%")
    try:
        number = Decimal(raw[:-1]) / 100 if raw.endswith("%") else Decimal(raw)
    except InvalidOperation as exc:
        raise InvalidInput(f"比例格式不正确：{value!r}，请填写如 5% 或 0.05", field=field) from exc
    if not raw.endswith("%") and number > 1:
        raise InvalidInput(f"比例 {value!r} 大于 1；百分比请带 % 号，如 5%", field=field)
    if not (Decimal(0) < number <= Decimal(1)):
        raise InvalidInput(f"比例必须大于 0 且不超过 100%：{value!r}", field=field)
    text_value = format(number.normalize(), "f")
    if not re.fullmatch(r"[0-9]{1,9}(\.[0-9]{1,18})?", text_value):
        raise InvalidInput(f"比例精度过高：{value!r}", field=field)
    return text_value


def parse_month(value: str, field: str) -> dt.date:
    year, month = value.split("-")
    return dt.date(int(year), int(month), 1)


def period_label(start: dt.date, end: dt.date) -> str:
    if start.year == end.year:
        return f"{start.month}月" if start == end else f"{start.month}月-{end.month}月"
    return f"{start.year}年{start.month}月-{end.year}年{end.month}月"


def plan_name(year: int, county: str, department_name: str, kind: str, seq: int) -> str:
    """年度+行政区划+部门+随机抽查+序号; cross-department plans name the county only."""
    if kind == "部门联合":
        return f"{year}年{county}{KIND_WORD[kind]}{seq:03d}"
    return f"{year}年{county}{department_name.removeprefix(county)}{KIND_WORD[kind]}{seq:03d}"


def plan_number(year: int, kind: str, seq: int) -> str:
    return f"{'联' if kind == '部门联合' else ''}{year}{seq:03d}"


def task_number(kind: str, seq: int) -> str:
    return f"联{seq:03d}" if kind == "部门联合" else f"{seq:03d}号"


# ---- plans ----------------------------------------------------------------------------------------------------


async def county_name(session: AsyncSession, region_code: str) -> str:
    return str(
        (
            await session.execute(text("SELECT name FROM regions WHERE code = :c"), {"c": region_code})
        ).scalar_one()
    )


def _section_ids(sections: dict[str, dict[str, Any]], codes: list[str], field: str) -> list[uuid.UUID]:
    ids = []
    for index, code in enumerate(codes):
        if code not in sections:
            raise InvalidInput(f"本部门没有编码为 {code} 的股室", field=f"{field}[{index}]")
        ids.append(sections[code]["id"])
    if len(set(ids)) != len(ids):
        raise InvalidInput("联合股室不能重复", field=field)
    return ids


async def create_plan(ctx: Ctx, data: PlanCreate) -> PlanOut:
    ctx.require_writer()
    if data.kind == "部门联合":
        raise InvalidInput("部门联合抽查计划由牵头部门在“联合抽查”中发起", field="kind")
    sections = await repo.sections_by_code(ctx.session)
    initiating = _section_ids(sections, [data.initiating_section], "initiating_section")[0]
    joint = _section_ids(sections, data.joint_sections, "joint_sections")
    if data.kind == "内部联合":
        if not joint:
            raise InvalidInput("内部联合抽查至少需要一个联合股室", field="joint_sections")
        if initiating in joint:
            raise InvalidInput("发起股室不能同时作为联合股室", field="joint_sections")
    elif joint:
        raise InvalidInput("本部门抽查不设联合股室", field="joint_sections")
    seq = await repo.next_number(ctx.session, ctx.tenant_id, data.year, "plan")
    county = await county_name(ctx.session, ctx.department.region_code)
    plan_id = uuid.uuid4()
    values = {
        "id": plan_id,
        "tenant_id": ctx.tenant_id,
        "number": plan_number(data.year, data.kind, seq),
        "seq": seq,
        "name": plan_name(data.year, county, ctx.department.name, data.kind, seq),
        "year": data.year,
        "kind": data.kind,
        "initiating_section_id": initiating,
        "joint_section_ids": joint,
        "table_date": data.table_date or dt.date.today(),
        "created_by": ctx.principal.name,
    }
    await repo.insert_plan(ctx.session, values)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "plan.create",
        "plan",
        plan_id,
        {"number": values["number"], "name": values["name"]},
    )
    return await plan_detail(ctx, plan_id)


async def plan_row(ctx: Ctx, plan_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    """A plan of the current department (or visible to it as a partner); 404 otherwise."""
    plan = await repo.get_plan(ctx.session, plan_id, lock=lock)
    if plan is None:
        raise NotFound("抽查计划不存在", field="plan_id")
    return plan


def _refs(ids: list[uuid.UUID], by_id: dict[uuid.UUID, dict[str, Any]]) -> list[SectionRef]:
    return [SectionRef(by_id[i]["code"], by_id[i]["name"]) for i in ids if i in by_id]


async def _task_out(ctx: Ctx, task: dict[str, Any], by_id: dict[uuid.UUID, dict[str, Any]]) -> TaskOut:
    items = await repo.items_by_id(ctx.session, list(task["item_ids"]))
    initiating = _refs([task["initiating_section_id"]], by_id) if task["initiating_section_id"] else []
    return TaskOut(
        id=task["id"],
        plan_id=task["plan_id"],
        number=task["number"],
        name=task["name"],
        draw_type=task["draw_type"],
        ratio_mode=task["ratio_mode"],
        ratios=task["ratios"],
        ratio_note=task["ratio_note"],
        items=[i["name"] for i in items],
        item_note=task["item_note"],
        scope=task["scope"],
        scope_note=task["scope_note"],
        initiating_section=initiating[0] if initiating else None,
        joint_sections=_refs(list(task["joint_section_ids"]), by_id),
        start_month=task["start_month"].strftime("%Y-%m"),
        end_month=task["end_month"].strftime("%Y-%m"),
        period_label=period_label(task["start_month"], task["end_month"]),
        min_inspectors=task["min_inspectors"],
        exclude_checked_within_months=task["exclude_checked_within_months"],
        annual_cap=task["annual_cap"],
        status=task["status"],
        draw_id=task["draw_id"],
    )


async def plan_detail(ctx: Ctx, plan_id: uuid.UUID) -> PlanOut:
    plan = await plan_row(ctx, plan_id)
    by_id = await repo.sections_by_id(ctx.session)
    tasks = [await _task_out(ctx, t, by_id) for t in await repo.list_tasks(ctx.session, plan_id)]
    initiating = _refs([plan["initiating_section_id"]], by_id) if plan["initiating_section_id"] else []
    return PlanOut(
        id=plan["id"],
        number=plan["number"],
        name=plan["name"],
        year=plan["year"],
        kind=plan["kind"],
        initiating_section=initiating[0] if initiating else None,
        joint_sections=_refs(list(plan["joint_section_ids"]), by_id),
        table_date=plan["table_date"],
        status=plan["status"],
        created_by=plan["created_by"],
        tasks=tasks,
    )


async def list_plans(ctx: Ctx, year: int | None = None) -> list[PlanOut]:
    if year is not None and not 2000 <= year <= 2100:
        raise InvalidInput("年度应在 2000–2100 之间", field="year")
    return [await plan_detail(ctx, p["id"]) for p in await repo.list_plans(ctx.session, year)]


async def publish_plan(ctx: Ctx, plan_id: uuid.UUID) -> PlanOut:
    ctx.require_writer()
    plan = await plan_row(ctx, plan_id, lock=True)
    if plan["status"] != "草稿":
        raise Conflict(f"计划当前状态为“{plan['status']}”，不能发布", field="status")
    if not await repo.list_tasks(ctx.session, plan_id):
        raise Conflict("计划至少需要一个抽查任务才能发布", field="tasks")
    await repo.set_plan_status(ctx.session, plan_id, "已发布")
    await audit.record(ctx.session, ctx.tenant_id, ctx.actor, "plan.publish", "plan", plan_id)
    return await plan_detail(ctx, plan_id)


# ---- tasks ----------------------------------------------------------------------------------------------------


def _ratios(data: TaskCreate) -> tuple[str, dict[str, str]]:
    if data.class_ratios is not None and data.ratio is not None:
        raise InvalidInput("统一比例与分类比例只能填写一种", field="class_ratios")
    if data.class_ratios is not None:
        missing = [c for c in RISK_CLASSES if c not in data.class_ratios]
        if missing:
            raise InvalidInput(f"分类比例缺少信用风险等级 {'、'.join(missing)}", field="class_ratios")
        return "per_class", {c: parse_ratio(data.class_ratios[c], f"class_ratios.{c}") for c in RISK_CLASSES}
    if data.ratio is None:
        raise InvalidInput("请填写抽查比例", field="ratio")
    return "overall", {"ALL": parse_ratio(data.ratio, "ratio")}


async def add_task(ctx: Ctx, plan_id: uuid.UUID, data: TaskCreate) -> TaskOut:
    ctx.require_writer()
    plan = await plan_row(ctx, plan_id, lock=True)
    if plan["status"] != "草稿":
        raise Conflict("只有草稿状态的计划可以添加任务", field="status")
    ratio_mode, ratios = _ratios(data)
    start, end = parse_month(data.start_month, "start_month"), parse_month(data.end_month, "end_month")
    if end < start:
        raise InvalidInput("结束月份不能早于开始月份", field="end_month")
    if start.year != plan["year"]:
        raise InvalidInput(f"抽查时间应在计划年度 {plan['year']} 年内", field="start_month")
    scope = _scope_dict(data)
    items = await repo.items_by_code(ctx.session, data.item_codes)
    for index, code in enumerate(data.item_codes):
        if code not in items:
            raise InvalidInput(f"抽查事项 {code} 不在本部门事项清单中", field=f"item_codes[{index}]")
    sections = await repo.sections_by_code(ctx.session)
    initiating = plan["initiating_section_id"]
    if data.initiating_section is not None:
        initiating = _section_ids(sections, [data.initiating_section], "initiating_section")[0]
    joint = list(plan["joint_section_ids"])
    if data.joint_sections is not None:
        joint = _section_ids(sections, data.joint_sections, "joint_sections")
    if plan["kind"] == "内部联合" and not joint:
        raise InvalidInput("内部联合抽查任务需要联合股室", field="joint_sections")
    # Task numbers run per department and year across plans, as in the seed (2023001 → 001号, 2023002 → 002号).
    series = "joint_task" if plan["kind"] == "部门联合" else "task"
    seq = await repo.next_number(ctx.session, ctx.tenant_id, plan["year"], series)
    task_id = uuid.uuid4()
    await repo.insert_task(
        ctx.session,
        {
            "id": task_id,
            "tenant_id": ctx.tenant_id,
            "plan_id": plan_id,
            "number": task_number(plan["kind"], seq),
            "seq": seq,
            "name": data.name.strip(),
            "draw_type": data.draw_type,
            "ratio_mode": ratio_mode,
            "ratios": ratios,
            "ratio_note": data.ratio_note,
            "item_ids": [items[c]["id"] for c in data.item_codes],
            "item_note": data.item_note,
            "scope": scope,
            "scope_note": data.scope_note,
            "initiating_section_id": initiating,
            "joint_section_ids": joint,
            "start_month": start,
            "end_month": end,
            "min_inspectors": data.min_inspectors,
            "exclude_checked_within_months": data.exclude_checked_within_months,
            "annual_cap": data.annual_cap,
            "created_by": ctx.principal.name,
        },
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "task.create",
        "task",
        task_id,
        {"plan": plan["number"], "ratios": ratios, "scope": scope},
    )
    task = await repo.get_task(ctx.session, task_id)
    assert task is not None
    return await _task_out(ctx, task, await repo.sections_by_id(ctx.session))


def _scope_dict(data: TaskCreate) -> dict[str, Any]:
    scope: dict[str, Any] = msgspec.to_builtins(data.scope)
    if data.draw_type == "不定向" and scope:
        raise InvalidInput("不定向抽查面向整个检查对象名录库，不能设置筛选条件", field="scope")
    if data.draw_type == "定向" and not scope:
        raise InvalidInput("定向抽查需要至少一个筛选条件（行业、标签、风险等级等）", field="scope")
    return scope


async def task_row(ctx: Ctx, task_id: uuid.UUID, *, lock: bool = False) -> dict[str, Any]:
    """A task visible to the current department; 404 otherwise."""
    task = await repo.get_task(ctx.session, task_id, lock=lock)
    if task is None:
        raise NotFound("抽查任务不存在", field="task_id")
    return task


async def task_detail(ctx: Ctx, task_id: uuid.UUID) -> tuple[TaskOut, PlanOut]:
    task = await task_row(ctx, task_id)
    return await _task_out(ctx, task, await repo.sections_by_id(ctx.session)), await plan_detail(
        ctx, task["plan_id"]
    )


# ---- the draw -------------------------------------------------------------------------------------------------


def _exclusion_window(task: dict[str, Any]) -> dt.date | None:
    months = task["exclude_checked_within_months"]
    if not months:
        return None
    start: dt.date = task["start_month"]
    total = start.year * 12 + (start.month - 1) - months
    return dt.date(total // 12, total % 12 + 1, 1)


async def announce(
    ctx: Ctx, task_id: uuid.UUID, data: AnnounceRequest, *, in_job: bool = False
) -> DrawOut | QueuedOut:
    """Freeze the eligible list, commit to a secret and publish both before anyone can know the result.

    Large populations are handed to a background job (the request returns 202 and the task shows 公告中)."""
    ctx.require_writer()
    task = await task_row(ctx, task_id, lock=True)
    plan = await plan_row(ctx, task["plan_id"])
    if plan["status"] != "已发布":
        raise Conflict("计划发布后才能公告抽取", field="plan_status")
    if plan["kind"] == "部门联合":
        await joint_plans().require_partners(ctx, plan["id"])
    if task["status"] != ("公告中" if in_job else "草稿"):
        raise Conflict(f"任务当前状态为“{task['status']}”，每个任务只能抽取一次", field="status")
    per_class = task["ratio_mode"] == "per_class"
    recent_since = _exclusion_window(task)
    if not in_job and await repo.in_scope_exceeds(ctx.session, task["scope"], large_draw_threshold()):
        return await _queue(ctx, task_id, "公告中", "planning.announce", entropy_source=data.entropy_source)
    with fast.phase("announce.fetch"):
        lines, summary = await repo.eligible_population(
            ctx.session,
            task["scope"],
            per_class=per_class,
            recent_since=recent_since,
            year=plan["year"],
            annual_cap=task["annual_cap"],
        )
    if per_class and summary["unclassified"]:
        raise Conflict(
            f"范围内有 {summary['unclassified']} 家企业未标注信用风险分类，请先补充分类或改用统一比例",
            field="risk_class",
        )
    if plan["kind"] == "部门联合":
        lines = await joint_plans().shared_population(ctx, plan["id"], task["scope"], lines)
    with fast.phase("announce.canonical"):
        canonical = fast.canonicalize(lines)
        del lines
    if len(canonical) == 0:
        raise Conflict("当前筛选条件下没有可抽取的检查对象", field="scope")
    count, population_hash = len(canonical), canonical.population_hash
    secret = protocol.new_secret()
    draw_id = uuid.uuid4()
    with fast.phase("announce.freeze"):
        await repo.insert_draw(
            ctx.session,
            {
                "id": draw_id,
                "tenant_id": ctx.tenant_id,
                "task_id": task_id,
                "task_number": _draw_task_number(plan, task),
                "ratios": task["ratios"],
                "population_hash": population_hash,
                "eligible_count": count,
                "strata_sizes": canonical.sizes(),
                "eligible_list": canonical.data,
                "excluded": {
                    "recently_checked": summary["recently_checked"],
                    "at_annual_cap": summary["at_annual_cap"],
                },
                "commitment": protocol.commitment(secret),
                "secret": secret,
                "entropy_source": data.entropy_source,
                "announced_by": ctx.principal.name,
            },
        )
    await repo.set_task_status(ctx.session, task_id, "已公告")
    await repo.insert_public_draw(
        ctx.session,
        {
            "draw_id": draw_id,
            "task_id": task_id,
            "department_code": ctx.department.code,
            "department_name": ctx.department.name,
            "region_code": ctx.department.region_code,
            "plan_number": plan["number"],
            "plan_name": plan["name"],
            "task_number": task["number"],
            "protocol_task_number": _draw_task_number(plan, task),
            "task_name": task["name"],
            "ratios": task["ratios"],
            "population_hash": population_hash,
            "eligible_count": count,
            "commitment": protocol.commitment(secret),
            "entropy_source": data.entropy_source,
        },
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


async def _queue(ctx: Ctx, task_id: uuid.UUID, status: str, job: str, **kwargs: Any) -> QueuedOut:
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


def _draw_task_number(plan: dict[str, Any], task: dict[str, Any]) -> str:
    # The draw binds to the plan and task numbers together: "2023001/001号" is unique per department.
    return f"{plan['number']}/{task['number']}"


async def run_draw(
    ctx: Ctx, task_id: uuid.UUID, data: DrawRequest, *, in_job: bool = False
) -> DrawOut | QueuedOut:
    ctx.require_writer()
    task = await task_row(ctx, task_id, lock=True)
    if task["draw_id"] is None:
        raise Conflict("请先公告抽取（冻结名单并公布承诺值）", field="status")
    draw = await repo.get_draw(ctx.session, task["draw_id"], lock=True)
    assert draw is not None
    if draw["status"] != "已公告" or task["status"] != ("抽取中" if in_job else "已公告"):
        raise Conflict(f"该任务当前为“{task['status']}”，不能再次抽取", field="status")
    if draw["entropy_source"] != AnnounceRequest().entropy_source and not data.public_entropy.strip():
        raise InvalidInput(
            f"公告的公共随机数来源为“{draw['entropy_source']}”，请填写其数值", field="public_entropy"
        )
    if not in_job and draw["eligible_count"] > large_draw_threshold():
        return await _queue(ctx, task_id, "抽取中", "planning.draw", public_entropy=data.public_entropy)
    secret = await repo.draw_secret(ctx.session, draw["id"])
    if secret is None:
        raise Conflict("只有发起抽取的部门可以执行抽取", field="draw_id")
    with fast.phase("draw.load"):
        canonical = fast.from_canonical(await repo.eligible_list(ctx.session, draw["id"]))
    result = fast.draw(canonical, dict(draw["ratios"]), secret, draw["task_number"], data.public_entropy)
    if result.population_hash != draw["population_hash"]:
        raise Conflict("冻结名单与公告的名单哈希不一致，抽取已中止", field="population_hash")
    drawn = [u for ranked in result.selected.values() for u in ranked]
    with fast.phase("draw.persist"):
        names = await repo.insert_selected(ctx.session, ctx.tenant_id, draw["id"], result.selected)
    if len(names) != len(drawn):
        missing = [u for u in drawn if u not in names]
        raise Conflict(
            f"抽中的企业 {'、'.join(missing[:3])} 已不在本部门名录库中，抽取已中止", field="registry"
        )
    with fast.phase("draw.publish"):
        drawn_at = await repo.mark_drawn(
            ctx.session, draw["id"], data.public_entropy, result.seed, len(drawn), ctx.principal.name
        )
        await repo.set_task_status(ctx.session, task_id, "已抽取")
        await repo.publish_draw_result(
            ctx.session,
            draw["id"],
            {
                "drawn_at": drawn_at,
                "selected_count": len(drawn),
                "secret": secret.hex(),
                "seed": result.seed,
                "public_entropy": data.public_entropy,
            },
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
            "draw_id": str(draw["id"]),
            "seed": result.seed,
            "public_entropy": data.public_entropy,
            "selected": {k: len(v) for k, v in result.selected.items()},
        },
    )
    # The selected list can be long at province scale; it is read with GET /api/draws/{id}.
    return await draw_detail(ctx, draw["id"], with_selected=False)


async def void_draw(ctx: Ctx, task_id: uuid.UUID, data: VoidRequest) -> DrawOut:
    ctx.require_writer()
    task = await task_row(ctx, task_id, lock=True)
    if task["draw_id"] is None:
        raise Conflict("该任务尚未公告抽取，无可作废的抽取", field="status")
    draw = await repo.get_draw(ctx.session, task["draw_id"], lock=True)
    assert draw is not None
    if draw["status"] == "已作废":
        raise Conflict("该抽取已作废", field="status")
    voided_at = await repo.mark_voided(ctx.session, draw["id"], data.reason.strip(), ctx.principal.name)
    await repo.set_task_status(ctx.session, task_id, "已作废")
    await repo.publish_void(ctx.session, draw["id"], voided_at, data.reason.strip())
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "draw.void",
        "task",
        task_id,
        {"draw_id": str(draw["id"]), "reason": data.reason.strip()},
    )
    return await draw_detail(ctx, draw["id"])


async def draw_detail(ctx: Ctx, draw_id: uuid.UUID, *, with_selected: bool = True) -> DrawOut:
    draw = await repo.get_draw(ctx.session, draw_id)
    if draw is None:
        raise NotFound("抽取记录不存在", field="draw_id")
    selected = []
    if with_selected and draw["status"] != "已公告":
        selected = await repo.selected_objects(ctx.session, draw_id)
    return DrawOut(
        id=draw["id"],
        task_id=draw["task_id"],
        status=draw["status"],
        task_number=draw["task_number"],
        ratios=draw["ratios"],
        population_hash=draw["population_hash"],
        eligible_count=draw["eligible_count"],
        excluded=draw["excluded"],
        commitment=draw["commitment"],
        entropy_source=draw["entropy_source"],
        announced_at=draw["announced_at"],
        public_entropy=draw["public_entropy"],
        seed=draw["seed"],
        selected_count=draw["selected_count"],
        drawn_at=draw["drawn_at"],
        void_reason=draw["void_reason"],
        selected=[{k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in s.items()} for s in selected],
    )


async def start_implementation(session: AsyncSession, task_id: uuid.UUID) -> bool:
    """已匹配 → 实施中 when the first result of the task is entered (called by the inspection service)."""
    task = await repo.get_task(session, task_id, lock=True)
    if task is None or task["status"] != "已匹配":
        return False
    await repo.set_task_status(session, task_id, "实施中")
    return True
