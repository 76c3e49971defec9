"""Rules of plans and tasks (no SQL here; see repository.py), and planning's public surface: the draw ceremony's
functions (draws.py) and the row lookups (lookups.py) are re-exported here."""

from __future__ import annotations

import datetime as dt
import unicodedata
import uuid
from decimal import Decimal

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.planning import repository as repo
from services.planning.draws import announce, draw_detail, run_draw, void_draw
from services.planning.lookups import plan_row, task_row
from services.planning.rows import NewPlan, NewTask, PlanRow, SectionRow, TaskRow, TaskValues
from services.planning.schemas import (
    Kind,
    PlanCreate,
    PlanOut,
    PlanStatus,
    RiskClass,
    SectionRef,
    TaskCreate,
    TaskOut,
    TaskStatus,
)
from services.registry import service as registry
from shared import audit
from shared.boundary import parse_decimal
from shared.context import Ctx
from shared.errors import Conflict, InvalidInput

__all__ = [
    "add_task",
    "announce",
    "back_entry_for",
    "county_name",
    "create_plan",
    "draw_detail",
    "list_plans",
    "period_label",
    "plan_detail",
    "plan_name",
    "plan_number",
    "plan_row",
    "publish_plan",
    "run_draw",
    "start_implementation",
    "task_detail",
    "task_row",
    "void_draw",
]

KIND_WORD = {"本部门": "随机抽查", "内部联合": "内部门联合抽查", "部门联合": "部门联合抽查"}
RISK_CLASSES: tuple[RiskClass, ...] = ("A", "B", "C", "D")


# ---- small pure helpers ---------------------------------------------------------------------------------------


def parse_ratio(value: str, field: str) -> str:
    """'5%' or '0.05' → canonical decimal string '0.05' (exact; floats never touch a ratio). The text is checked as a
    plain decimal before any arithmetic: no exponent, NaN or Infinity can slip past the range check."""
    raw = unicodedata.normalize("NFKC", value).strip()
    percent = raw.endswith("%")
    number = parse_decimal(raw[:-1].strip() if percent else raw, field, what="比例")
    if percent:
        number = number / 100
    elif number > 1:
        raise InvalidInput(f"比例“{value}”大于 1；百分比请带 % 号，如 5%", field=field)
    if not (Decimal(0) < number <= Decimal(1)):
        raise InvalidInput(f"比例必须大于 0 且不超过 100%：“{value}”", field=field)
    return format(number.normalize(), "f")


def parse_month(value: str, field: str) -> dt.date:
    year, month = value.split("-")
    return dt.date(int(year), int(month), 1)


def period_label(start: dt.date, end: dt.date) -> str:
    if start.year == end.year:
        return f"{start.month}月" if start == end else f"{start.month}月-{end.month}月"
    return f"{start.year}年{start.month}月-{end.year}年{end.month}月"


def plan_name(year: int, county: str, department_name: str, kind: Kind, seq: int) -> str:
    """年度+行政区划+部门+随机抽查+序号; cross-department plans name the county only."""
    if kind == "部门联合":
        return f"{year}年{county}{KIND_WORD[kind]}{seq:03d}"
    return f"{year}年{county}{department_name.removeprefix(county)}{KIND_WORD[kind]}{seq:03d}"


def plan_number(year: int, kind: Kind, seq: int) -> str:
    return f"{'联' if kind == '部门联合' else ''}{year}{seq:03d}"


def task_number(kind: Kind, seq: int) -> str:
    return f"联{seq:03d}" if kind == "部门联合" else f"{seq:03d}号"


# ---- plans ----------------------------------------------------------------------------------------------------

BACK_ENTRY = "补录"


def back_entry_for(year: int, requested: bool | None, today: dt.date | None = None) -> bool:
    """Whether a new plan of ``year`` is a back-entry (补录), set once at creation: a plan of a past year is 补录
    (unset means so; a request to enter it as live is refused), a plan of a future year never is."""
    today = today or dt.date.today()
    if year < today.year:
        if requested is False:
            raise InvalidInput(
                f"{year}年的抽查期间已经全部过去，只能以补录方式录入（勾选“补录”），否则无法按期公示和提醒",
                field="back_entry",
            )
        return True
    if requested and year > today.year:
        raise InvalidInput(f"补录只适用于已经过去的抽查期间，{year}年尚未开始", field="back_entry")
    return bool(requested)


def check_task_window(back_entry: bool, start: dt.date, end: dt.date, today: dt.date | None = None) -> None:
    """A live plan's task must not be over before it is entered; a back-entry task must have begun."""
    this_month = (today or dt.date.today()).replace(day=1)
    if not back_entry and end < this_month:
        raise InvalidInput(
            f"抽查时间 {period_label(start, end)} 已经全部过去：已实施的抽查请在补录计划中录入",
            field="end_month",
        )
    if back_entry and start > this_month:
        raise InvalidInput(
            "补录计划的抽查时间不能晚于本月：尚未开始的抽查请在正常计划中录入", field="start_month"
        )


