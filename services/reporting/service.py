"""Rules of reports and county oversight (no SQL here; see repository.py).

* Monthly report (附件1): per department and month, filled from the data; the fields the data cannot know are
  editable while it is a draft; due by the 23rd of the following month (the reminder job runs on the 20th).
* Post-implementation report: per task, due 2 days after the task's implementation (its last check date); sending it
  stores it as submitted to 执法监督股 and notifies the department.
* Annual plan tables (附件2 内部联合, 附件3 部门联合) in the seed's columns.
* Dashboard: the county's departments (overseer) or the active department only, against the seed's targets.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

import msgspec

from services.planning.service import period_label
from services.reporting import repository as repo
from shared import audit, notifications
from shared.context import Ctx, Department, Principal
from shared.errors import Conflict, InvalidInput, NotFound

REPORT_DUE_DAY = 23
REMIND_DAY = 20
TASK_REPORT_DAYS = 2
REPORT_SECTION = "zfjdg"  # 执法监督股
REGISTRY_TARGET = Decimal("0.05")
JOINT_TARGET = Decimal("0.10")
INTERNAL_JOINT_TARGET = 1
PUBLIC_SITE = "双随机、一公开监管平台公示（/public）"
FIELD_MAX = 2000


class MonthlyFields(msgspec.Struct, forbid_unknown_fields=True):
    meetings: str = ""
    documents: str = ""
    trainings: str = ""
    contact_person: str = ""
    contact_phone: str = ""
    mobile: str = ""


EDITABLE = tuple(MonthlyFields.__struct_fields__)


# ---- small pure helpers ---------------------------------------------------------------------------------------


def check_period(year: int, month: int) -> None:
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"年份超出范围：{year}", field="year")
    if not 1 <= month <= 12:
        raise InvalidInput(f"月份应为 1–12：{month}", field="month")


def month_bounds(year: int, month: int) -> tuple[dt.date, dt.date]:
    start = dt.date(year, month, 1)
    end = dt.date(year + (month == 12), month % 12 + 1, 1)
    return start, end


def monthly_due(year: int, month: int) -> dt.date:
    """The report on month M is due on the 23rd of month M+1."""
    _, next_month = month_bounds(year, month)
    return next_month.replace(day=REPORT_DUE_DAY)


def last_month(today: dt.date) -> tuple[int, int]:
    first = today.replace(day=1) - dt.timedelta(days=1)
    return first.year, first.month


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def rate(part: int, whole: int) -> Decimal | None:
    return None if whole == 0 else (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


def pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{(value * 100).quantize(Decimal('0.1'))}%"


def ratio_text(row: dict[str, Any]) -> str:
    note: str | None = row["ratio_note"]
    if note:
        return note
    ratios = row["ratios"]
    values = sorted(set(ratios.values()))
    if len(values) == 1:
        return f"{Decimal(values[0]) * 100:g}%"
    return "；".join(f"{k}类{Decimal(v) * 100:g}%" for k, v in sorted(ratios.items()))


def _validate_fields(data: MonthlyFields) -> dict[str, str]:
    fields = {}
    for name in EDITABLE:
        value = getattr(data, name).strip()
        limit = 40 if name in ("contact_person", "contact_phone", "mobile") else FIELD_MAX
        if len(value) > limit:
            raise InvalidInput(f"内容过长（最多 {limit} 字）", field=name)
        if any(ord(c) < 32 and c not in "\n\r\t" for c in value):
            raise InvalidInput("内容包含不可见的控制字符", field=name)
        if (
            name in ("contact_phone", "mobile")
            and value
            and not all(c.isdigit() or c in "-+ ()" for c in value)
        ):
            raise InvalidInput("电话号码只能包含数字和 - + ( ) 空格", field=name)
        fields[name] = value
    return fields


# ---- monthly report ------------------------------------------------------------------------------------------


async def monthly_data(ctx: Ctx, year: int, month: int) -> dict[str, Any]:
    """The numbers of 附件1 sections 二.4 and 二.5, from the data."""
    start, end = month_bounds(year, month)
    sections = await repo.section_names(ctx.session)
    own = []
    for r in await repo.own_plan_rows(ctx.session, start, end):
        names = [sections[s] for s in [r["initiating_id"], *(r["section_ids"] or [])] if s in sections]
        unit = ctx.department.name + (f"（{'、'.join(dict.fromkeys(names))}）" if names else "")
        own.append(
            {
                "department": unit,
                "items": r["items"],
                "subjects": r["subjects"],
                "disclosure": f"{PUBLIC_SITE}：{r['published']}条",
                "published": r["published"],
                "document": f"{r['plan_number']} {r['plan_name']}（{r['task_number']} {r['task_name']}）",
                "task_id": str(r["task_id"]),
            }
        )
    joint = []
    for r in await repo.joint_rows(ctx.session, start, end):
        joint.append(
            {
                "lead": r["lead_name"],
                "partners": r["partners"] or "",
                "subjects": int(r["drawn"]),
                "disclosure": f"{PUBLIC_SITE}：{r['published']}条",
                "published": r["published"],
                "document": f"{r['plan_number']} {r['plan_name']}（{r['task_number']} {r['task_name']}）",
                "task_id": str(r["task_id"]),
            }
        )
    return {"own": own, "joint": joint}


async def monthly_report(ctx: Ctx, year: int, month: int, today: dt.date | None = None) -> dict[str, Any]:
    check_period(year, month)
    today = today or dt.date.today()
    stored = await repo.monthly_report(ctx.session, year, month)
    # The stored report once submitted (its snapshot and stamps are final), else None.
    sub = stored if stored is not None and stored["status"] == "已提交" else None
    submitted = sub is not None
    data = sub["snapshot"] if sub is not None and sub["snapshot"] else await monthly_data(ctx, year, month)
    due = monthly_due(year, month)
    return {
        "id": str(stored["id"]) if stored else None,
        "department": ctx.department.name,
        "department_code": ctx.department.code,
        "year": year,
        "month": month,
        "status": stored["status"] if stored else "未填报",
        "fields": {k: (stored[k] if stored else "") for k in EDITABLE},
        "own": data["own"],
        "joint": data["joint"],
        "due_on": due.isoformat(),
        "overdue": not submitted and today > due,
        "submitted_at": sub["submitted_at"].isoformat() if sub is not None else None,
        "submitted_by": sub["submitted_by_name"] if sub is not None else None,
        "filled_on": (sub["submitted_at"].date() if sub is not None else today).isoformat(),
    }


async def monthly_report_by_id(ctx: Ctx, report_id: uuid.UUID) -> dict[str, Any]:
    row = await repo.monthly_report_by_id(ctx.session, report_id)
    if row is None:
        raise NotFound("月报不存在", field="report_id")
    return await monthly_report(ctx, row["year"], row["month"])


async def stored_report(session: Any, report_id: uuid.UUID, today: dt.date | None = None) -> dict[str, Any]:
    """A stored report as it was submitted (the overseer's drill-down); a draft shows its status and fields only."""
    today = today or dt.date.today()
    row = await repo.monthly_report_with_department(session, report_id)
    if row is None:
        raise NotFound("月报不存在", field="report_id")
    submitted = row["status"] == "已提交"
    data = row["snapshot"] if submitted and row["snapshot"] else {"own": [], "joint": []}
    due = monthly_due(row["year"], row["month"])
    return {
        "id": str(row["id"]),
        "department": row["department"],
        "department_code": row["department_code"],
        "year": row["year"],
        "month": row["month"],
        "status": row["status"],
        "fields": {k: row[k] for k in EDITABLE},
        "own": data["own"],
        "joint": data["joint"],
        "due_on": due.isoformat(),
        "overdue": not submitted and today > due,
        "submitted_at": row["submitted_at"].isoformat() if submitted and row["submitted_at"] else None,
        "submitted_by": row["submitted_by_name"] if submitted else None,
        "filled_on": (row["submitted_at"].date() if submitted and row["submitted_at"] else today).isoformat(),
    }


async def save_monthly(ctx: Ctx, year: int, month: int, data: MonthlyFields) -> dict[str, Any]:
    ctx.require_writer()
    check_period(year, month)
    fields = _validate_fields(data)
    report_id = await repo.upsert_monthly_report(
        ctx.session, ctx.tenant_id, year, month, fields, ctx.actor.id
    )
    if report_id is None:
        raise Conflict("月报已提交，不能再修改", field="status")
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "report.monthly_saved",
        "monthly_report",
        report_id,
        {"year": year, "month": month},
    )
    return await monthly_report(ctx, year, month)


