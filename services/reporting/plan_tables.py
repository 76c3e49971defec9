"""Annual plan tables (附件2 内部联合, 附件3 部门联合) in the seed's columns.

Every column is derived from the task's real data: ratio (抽查比例), items and their check points (抽查事项), scope
(抽查对象范围), window (抽查时间) and units (sections or departments). A planner's note may phrase a column and add to
it, never replace it: the note is the cell's text only when it states the real values (the ratio it begins with is the
task's; every topic it lists is an item or a check point of the task's items, and every item appears; it names the
scope's industries, direct supervision and major hazard sources when the scope has them). Otherwise the real values
lead and the note follows in brackets.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from services.planning.service import period_label
from services.reporting import repository as repo
from services.reporting.monthly import cn_date
from services.reporting.schemas import PlanItem, PlanTable, PlanTableRow
from shared.context import Ctx
from shared.errors import InvalidInput

ANNEX_KIND = {2: "内部联合", 3: "部门联合"}
PER_CLASS = "（运用企业信用风险分级分类开展）"
_NUMBERED = re.compile(r"(?:^|\s)\d{1,2}\s*[、.．]\s*")
_PUNCT = " \u3000。；;，,、：:"


def _percent(value: Decimal | str | int | float) -> str:
    return f"{format((Decimal(str(value)) * 100).normalize(), 'f')}%"


def ratio_core(row: PlanTableRow) -> str:
    """The real ratio: one percentage, or per credit-risk class when the classes differ."""
    values = sorted({Decimal(str(v)) for v in row.ratios.values()})
    if len(values) == 1:
        return _percent(values[0])
    return "、".join(f"{k}类{_percent(v)}" for k, v in sorted(row.ratios.items()))


def _plain(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("％", "%")


def ratio_text(row: PlanTableRow) -> str:
    core = ratio_core(row)
    derived = core + (PER_CLASS if row.ratio_mode == "per_class" else "")
    note = row.ratio_note.strip()
    if not note:
        return derived
    if _plain(note).startswith(_plain(core)) and not _plain(note)[len(_plain(core)) :][:1].isdigit():
        return note  # it states the real ratio and adds to it
    return f"{core}（{note}）" if "分级分类" in note else f"{derived}（{note}）"


def _topics(note: str) -> list[str]:
    parts = _NUMBERED.split(note) if _NUMBERED.search(note) else re.split(r"[；;。\n]", note)
    return [p.strip(_PUNCT) for p in parts if p.strip(_PUNCT)]


def item_text(items: list[PlanItem], note: str) -> str:
    derived = "、".join(i.name for i in items)
    note = note.strip()
    if not note:
        return derived
    known = {i.name for i in items} | {p for i in items for p in i.points}
    topics = set(_topics(note))
    covered = all(i.name in topics or topics & set(i.points) for i in items)
    if items and topics and topics <= known and covered:
        return note  # every topic is one of the task's items or their check points
    return f"{derived}（{note}）" if derived else note


def _words(scope: dict[str, object], key: str) -> list[str]:
    value = scope.get(key)
    return [str(v) for v in value] if isinstance(value, list) else []


def scope_text(year: int, scope: dict[str, object], note: str) -> str:
    industries, tags, classes = (_words(scope, k) for k in ("industries", "tags_all", "risk_classes"))
    direct = bool(scope.get("direct_supervision_only"))
    major = bool(scope.get("major_hazard_only"))
    if not (industries or tags or classes or direct or major):
        derived = f"{year}年检查对象名录库全部对象"
    else:
        extra = [
            *tags,
            *(["重大危险源企业"] if major else []),
            *([f"信用风险{'、'.join(classes)}类"] if classes else []),
        ]
        derived = (
            f"{year}年"
            + ("直接监管" if direct else "")
            + ("、".join(industries) + "行业" if industries else "检查对象")
            + (f"（{'、'.join(extra)}）" if extra else "")
        )
    note = note.strip()
    if not note:
        return derived
    required = [*industries, *(["直接监管"] if direct else []), *(["重大危险源"] if major else [])]
    if required and all(word in note for word in required):
        return note  # it names the real scope's industries and conditions
    return f"{derived}（{note}）"


def _period_text(annex: int, start: dt.date, end: dt.date) -> str:
    if annex == 2:
        return period_label(start, end)
    if start.year == end.year:
        return f"{start.year}年{start.month}月" + ("" if start == end else f"至{end.month}月")
    return f"{start.year}年{start.month}月至{end.year}年{end.month}月"


async def plan_table(ctx: Ctx, year: int, annex: int, plans: str | None = None) -> PlanTable:
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
    late: list[str] = []
    for r in await repo.plan_table_rows(ctx.session, year, ANNEX_KIND[annex], numbers):
        dates.append(r.table_date)
        if r.back_entry and r.plan_number not in late:
            late.append(r.plan_number)
        common = [
            r.plan_number,
            r.plan_name,
            r.task_number,
            r.task_name,
            r.draw_type,
            ratio_text(r),
            item_text(r.items, r.item_note),
            scope_text(r.year, r.scope, r.scope_note),
        ]
        if annex == 2:
            rows.append(
                [
                    *common,
                    sections.get(r.initiating_id, "") if r.initiating_id else "",
                    "、".join(sections[s] for s in r.section_ids or [] if s in sections),
                    _period_text(annex, r.start_month, r.end_month),
                ]
            )
        else:
            rows.append(
                [
                    *common,
                    ctx.department.short_name,
                    r.partners or "",
                    _period_text(annex, r.start_month, r.end_month),
                    "县本级开展",
                ]
            )
    table_date = max(dates) if dates else dt.date.today()
    return PlanTable(
        year=year,
        annex=annex,
        department=ctx.department.name,
        table_date=cn_date(table_date),
        rows=rows,
        back_entry=late,
    )