async def county_name(session: AsyncSession, region_code: str) -> str:
    return await repo.county_name(session, region_code)


def _section_ids(sections: dict[str, SectionRow], codes: list[str], field: str) -> list[uuid.UUID]:
    ids = []
    for index, code in enumerate(codes):
        if code not in sections:
            raise InvalidInput(f"本部门没有编码为 {code} 的股室", field=f"{field}[{index}]")
        ids.append(sections[code].id)
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
    back_entry = back_entry_for(data.year, data.back_entry)
    seq = await repo.next_number(ctx.session, ctx.tenant_id, data.year, "plan")
    county = await county_name(ctx.session, ctx.department.region_code)
    plan = NewPlan(
        id=uuid.uuid4(),
        tenant_id=ctx.tenant_id,
        number=plan_number(data.year, data.kind, seq),
        seq=seq,
        name=plan_name(data.year, county, ctx.department.name, data.kind, seq),
        year=data.year,
        kind=data.kind,
        initiating_section_id=initiating,
        joint_section_ids=joint,
        table_date=data.table_date or dt.date.today(),
        created_by=ctx.principal.name,
        back_entry=back_entry,
    )
    await repo.insert_plan(ctx.session, plan)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "plan.create",
        "plan",
        plan.id,
        {"number": plan.number, "name": plan.name, "back_entry": back_entry},
    )
    return await plan_detail(ctx, plan.id)


def _refs(ids: list[uuid.UUID], by_id: dict[uuid.UUID, SectionRow]) -> list[SectionRef]:
    return [SectionRef(by_id[i].code, by_id[i].name) for i in ids if i in by_id]


async def _task_out(ctx: Ctx, task: TaskRow, by_id: dict[uuid.UUID, SectionRow]) -> TaskOut:
    items = await repo.items_by_id(ctx.session, list(task.item_ids))
    initiating = _refs([task.initiating_section_id], by_id) if task.initiating_section_id else []
    return TaskOut(
        id=task.id,
        plan_id=task.plan_id,
        number=task.number,
        name=task.name,
        draw_type=task.draw_type,
        ratio_mode=task.ratio_mode,
        ratios=task.ratios,
        ratio_note=task.ratio_note,
        items=[i.name for i in items],
        item_note=task.item_note,
        scope=task.scope,
        scope_note=task.scope_note,
        initiating_section=initiating[0] if initiating else None,
        joint_sections=_refs(list(task.joint_section_ids), by_id),
        start_month=task.start_month.strftime("%Y-%m"),
        end_month=task.end_month.strftime("%Y-%m"),
        period_label=period_label(task.start_month, task.end_month),
        min_inspectors=task.min_inspectors,
        exclude_checked_within_months=task.exclude_checked_within_months,
        annual_cap=task.annual_cap,
        status=task.status,
        draw_id=task.draw_id,
        check_point_ids=task.check_point_ids,
    )


async def plan_detail(ctx: Ctx, plan_id: uuid.UUID) -> PlanOut:
    plan = await plan_row(ctx, plan_id)
    by_id = await repo.sections_by_id(ctx.session)
    tasks = [await _task_out(ctx, t, by_id) for t in await repo.list_tasks(ctx.session, plan_id)]
    initiating = _refs([plan.initiating_section_id], by_id) if plan.initiating_section_id else []
    return PlanOut(
        id=plan.id,
        number=plan.number,
        name=plan.name,
        year=plan.year,
        kind=plan.kind,
        initiating_section=initiating[0] if initiating else None,
        joint_sections=_refs(list(plan.joint_section_ids), by_id),
        table_date=plan.table_date,
        status=plan.status,
        created_by=plan.created_by,
        tasks=tasks,
        back_entry=plan.back_entry,
    )


async def list_plans(ctx: Ctx, year: int | None = None) -> list[PlanOut]:
    if year is not None and not 2000 <= year <= 2100:
        raise InvalidInput("年度应在 2000–2100 之间", field="year")
    return [await plan_detail(ctx, p.id) for p in await repo.list_plans(ctx.session, year)]


async def publish_plan(ctx: Ctx, plan_id: uuid.UUID) -> PlanOut:
    ctx.require_writer()
    plan = await plan_row(ctx, plan_id, lock=True)
    if plan.status != PlanStatus.DRAFT:
        raise Conflict(f"计划当前状态为“{plan.status}”，不能发布", field="status")
    if not await repo.list_tasks(ctx.session, plan_id):
        raise Conflict("计划至少需要一个抽查任务才能发布", field="tasks")
    await repo.set_plan_status(ctx.session, plan_id, PlanStatus.PUBLISHED)
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


