"""The department's side of visits: a code for every drawn enterprise of a matched task (internal and joint), checks
outside a random plan registered with a reason, planned dates, cancellation, and the burden ledger's warnings.

Planning's data is read through its public modules (``service``, ``teams``, ``records``, ``lookups``); the register
row (``public_visits``) is written in the same transaction as the department's ``visits`` row and refreshed from the
task's current teams whenever the task's codes are opened (notices, the codes list, the inspector's code page).
"""

from __future__ import annotations

import calendar
import datetime as dt
import uuid
from collections.abc import Mapping

from services.enterprise import codes
from services.enterprise import repository as repo
from services.enterprise.schemas import (
    OTHER_KINDS,
    BurdenWarning,
    Card,
    CardInspector,
    CardItem,
    OtherVisitCreate,
    Period,
    VisitCancel,
    VisitDateSet,
    VisitKind,
    VisitOut,
    VisitRegistered,
    VisitStatus,
)
from services.planning import records as planning_records
from services.planning import service as planning
from services.planning import teams as planning_teams
from services.planning.lookups import plan_row, task_row
from services.planning.schemas import JointTeamsOut, TaskStatus
from services.registry import service as registry
from shared import audit
from shared.context import WRITE_ROLES, WRITERS, Ctx
from shared.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from shared.settings import get_settings

CODED = (TaskStatus.MATCHED, TaskStatus.IN_PROGRESS, TaskStatus.COMPLETED)


def secret_of(code: str) -> str:
    return codes.secret_for(get_settings().app.secret_key, code)


def month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def notice_number(short_name: str, year: int, plan_number: str, task_number: str, index: int) -> str:
    digits = "".join(ch for ch in task_number if ch.isdigit())
    return f"{short_name}抽告〔{year}〕{plan_number}-{digits}-{index:02d}号"


async def _items(ctx: Ctx, item_ids: list[uuid.UUID]) -> list[CardItem]:
    items = []
    for item_id in item_ids:
        try:
            item = await registry.get_item(ctx.session, item_id)
        except DomainError:
            continue
        items.append(CardItem(name=item.name, legal_basis=item.legal_basis))
    return items


async def task_cards(ctx: Ctx, task_id: uuid.UUID, names: Mapping[str, str]) -> dict[str, Card]:
    """What the scan shows for each drawn enterprise of a matched task, from the task's current teams."""
    task, plan = await planning.task_detail(ctx, task_id)
    row = await task_row(ctx, task_id)
    teams = await planning_teams.teams_view(ctx, task_id)
    if not teams.matched or task.draw_id is None:
        return {}
    draw = await planning.draw_detail(ctx, task.draw_id)
    enterprise = {s.uscc: s.name or s.uscc for s in draw.selected}
    expiry = {i.id: i.licence_expiry for i in await planning_records.active_inspectors(ctx)}
    items = await _items(ctx, list(row.item_ids))
    joint = isinstance(teams, JointTeamsOut)
    members: dict[str, list[CardInspector]] = {}
    departments = [ctx.department.name]
    if isinstance(teams, JointTeamsOut):
        for jt in teams.teams:
            for m in jt.members:
                department = names.get(m.department_code, m.department_code)
                if department not in departments:
                    departments.append(department)
                members.setdefault(jt.uscc, []).append(
                    CardInspector(
                        name=m.inspector_name,
                        licence=codes.mask_licence(m.licence_no),
                        department=department,
                        licence_expiry=expiry.get(m.inspector_id),
                    )
                )
    else:
        for t in teams.teams:
            enterprise.setdefault(t.uscc, t.name)
            members[t.uscc] = [
                CardInspector(
                    name=m.name,
                    licence=codes.mask_licence(m.licence_no),
                    department=ctx.department.name,
                    licence_expiry=expiry.get(m.inspector_id),
                )
                for m in t.members
            ]
    cards = {}
    for index, uscc in enumerate(sorted(members), start=1):
        cards[uscc] = Card(
            enterprise_name=enterprise.get(uscc, uscc),
            departments=departments if joint else [ctx.department.name],
            notice_no=notice_number(ctx.department.short_name, plan.year, plan.number, task.number, index),
            plan_number=plan.number,
            plan_name=plan.name,
            task_number=task.number,
            task_name=task.name,
            draw_id=task.draw_id,
            window_label=task.period_label,
            items=items,
            inspectors=members[uscc],
        )
    return cards