async def submit_monthly(
    ctx: Ctx, year: int, month: int, data: MonthlyFields | None = None
) -> dict[str, Any]:
    ctx.require_writer()
    check_period(year, month)
    if dt.date(year, month, 1) > dt.date.today():
        raise InvalidInput("不能提交尚未开始月份的月报", field="month")
    stored = await repo.monthly_report(ctx.session, year, month)
    if stored is not None and stored["status"] == "已提交":
        raise Conflict("月报已提交", field="status")
    if data is not None or stored is None:
        fields = _validate_fields(data or MonthlyFields())
        report_id = await repo.upsert_monthly_report(
            ctx.session, ctx.tenant_id, year, month, fields, ctx.actor.id
        )
    else:
        fields = {k: stored[k] for k in EDITABLE}
        report_id = stored["id"]
    for name in ("contact_person", "contact_phone"):
        if not fields[name]:
            raise InvalidInput("提交前请填写联系人和联系电话", field=name)
    snapshot = await monthly_data(ctx, year, month)
    # No id: the upsert found the report already submitted (the UPDATE would match no row either).
    if report_id is None or not await repo.submit_monthly_report(
        ctx.session, report_id, snapshot, ctx.actor.id, ctx.actor.name
    ):
        raise Conflict("月报已提交", field="status")
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "report.monthly_submitted",
        "monthly_report",
        report_id,
        {"year": year, "month": month, "own": len(snapshot["own"]), "joint": len(snapshot["joint"])},
    )
    return await monthly_report(ctx, year, month)