async def validated_task(ctx: Ctx, plan: PlanRow, data: TaskCreate) -> TaskValues:
    """The rules a task's content must meet, for a new task and for a corrected one alike."""
    ratio_mode, ratios = _ratios(data)
    start, end = parse_month(data.start_month, "start_month"), parse_month(data.end_month, "end_month")
    if end < start:
        raise InvalidInput("结束月份不能早于开始月份", field="end_month")
    if start.year != plan.year:
        raise InvalidInput(f"抽查时间应在计划年度 {plan.year} 年内", field="start_month")
    check_task_window(plan.back_entry, start, end)
    scope = _scope_dict(data)
    items = await repo.items_by_code(ctx.session, data.item_codes)
    for index, code in enumerate(data.item_codes):
        if code not in items:
            raise InvalidInput(f"抽查事项 {code} 不在本部门事项清单中", field=f"item_codes[{index}]")
    sections = await repo.sections_by_code(ctx.session)
    initiating = plan.initiating_section_id
    if data.initiating_section is not None:
        initiating = _section_ids(sections, [data.initiating_section], "initiating_section")[0]
    joint = list(plan.joint_section_ids)
    if data.joint_sections is not None:
        joint = _section_ids(sections, data.joint_sections, "joint_sections")
    if plan.kind == "内部联合" and not joint:
        raise InvalidInput("内部联合抽查任务需要联合股室", field="joint_sections")
    point_ids = list(dict.fromkeys(data.check_point_ids or [])) or None
    if point_ids is not None:
        chosen_of = await registry.check_points(ctx.session, [items[c].id for c in data.item_codes])
        of_items = {p.id: p.item_id for p in chosen_of}
        for index, point in enumerate(point_ids):
            if point not in of_items:
                raise InvalidInput("所选检查要点不属于本任务的抽查事项", field=f"check_point_ids[{index}]")
        chosen_items = {of_items[p] for p in point_ids}
        for index, code in enumerate(data.item_codes):
            if items[code].id not in chosen_items:
                raise InvalidInput(f"抽查事项 {code} 至少需要选择一个检查要点", field=f"item_codes[{index}]")
    return TaskValues(
        name=data.name.strip(),
        draw_type=data.draw_type,
        ratio_mode=ratio_mode,
        ratios=ratios,
        ratio_note=data.ratio_note,
        item_ids=[items[c].id for c in data.item_codes],
        item_note=data.item_note,
        scope=scope,
        scope_note=data.scope_note,
        initiating_section_id=initiating,
        joint_section_ids=joint,
        start_month=start,
        end_month=end,
        min_inspectors=data.min_inspectors,
        exclude_checked_within_months=data.exclude_checked_within_months,
        annual_cap=data.annual_cap,
        check_point_ids=point_ids,
    )


async def add_task(ctx: Ctx, plan_id: uuid.UUID, data: TaskCreate) -> TaskOut:
    ctx.require_writer()
    plan = await plan_row(ctx, plan_id, lock=True)
    if plan.status != PlanStatus.DRAFT:
        raise Conflict("只有草稿状态的计划可以添加任务", field="status")
    values = await validated_task(ctx, plan, data)
    # Task numbers run per department and year across plans, as in the seed (2023001 → 001号, 2023002 → 002号).
    series = "joint_task" if plan.kind == "部门联合" else "task"
    seq = await repo.next_number(ctx.session, ctx.tenant_id, plan.year, series)
    task_id = uuid.uuid4()
    await repo.insert_task(
        ctx.session,
        NewTask(
            id=task_id,
            tenant_id=ctx.tenant_id,
            plan_id=plan_id,
            number=task_number(plan.kind, seq),
            seq=seq,
            created_by=ctx.principal.name,
            **msgspec.structs.asdict(values),
        ),
    )
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "task.create",
        "task",
        task_id,
        {"plan": plan.number, "ratios": values.ratios, "scope": values.scope},
    )
    task = await repo.get_task(ctx.session, task_id)
    assert task is not None
    return await _task_out(ctx, task, await repo.sections_by_id(ctx.session))


def _scope_dict(data: TaskCreate) -> dict[str, object]:
    scope: dict[str, object] = msgspec.to_builtins(data.scope)
    if data.draw_type == "不定向" and scope:
        raise InvalidInput("不定向抽查面向整个检查对象名录库，不能设置筛选条件", field="scope")
    if data.draw_type == "定向" and not scope:
        raise InvalidInput("定向抽查需要至少一个筛选条件（行业、标签、风险等级等）", field="scope")
    return scope


async def task_detail(ctx: Ctx, task_id: uuid.UUID) -> tuple[TaskOut, PlanOut]:
    task = await task_row(ctx, task_id)
    return await _task_out(ctx, task, await repo.sections_by_id(ctx.session)), await plan_detail(
        ctx, task.plan_id
    )


async def start_implementation(session: AsyncSession, task_id: uuid.UUID) -> bool:
    """已匹配 → 实施中 when the first result of the task is entered (called by the inspection service)."""
    task = await repo.get_task(session, task_id, lock=True)
    if task is None or task.status != TaskStatus.MATCHED:
        return False
    await repo.set_task_status(session, task_id, TaskStatus.IN_PROGRESS)
    return True
