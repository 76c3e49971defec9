"""Published results in the columns the provincial/national 双随机 platform imports (CSV and XLSX).

Every row goes through ``shared.cells``: a published text starting with "=" (an enterprise's name, a summary) is
never a formula in the file (CSV: a leading apostrophe; XLSX: a string cell)."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook

from services.disclosure.schemas import RecordRow
from shared.cells import csv_row, xlsx_row

COLUMNS: tuple[tuple[str, str], ...] = (
    ("抽查计划编号", "plan_number"),
    ("抽查计划名称", "plan_name"),
    ("抽查任务编号", "task_number"),
    ("抽查任务名称", "task_name"),
    ("实施机关", "department_name"),
    ("统一社会信用代码", "uscc"),
    ("检查对象名称", "enterprise_name"),
    ("检查对象地址", "address"),
    ("抽查事项", "items"),
    ("检查完成日期", "check_date"),
    ("检查结果", "categories"),
    ("后续处置", "follow_up"),
    ("隐患数量", "hazard_count"),
    ("公示日期", "published_at"),
)


def _cell(row: RecordRow, key: str) -> Any:
    value = getattr(row, key)
    if key == "categories":
        return "；".join(value)
    if key == "published_at":
        return value.date().isoformat()
    if key == "check_date":
        return value.isoformat()
    return value


def to_csv(rows: list[RecordRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([title for title, _ in COLUMNS])
    for row in rows:
        writer.writerow(csv_row(_cell(row, key) for _, key in COLUMNS))
    return "\ufeff".encode() + buffer.getvalue().encode()  # BOM: Excel on Windows opens UTF-8 CSV correctly


def to_xlsx(rows: list[RecordRow]) -> bytes:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("抽查结果")
    sheet.append([title for title, _ in COLUMNS])
    for row in rows:
        sheet.append(xlsx_row(sheet, (_cell(row, key) for _, key in COLUMNS)))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