async def ensure_task_visits(ctx: Ctx, task_id: uuid.UUID, names: Mapping[str, str]) -> list[VisitOut]:
    """The visits (with their codes) of every drawn enterprise of a matched task, created the first time and their
    register rows refreshed from the current teams; a voided task's visits are cancelled."""
    row = await task_row(ctx, task_id)
    plan = await plan_row(ctx, row.plan_id)
    existing = {v.uscc: v for v in await repo.task_visits(ctx.session, task_id)}
    if row.status == TaskStatus.VOIDED:
        for visit in existing.values():
            if visit.status == VisitStatus.ACTIVE:
                await repo.cancel_visit(ctx.session, visit.id, "随机抽取已作废")
        return await repo.task_visits(ctx.session, task_id)
    if row.status not in CODED or not ctx.principal.has_any_role(*WRITE_ROLES):
        return list(existing.values())  # a read-only member only sees the codes made so far
    kind = VisitKind.JOINT if plan.kind == "部门联合" else VisitKind.RANDOM
    cards = await task_cards(ctx, task_id, names)
    created = 0
    for uscc, card in cards.items():
        known = existing.get(uscc)
        if known is not None:
            await repo.refresh_card(ctx.session, known.id, card)
            continue
        await _create(
            ctx,
            VisitOut(
                id=uuid.uuid4(),
                code=codes.new_public_code(),
                kind=kind,
                task_id=task_id,
                uscc=uscc,
                enterprise_name=card.enterprise_name,
                reason="",
                window_start=row.start_month,
                window_end=month_end(row.end_month),
                visit_date=None,
                status=VisitStatus.ACTIVE,
                cancel_reason=None,
                created_by=ctx.principal.name,
                created_at=dt.datetime.now(dt.UTC),
            ),
            card,
            "",
        )
        created += 1
    if created:
        await audit.record(
            ctx.session, ctx.tenant_id, ctx.actor, "visit.codes", "task", task_id, {"created": created}
        )
    return await repo.task_visits(ctx.session, task_id)


async def _create(ctx: Ctx, visit: VisitOut, card: Card, legal_basis: str) -> None:
    await repo.insert_visit(ctx.session, ctx.tenant_id, visit, legal_basis)
    await repo.insert_public_visit(
        ctx.session,
        visit,
        ctx.tenant_id,
        ctx.department.region_code,
        codes.secret_hash(secret_of(visit.code)),
        card,
    )


async def register_other(ctx: Ctx, data: OtherVisitCreate) -> VisitRegistered:
    """A check outside a random plan (投诉举报, 转办交办 …): its reason is required and stays internal."""
    ctx.require_writer()
    if data.kind not in OTHER_KINDS:
        raise InvalidInput(
            "随机抽查和部门联合抽查的检查码由匹配后的任务生成，这里只登记计划外检查", field="kind"
        )
    if len(data.reason) < 4:
        raise InvalidInput("请写明检查理由（不少于4个字）", field="reason")
    from stdnum.cn import uscc as uscc_lib

    if not uscc_lib.is_valid(data.uscc):
        raise InvalidInput("统一社会信用代码无效（校验位不符）", field="uscc")
    expiry = {i.id: i for i in await planning_records.active_inspectors(ctx)}
    inspectors = []
    for inspector_id in data.inspector_ids:
        found = expiry.get(inspector_id)
        if found is None:
            raise InvalidInput("检查人员不是本部门在岗人员", field="inspector_ids")
        inspectors.append(
            CardInspector(
                name=found.name,
                licence=codes.mask_licence(found.licence_no),
                department=ctx.department.name,
                licence_expiry=found.licence_expiry,
            )
        )
    visit = VisitOut(
        id=uuid.uuid4(),
        code=codes.new_public_code(),
        kind=data.kind,
        task_id=None,
        uscc=data.uscc,
        enterprise_name=data.enterprise_name,
        reason=data.reason,
        window_start=data.visit_date,
        window_end=data.visit_date,
        visit_date=data.visit_date,
        status=VisitStatus.ACTIVE,
        cancel_reason=None,
        created_by=ctx.principal.name,
        created_at=dt.datetime.now(dt.UTC),
    )
    card = Card(
        enterprise_name=data.enterprise_name,
        departments=[ctx.department.name],
        notice_no=f"{ctx.department.short_name}检告〔{data.visit_date.year}〕{visit.code[:5]}号",
        window_label=f"{data.visit_date.year}年{data.visit_date.month}月{data.visit_date.day}日",
        legal_basis=data.legal_basis,
        inspectors=inspectors,
    )
    await _create(ctx, visit, card, data.legal_basis)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "visit.register",
        "visit",
        visit.id,
        {"kind": data.kind.value, "uscc": data.uscc, "visit_date": data.visit_date.isoformat()},
    )
    warnings = await record_burden(ctx, data.uscc, data.enterprise_name, data.visit_date)
    return VisitRegistered(visit=visit, warnings=warnings)


async def _own_visit(ctx: Ctx, visit_id: uuid.UUID) -> VisitOut:
    visit = await repo.get_visit(ctx.session, visit_id, lock=True)
    if visit is None:
        raise NotFound("检查记录不存在", field="visit_id")
    return visit


