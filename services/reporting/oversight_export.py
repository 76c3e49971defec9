"""Export of what the dashboard shows (the county's departments, a department's plans, a task's enterprises) as
CSV or XLSX, through ``shared.cells`` (no text becomes a formula)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from services.reporting.charts import share
from services.reporting.dashboard_schemas import Dashboard, OversightDepartment, OversightTask
from shared.cells import csv_row, xlsx_row
from shared.errors import InvalidInput

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Table = tuple[str, list[str], list[list[Any]]]  # (title, headers, rows)


def county(view: Dashboard) -> Table:
    headers = [
        "部门", "名录企业", "已抽查企业", "抽查占比", "检查结果", "已公示", "公示率", "按期率",
        "内部联合抽查", "牵头部门联合", "参与部门联合", "隐患", "重大隐患", "已整改", "逾期事项", "月报已报",
    ]  # fmt: skip
    rows = [
        [
            d.name,
            d.registry_size,
            d.objects_checked,
            share(d.registry_share),
            d.results,
            d.published,
            share(d.disclosure_rate),
            share(d.on_time_rate),
            d.internal_joint,
            d.joint_led,
            d.joint_joined,
            d.hazards,
            d.major_hazards,
            d.rectified,
            d.overdue_results + d.overdue_hazards,
            d.reports_submitted,
        ]
        for d in view.departments
    ]
    return f"{view.year}年监管看板", headers, rows


def department(view: OversightDepartment) -> Table:
    headers = [
        "计划编号",
        "计划名称",
        "类型",
        "本部门角色",
        "牵头/实施部门",
        "状态",
        "任务数",
        "抽取",
        "已检查",
        "已公示",
    ]
    rows = [
        [p.number, p.name, p.kind, p.role, p.department, p.status, p.tasks, p.drawn, p.checked, p.published]
        for p in view.plans
    ]
    return f"{view.department.name}{view.year}年抽查计划", headers, rows


def task(view: OversightTask) -> Table:
    headers = [
        "层级",
        "序号",
        "统一社会信用代码",
        "企业名称",
        "进度",
        "检查日期",
        "公示期限",
        "是否逾期",
        "录入部门",
    ]
    rows = [
        [
            e.stratum,
            e.rank or "",
            e.uscc,
            e.name,
            e.status,
            e.check_date.isoformat() if e.check_date else "",
            e.due_on.isoformat() if e.due_on else "",
            "逾期" if e.overdue else "",
            "、".join(e.departments),
        ]
        for e in view.enterprises
    ]
    return f"{view.task.plan_number}-{view.task.number} {view.task.name}", headers, rows


def to_file(table: Table, fmt: str) -> tuple[bytes, str, str]:
    """(body, media type, file name) of the table in ``fmt`` (csv or xlsx)."""
    title, headers, rows = table
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(headers)
        for row in rows:
            writer.writerow(csv_row(row))
        return "\ufeff".encode() + buffer.getvalue().encode(), "text/csv; charset=utf-8", f"{title}.csv"
    if fmt == "xlsx":
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet("导出")
        sheet.append(xlsx_row(sheet, [title]))
        sheet.append(xlsx_row(sheet, headers))
        for row in rows:
            sheet.append(xlsx_row(sheet, row))
        out = io.BytesIO()
        workbook.save(out)
        return out.getvalue(), XLSX, f"{title}.xlsx"
    raise InvalidInput("导出格式应为 csv 或 xlsx", field="fmt")