async def remind_monthly(session: Any, tenant_id: uuid.UUID, today: dt.date) -> bool:
    """On or after the 20th: notify the department when its report on last month is not submitted."""
    if today.day < REMIND_DAY:
        return False
    year, month = last_month(today)
    if not await repo.departments_to_remind(session, year, month):
        return False
    due = monthly_due(year, month)
    await notifications.create(
        session,
        tenant_id,
        "report",
        f"{year}年{month}月“双随机、一公开”监管工作月报尚未提交（{cn_date(due)}前报执法监督股）",
        link=f"/reports/monthly/{year}/{month}",
        dedupe_key=f"monthly-report:{year}-{month:02d}",
    )
    return True


# ---- post-implementation report -------------------------------------------------------------------------------


def _implementation_end(header: dict[str, Any]) -> dt.date:
    last_check: dt.date | None = header["last_check"]
    if last_check is not None:
        return last_check
    _, end = month_bounds(header["end_month"].year, header["end_month"].month)
    return end - dt.timedelta(days=1)


def _jsonable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for r in rows:
        out.append(
            {
                "uscc": r["uscc"],
                "name": r["name"],
                "status": r["status"],
                "check_date": r["check_date"].isoformat() if r["check_date"] else None,
                "categories": list(r["categories"]),
                "summary": r["summary"],
                "hazards": r["hazards"],
                "followups": r["followups"],
                "result_id": str(r["id"]),
            }
        )
    return out


async def task_report(ctx: Ctx, task_id: uuid.UUID, today: dt.date | None = None) -> dict[str, Any]:
    today = today or dt.date.today()
    header = await repo.task_header(ctx.session, task_id)
    if header is None:
        raise NotFound("抽查任务不存在", field="task_id")
    stored = await repo.task_report(ctx.session, task_id)
    if stored is not None:
        enterprises = stored["snapshot"]["enterprises"]
    else:
        enterprises = _jsonable(await repo.task_results(ctx.session, task_id))
    due = stored["due_on"] if stored else _implementation_end(header) + dt.timedelta(days=TASK_REPORT_DAYS)
    hazards = sum(len(e["hazards"]) for e in enterprises)
    return {
        "task_id": str(task_id),
        "department": ctx.department.name,
        "plan_number": header["plan_number"],
        "plan_name": header["plan_name"],
        "task_number": header["task_number"],
        "task_name": header["task_name"],
        "period": period_label(header["start_month"], header["end_month"]),
        "enterprises": enterprises,
        "checked": len(enterprises),
        "hazards": hazards,
        "with_problems": sum(1 for e in enterprises if e["hazards"]),
        "due_on": due.isoformat(),
        "overdue": stored is None and bool(enterprises) and today > due,
        "status": "已报送" if stored else "未报送",
        "recipient": "执法监督股",
        "id": str(stored["id"]) if stored else None,
        "submitted_at": stored["submitted_at"].isoformat() if stored else None,
        "submitted_by": stored["submitted_by_name"] if stored else None,
    }


