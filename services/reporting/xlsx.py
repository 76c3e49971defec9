"""XLSX in the seed's layouts: 附件1 (monthly report), 附件2 / 附件3 (annual plan tables), the task report.

Every workbook goes through ``shared.cells.defuse`` before it is saved: a task name or a note starting with "=" stays
text, never a formula."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from services.reporting.schemas import MonthlyReport, PlanTable, TaskReport
from shared.cells import defuse

MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
THIN = Side(style="thin")
BOX = Border(left=THIN, right=THIN, top=THIN, bottom=THIN)
WRAP = Alignment(wrap_text=True, vertical="center")

MONTHLY_TITLE = "“双随机、一公开”监管工作月报表"
SECTION_ONE = "一、“双随机、一公开”监管工作安排部署情况"
SECTION_TWO = "二、“双随机、一公开”监管工作开展情况"
ROWS_ONE = (
    (1, "本月召开会议部署双随机工作", "meetings"),
    (2, "本月有关双随机工作文件", "documents"),
    (3, "本月组织业务培训", "trainings"),
)
OWN_CAPTION = "本月按年度计划开展随机抽查情况"
OWN_HEADER = ("部门名称", "检查事项数", "检查主体数量", "抽查结果公示网站及公示结果数量", "抽查实施方案文件")
JOINT_CAPTION = "本月本级参与跨部门联合抽查情况"
JOINT_HEADER = ("牵头部门", "参与部门名称", "检查主体数量", "抽查结果公示网站及公示结果数量", "抽查实施文件")

ANNEX2_COLUMNS = (
    "抽查计划编号",
    "抽查计划名称",
    "抽查任务编号",
    "抽查任务名称",
    "抽查类型",
    "抽查比例",
    "抽查事项",
    "抽查对象范围",
    "发起科（股）室",
    "联合科（股）室",
    "抽查时间",
)
ANNEX3_COLUMNS = (
    "抽查计划编号",
    "抽查计划名称",
    "抽查任务编号",
    "抽查任务名称",
    "抽查类型",
    "抽查比例",
    "抽查事项",
    "抽查对象范围",
    "发起部门",
    "联合部门",
    "抽查时间",
    "备注",
)
ANNEX2_NOTES = (
    "备注：1. 抽查计划名称为：年度+行政区划+部门+随机抽查+序号，抽查任务名称以实施方案名称为准。",
    "2. 抽查时间必须填到月份。",
)


def _save(workbook: Workbook) -> bytes:
    defuse(workbook)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _line(sheet: Worksheet, row: int, value: str, width: int, *, bold: bool = False, size: int = 11) -> None:
    sheet.cell(row=row, column=1, value=value).font = Font(bold=bold, size=size)
    if width > 1:
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=width)


def _boxed(sheet: Worksheet, row: int, values: list[Any] | tuple[Any, ...], start: int = 1) -> None:
    for offset, value in enumerate(values):
        cell = sheet.cell(row=row, column=start + offset, value=value)
        cell.border, cell.alignment = BOX, WRAP


def cn_date(day: dt.date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def monthly_report(report: MonthlyReport) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new Workbook's active sheet; typed as Optional
    sheet.title = f"{report.year}年{report.month}月"
    for col, width in zip("ABCDEF", (6, 36, 14, 14, 36, 48), strict=True):
        sheet.column_dimensions[col].width = width
    _line(sheet, 1, report.department + MONTHLY_TITLE, 6, bold=True, size=16)
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    _line(sheet, 2, f"单位名称（盖章）：{report.department}", 6)
    _line(sheet, 3, f"填表时间：{cn_date(dt.date.fromisoformat(report.filled_on))}", 6)
    row = 4
    _boxed(sheet, row, [SECTION_ONE])
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
    for number, label, key in ROWS_ONE:
        row += 1
        _boxed(sheet, row, [number, label, getattr(report.fields, key)])
        sheet.merge_cells(start_row=row, start_column=3, end_row=row, end_column=6)
    row += 1
    _boxed(sheet, row, [SECTION_TWO])
    sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
    for caption, number, header, rows, keys in (
        (
            OWN_CAPTION,
            4,
            OWN_HEADER,
            report.own,
            ("department", "items", "subjects", "disclosure", "document"),
        ),
        (
            JOINT_CAPTION,
            5,
            JOINT_HEADER,
            report.joint,
            ("lead", "partners", "subjects", "disclosure", "document"),
        ),
    ):
        row += 1
        _boxed(sheet, row, [caption])
        sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=6)
        row += 1
        _boxed(sheet, row, [number, *header])
        first = row
        for item in rows:
            row += 1
            _boxed(sheet, row, ["", *[getattr(item, k) for k in keys]])
        if row > first:
            sheet.merge_cells(start_row=first, start_column=1, end_row=row, end_column=1)
    row += 2
    f = report.fields
    _line(
        sheet,
        row,
        f"联系人：{f.contact_person or '_____'}    联系电话：{f.contact_phone or '_____'}    "
        f"手机：{f.mobile or '_____'}",
        6,
    )
    return _save(workbook)


def plan_table(table: PlanTable) -> bytes:
    annex, year = table.annex, table.year
    columns = ANNEX2_COLUMNS if annex == 2 else ANNEX3_COLUMNS
    width = len(columns)
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new Workbook's active sheet; typed as Optional
    sheet.title = f"附件{annex}"
    for index, col_width in enumerate((12, 30, 10, 36, 8, 20, 30, 22, 14, 20, 14, 12)[:width], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = col_width
    title = (
        f"{year}年内部联合“双随机、一公开”抽查工作计划表"
        if annex == 2
        else f"县有关部门{year}年拟发起的部门联合抽查工作计划"
    )
    _line(sheet, 1, title, width, bold=True, size=16)
    sheet.cell(row=1, column=1).alignment = Alignment(horizontal="center")
    if annex == 2:
        sheet.cell(row=2, column=1, value=f"单位（盖章）：{table.department}")
        sheet.cell(row=2, column=width, value=f"制表时间：{table.table_date}")
        header_row = 3
    else:
        _line(sheet, 2, f"单位（盖章）：{table.department}", width)
        _line(sheet, 3, f"制表时间：{table.table_date}", width)
        header_row = 4
    _boxed(sheet, header_row, list(columns))
    for cell in sheet[header_row]:
        cell.font = Font(bold=True)
    row = header_row
    for values in table.rows:
        row += 1
        _boxed(sheet, row, values)
    if annex == 2:
        row += 1
        for note in ANNEX2_NOTES:
            row += 1
            _line(sheet, row, note, width)
    if table.back_entry:
        row += 2 if annex == 3 else 1
        _line(sheet, row, f"补录：{'、'.join(table.back_entry)}（计划期间过后补充录入）", width)
    return _save(workbook)


TASK_COLUMNS = (
    "序号",
    "检查对象名称",
    "统一社会信用代码",
    "检查日期",
    "检查结果",
    "发现的问题",
    "依法处理情况",
    "状态",
)


def task_report(report: TaskReport) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new Workbook's active sheet; typed as Optional
    sheet.title = "实施情况"
    width = len(TASK_COLUMNS)
    _line(sheet, 1, f"{report.department}随机抽查实施情况报告", width, bold=True, size=16)
    _line(
        sheet,
        2,
        f"抽查计划：{report.plan_number} {report.plan_name}    抽查任务：{report.task_number} "
        f"{report.task_name}（{report.period}）"
        + (f"    牵头部门：{report.lead}（本部门检查部分）" if report.lead else "")
        + ("    补录" if report.back_entry else ""),
        width,
    )
    _line(
        sheet,
        3,
        f"报送：{report.recipient}    应报送日期：{report.due_on}    状态：{report.status}",
        width,
    )
    _boxed(sheet, 4, list(TASK_COLUMNS))
    for index, e in enumerate(report.enterprises, start=1):
        problems = (
            "；".join(f"{h.description}（{h.severity}，{h.status}）" for h in e.hazards) or "未发现问题"
        )
        handling = (
            "；".join(f"{f.action}{('：' + f.target) if f.target else ''}（{f.status}）" for f in e.followups)
            or "—"
        )
        _boxed(
            sheet,
            4 + index,
            [
                index,
                e.name,
                e.uscc,
                e.check_date or "",
                "；".join(e.categories),
                problems,
                handling,
                e.status,
            ],
        )
    row = 5 + len(report.enterprises) + 1
    _line(
        sheet,
        row,
        f"合计：检查企业 {report.checked} 家，发现问题企业 {report.with_problems} 家，"
        f"隐患 {report.hazards} 项。",
        width,
    )
    return _save(workbook)