def _require_planner_or_inspector(ctx: Ctx) -> None:
    if not ctx.principal.has_any_role(*WRITERS, "inspector"):
        raise Forbidden("只有计划制定、部门管理员或执法检查人员可以执行此操作")


async def set_visit_date(ctx: Ctx, visit_id: uuid.UUID, data: VisitDateSet) -> VisitRegistered:
    """The planned (or actual) date of a visit, within its window; counted in the burden ledger from then on."""
    _require_planner_or_inspector(ctx)
    visit = await _own_visit(ctx, visit_id)
    if visit.status != VisitStatus.ACTIVE:
        raise Conflict("该检查已取消，不能再安排日期", field="status")
    if not visit.window_start <= data.visit_date <= visit.window_end:
        raise InvalidInput(
            f"检查日期应在 {visit.window_start.isoformat()} 至 {visit.window_end.isoformat()} 之间",
            field="visit_date",
        )
    await repo.set_visit_date(ctx.session, visit_id, data.visit_date)
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "visit.date",
        "visit",
        visit_id,
        {"date": data.visit_date.isoformat()},
    )
    warnings = await record_burden(ctx, visit.uscc, visit.enterprise_name, data.visit_date)
    updated = await repo.get_visit(ctx.session, visit_id)
    assert updated is not None
    return VisitRegistered(visit=updated, warnings=warnings)


async def cancel_visit(ctx: Ctx, visit_id: uuid.UUID, data: VisitCancel) -> VisitOut:
    ctx.require_writer()
    if len(data.reason) < 4:
        raise InvalidInput("请写明取消理由（不少于4个字）", field="reason")
    visit = await _own_visit(ctx, visit_id)
    if visit.status == VisitStatus.CANCELLED:
        raise Conflict("该检查已取消", field="status")
    await repo.cancel_visit(ctx.session, visit_id, data.reason)
    await audit.record(
        ctx.session, ctx.tenant_id, ctx.actor, "visit.cancel", "visit", visit_id, {"reason": data.reason}
    )
    cancelled = await repo.get_visit(ctx.session, visit_id)
    assert cancelled is not None
    return cancelled


async def list_visits(ctx: Ctx) -> list[VisitOut]:
    return await repo.list_visits(ctx.session)


async def visit_of_task(ctx: Ctx, task_id: uuid.UUID, uscc: str, names: Mapping[str, str]) -> VisitOut:
    for visit in await ensure_task_visits(ctx, task_id, names):
        if visit.uscc == uscc:
            return visit
    raise NotFound("该企业不在本任务已匹配的检查名单中", field="uscc")


# ---- the burden ledger ------------------------------------------------------------------------------------------


def periods(day: dt.date) -> list[tuple[Period, dt.date, dt.date]]:
    monday = day - dt.timedelta(days=day.weekday())
    return [
        (Period.DAY, day, day),
        (Period.WEEK, monday, monday + dt.timedelta(days=6)),
        (Period.MONTH, day.replace(day=1), month_end(day)),
    ]


async def burden_on(ctx: Ctx, uscc: str, day: dt.date) -> list[BurdenWarning]:
    """The enterprise's visits by all the county's departments in the day, week and month of ``day``, where they
    reach a threshold (what another visit that day would cross)."""
    settings = await repo.county_settings(ctx.session, ctx.department.region_code)
    limits = {
        Period.DAY: settings.day_limit,
        Period.WEEK: settings.week_limit,
        Period.MONTH: settings.month_limit,
    }
    out = []
    for period, start, end in periods(day):
        count = await repo.count_dated(ctx.session, ctx.department.region_code, uscc, start, end)
        if count >= limits[period]:
            out.append(BurdenWarning(uscc, period, start, count, limits[period], False))
    return out


async def record_burden(ctx: Ctx, uscc: str, name: str, day: dt.date) -> list[BurdenWarning]:
    """After a visit is dated: every threshold its period now exceeds; an alert is raised once per crossing."""
    settings = await repo.county_settings(ctx.session, ctx.department.region_code)
    limits = {
        Period.DAY: settings.day_limit,
        Period.WEEK: settings.week_limit,
        Period.MONTH: settings.month_limit,
    }
    out = []
    for period, start, end in periods(day):
        count = await repo.count_dated(ctx.session, ctx.department.region_code, uscc, start, end)
        if count > limits[period]:
            new = await repo.insert_alert(
                ctx.session,
                ctx.department.region_code,
                uscc,
                name,
                period,
                start,
                count,
                limits[period],
                ctx.tenant_id,
            )
            out.append(BurdenWarning(uscc, period, start, count, limits[period], new))
    return out