async def submit_task_report(ctx: Ctx, task_id: uuid.UUID) -> dict[str, Any]:
    ctx.require_writer()
    report = await task_report(ctx, task_id)
    if report["status"] == "已报送":
        raise Conflict("该任务的实施情况报告已报送", field="task_id")
    if not report["enterprises"]:
        raise Conflict("该任务还没有检查结果，无法报送实施情况", field="task_id")
    snapshot = {"enterprises": report["enterprises"]}
    report_id = await repo.insert_task_report(
        ctx.session,
        ctx.tenant_id,
        task_id,
        dt.date.fromisoformat(report["due_on"]),
        snapshot,
        REPORT_SECTION,
        ctx.actor.id,
        ctx.actor.name,
    )
    if report_id is None:
        raise Conflict("该任务的实施情况报告已报送", field="task_id")
    await audit.record(
        ctx.session,
        ctx.tenant_id,
        ctx.actor,
        "report.task_submitted",
        "task_report",
        report_id,
        {"task_id": str(task_id), "enterprises": report["checked"], "hazards": report["hazards"]},
    )
    await notifications.create(
        ctx.session,
        ctx.tenant_id,
        "report",
        f"抽查实施情况已报送执法监督股：{report['plan_number']}/{report['task_number']}"
        f"（检查{report['checked']}家，发现隐患{report['hazards']}项）",
        link=f"/reports/tasks/{task_id}",
        dedupe_key=f"task-report:{task_id}",
    )
    return await task_report(ctx, task_id)


async def implemented_tasks(ctx: Ctx) -> list[dict[str, Any]]:
    return await repo.implemented_tasks(ctx.session)


# ---- annual plan tables ----------------------------------------------------------------------------------------

ANNEX_KIND = {2: "内部联合", 3: "部门联合"}


def _period_text(annex: int, start: dt.date, end: dt.date) -> str:
    if annex == 2:
        return period_label(start, end)
    if start.year == end.year:
        return f"{start.year}年{start.month}月" + ("" if start == end else f"至{end.month}月")
    return f"{start.year}年{start.month}月至{end.year}年{end.month}月"


