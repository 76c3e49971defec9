"""Annual plan tables (附件2 内部联合, 附件3 部门联合) in the seed's columns."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from services.planning.service import period_label
from services.reporting import repository as repo
from services.reporting.monthly import cn_date
from services.reporting.schemas import PlanTable, PlanTableRow
from shared.context import Ctx
from shared.errors import InvalidInput

ANNEX_KIND = {2: "内部联合", 3: "部门联合"}


def ratio_text(row: PlanTableRow) -> str:
    if row.ratio_note:
        return row.ratio_note
    ratios = row.ratios
    values = sorted(set(ratios.values()))
    if len(values) == 1:
        return f"{Decimal(values[0]) * 100:g}%"
    return "；".join(f"{k}类{Decimal(v) * 100:g}%" for k, v in sorted(ratios.items()))


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
    for r in await repo.plan_table_rows(ctx.session, year, ANNEX_KIND[annex], numbers):
        dates.append(r.table_date)
        common = [
            r.plan_number,
            r.plan_name,
            r.task_number,
            r.task_name,
            r.draw_type,
            ratio_text(r),
            r.item_note or r.item_names or "",
            r.scope_note,
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
        year=year, annex=annex, department=ctx.department.name, table_date=cn_date(table_date), rows=rows
    )