async def plan_table(ctx: Ctx, year: int, annex: int, plans: str | None = None) -> dict[str, Any]:
    """All of the year's plans of the kind, or only the listed plan numbers (comma-separated)."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"年份超出范围：{year}", field="year")
    if annex not in ANNEX_KIND:
        raise InvalidInput("附件应为 2（内部联合）或 3（部门联合）", field="annex")
    numbers = [n.strip() for n in plans.split(",") if n.strip()] if plans else None
    if numbers is not None and (len(numbers) > 200 or any(len(n) > 20 for n in numbers)):
        raise InvalidInput("计划编号列表无效", field="plans")
    sections = await repo.section_names(ctx.session)
    rows = []
    dates = []
    for r in await repo.plan_table_rows(ctx.session, year, ANNEX_KIND[annex], numbers):
        dates.append(r["table_date"])
        common = [
            r["plan_number"],
            r["plan_name"],
            r["task_number"],
            r["task_name"],
            r["draw_type"],
            ratio_text(r),
            r["item_note"] or r["item_names"] or "",
            r["scope_note"],
        ]
        if annex == 2:
            rows.append(
                [
                    *common,
                    sections.get(r["initiating_id"], ""),
                    "、".join(sections[s] for s in r["section_ids"] if s in sections),
                    _period_text(annex, r["start_month"], r["end_month"]),
                ]
            )
        else:
            rows.append(
                [
                    *common,
                    ctx.department.short_name,
                    r["partners"] or "",
                    _period_text(annex, r["start_month"], r["end_month"]),
                    "县本级开展",
                ]
            )
    table_date = max(dates) if dates else dt.date.today()
    return {
        "year": year,
        "annex": annex,
        "department": ctx.department.name,
        "table_date": cn_date(table_date),
        "rows": rows,
    }


# ---- dashboard -------------------------------------------------------------------------------------------------


async def dashboard(
    session: Any, principal: Principal, department: Department | None, year: int, today: dt.date | None = None
) -> dict[str, Any]:
    """The overseer sees every department of the county; anyone else only the active department."""
    if not 2000 <= year <= 2100:
        raise InvalidInput(f"年份超出范围：{year}", field="year")
    today = today or dt.date.today()
    raw = await repo.dashboard(
        session, principal.region_code, department.id if department else None, year, today
    )
    monthly: dict[uuid.UUID, dict[int, dict[str, int]]] = {}
    sums: dict[uuid.UUID, dict[str, int]] = {}
    for row in raw["monthly"]:
        monthly.setdefault(row["tenant_id"], {})[row["month"]] = {
            "results": row["results"],
            "published": row["published"],
            "on_time": row["on_time"],
        }
        total = sums.setdefault(
            row["tenant_id"], {"results": 0, "published": 0, "on_time": 0, "overdue_results": 0}
        )
        for key in total:
            total[key] += row[key]
    reports: dict[uuid.UUID, dict[int, str]] = {}
    report_ids: dict[uuid.UUID, dict[int, str]] = {}
    for r in raw["reports"]:
        reports.setdefault(r["tenant_id"], {})[r["month"]] = r["status"]
        report_ids.setdefault(r["tenant_id"], {})[r["month"]] = str(r["id"])
    joint_by: dict[uuid.UUID, list[dict[str, Any]]] = {}
    for t in raw["joint_tasks"]:
        share = rate(t["selected_count"] or 0, t["eligible_count"] or 0)
        joint_by.setdefault(t["tenant_id"], []).append(
            {
                "plan_number": t["plan_number"],
                "task_number": t["task_number"],
                "task_name": t["task_name"],
                "task_id": str(t["task_id"]),
                "eligible": t["eligible_count"],
                "selected": t["selected_count"],
                "share": share,
                "meets_target": share is not None and share >= JOINT_TARGET,
            }
        )
    months_due = [m for m in range(1, 13) if monthly_due(year, m) < today]
    departments = []
    for d in raw["departments"]:
        d = {**d, **sums.get(d["id"], {"results": 0, "published": 0, "on_time": 0, "overdue_results": 0})}
        share = rate(d["objects_checked"], d["registry_size"])
        disclosure = rate(d["published"], d["results"])
        on_time = rate(d["on_time"], d["published"])
        dept_reports = reports.get(d["id"], {})
        report_status = {}
        for m in range(1, 13):
            status = dept_reports.get(m)
            if status is None and (year, m) <= (today.year, today.month):
                status = "逾期未报" if m in months_due else "未填报"
            report_status[m] = status or ""
        departments.append(
            {
                **{k: v for k, v in d.items() if k != "id"},
                "registry_share": share,
                "registry_meets": share is not None and share >= REGISTRY_TARGET,
                "disclosure_rate": disclosure,
                "disclosure_meets": disclosure is not None and disclosure >= 1,
                "on_time_rate": on_time,
                "internal_joint_meets": d["internal_joint"] >= INTERNAL_JOINT_TARGET,
                "joint_tasks": joint_by.get(d["id"], []),
                "months": [
                    {
                        "month": m,
                        **monthly.get(d["id"], {}).get(m, {"results": 0, "published": 0, "on_time": 0}),
                    }
                    for m in range(1, 13)
                ],
                "reports": report_status,
                "report_ids": report_ids.get(d["id"], {}),
                "reports_overdue": sum(1 for m in months_due if dept_reports.get(m) != "已提交"),
            }
        )
    codes = {d["id"]: d["code"] for d in raw["departments"]}
    overdue = [
        {
            "department_code": codes.get(o["tenant_id"], ""),
            "result_id": str(o["id"]),
            "name": o["name"],
            "status": o["status"],
            "due_on": o["due_on"].isoformat(),
        }
        for o in raw["overdue"]
        if o["tenant_id"] in codes
    ]
    totals = {
        k: sum(d[k] for d in departments)
        for k in (
            "registry_size",
            "objects_checked",
            "results",
            "published",
            "on_time",
            "overdue_results",
            "hazards",
            "rectified",
            "overdue_hazards",
            "internal_joint",
            "joint_led",
            "joint_joined",
            "reports_submitted",
        )
    }
    return {
        "year": year,
        "today": today.isoformat(),
        "county_view": department is None,
        "targets": {
            "registry_share": str(REGISTRY_TARGET),
            "joint_share": str(JOINT_TARGET),
            "disclosure_rate": "1",
            "internal_joint": INTERNAL_JOINT_TARGET,
        },
        "departments": departments,
        "totals": totals,
        "overdue": overdue,
    }


def dashboard_json(view: dict[str, Any]) -> dict[str, Any]:
    """Decimals as strings (exact) for the API."""

    def conv(value: Any) -> Any:
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, dict):
            return {str(k): conv(v) for k, v in value.items()}
        if isinstance(value, list):
            return [conv(v) for v in value]
        return value

    converted: dict[str, Any] = conv(view)  # a dict converts to a dict
    return converted
