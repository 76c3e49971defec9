"""Export (CSV/XLSX) and import templates, with exactly the import's columns and value spellings.

Every exported cell is text in the form the import reads back unchanged (tags joined by “；”, 是/否, 一级…四级,
dates as YYYY-MM-DD), so export → import reports every row unchanged. Cells go through ``shared.cells``: no cell is
ever a formula (CSV: a leading apostrophe, which the import takes off again; XLSX: string cells).
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterator, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository as repo
from services.registry import repository_tags as tags_repo
from services.registry import values as v
from services.registry.columns import COLUMNS, KIND_LABELS, Kind
from services.registry.repository_export import ExportFilter, export_rows
from services.registry.schemas import InspectorFilter, ItemFilter, ObjectFilter
from shared.cells import csv_row, defuse, xlsx_row

BOM = "\ufeff"


def export_filter(kind: Kind, query: Mapping[str, str], active: bool | None) -> ExportFilter:
    """The export's filter from the query string: the text filters of the list, and the state.

    The flags of the inspector list (是否专家, 可任组长) arrive as text and are not applied, as before.
    """
    given = {k: val for k, val in query.items() if val}
    if kind == "objects":
        return ObjectFilter(
            q=given.get("q"),
            uscc=given.get("uscc"),
            industry=given.get("industry"),
            tag=given.get("tag"),
            risk_class=given.get("risk_class"),
            status=given.get("status"),
            active=active,
            department=given.get("department"),
        )
    if kind == "inspectors":
        return InspectorFilter(
            q=given.get("q"),
            section=given.get("section"),
            specialty=given.get("specialty"),
            qualification=given.get("qualification"),
            licence=given.get("licence"),
            active=active,
            department=given.get("department"),
        )
    return ItemFilter(category=given.get("category"), active=active)


def headers(kind: Kind) -> list[str]:
    return [c.header for c in COLUMNS[kind]]


async def csv_chunks(session: AsyncSession, kind: Kind, f: ExportFilter) -> AsyncIterator[bytes]:
    """UTF-8 with BOM, so that Excel on Chinese Windows opens it with the right characters."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    buffer.write(BOM)
    writer.writerow(headers(kind))
    async for part in export_rows(session, kind, f):
        writer.writerows(csv_row(row) for row in part)
        yield buffer.getvalue().encode()
        buffer.seek(0)
        buffer.truncate()
    if buffer.tell():
        yield buffer.getvalue().encode()


async def xlsx_file(
    session: AsyncSession, kind: Kind, f: ExportFilter
) -> tempfile.SpooledTemporaryFile[bytes]:
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(KIND_LABELS[kind][:31])
    for index, column in enumerate(COLUMNS[kind], start=1):
        sheet.column_dimensions[_letter(index)].width = column.width
    bold = Font(bold=True)
    sheet.append([_styled(WriteOnlyCell(sheet, value=h), bold) for h in headers(kind)])
    async for part in export_rows(session, kind, f):
        for row in part:
            sheet.append(xlsx_row(sheet, row))
    out: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    workbook.save(out)
    out.seek(0)
    return out


def _styled(cell: Any, font: Any) -> Any:
    cell.font = font
    return cell


def _letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


# ---- templates --------------------------------------------------------------------------------------------------
async def template(session: AsyncSession, kind: Kind, fmt: str) -> bytes:
    """The import template of ``kind``: CSV (the header row) or XLSX (with the department's vocabulary)."""
    if fmt == "csv":
        return csv_template(kind)
    sections = [s.name for s in await repo.sections(session)]
    return xlsx_template(kind, await tags_repo.vocabulary(session), sections)


def csv_template(kind: Kind) -> bytes:
    buffer = io.StringIO()
    buffer.write(BOM)
    csv.writer(buffer, lineterminator="\r\n").writerow(headers(kind))
    return buffer.getvalue().encode()


def xlsx_template(kind: Kind, vocab: dict[str, set[str]], section_names: list[str]) -> bytes:
    """Header row, text-formatted columns (so Excel keeps 18-digit codes intact), drop-downs for fixed values,
    and a second sheet explaining each column and listing the department's tag vocabulary."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Font, PatternFill
    from openpyxl.worksheet.datavalidation import DataValidation
    from openpyxl.worksheet.worksheet import Worksheet

    workbook = Workbook()
    sheet = workbook.active
    assert isinstance(sheet, Worksheet)  # a new Workbook's active sheet; typed as Optional
    sheet.title = "导入模板"
    columns = COLUMNS[kind]
    for index, column in enumerate(columns, start=1):
        cell = sheet.cell(row=1, column=index, value=column.header)
        cell.font = Font(bold=True, color="B3261E" if column.required else "1F2328")
        cell.fill = PatternFill("solid", fgColor="F0F3F8")
        if column.hint:
            cell.comment = Comment(("必填。" if column.required else "") + column.hint, "SpotCheck")
        letter = _letter(index)
        sheet.column_dimensions[letter].width = column.width
        for row in range(2, 1002):
            sheet.cell(row=row, column=index).number_format = "@"
    sheet.freeze_panes = "A2"
    choices = _choices(kind, vocab, section_names)
    for index, column in enumerate(columns, start=1):
        options = choices.get(column.key)
        if options and len(",".join(options)) < 250:
            validation = DataValidation(type="list", formula1='"' + ",".join(options) + '"', allow_blank=True)
            validation.error = "请从下拉列表中选择"
            sheet.add_data_validation(validation)
            validation.add(f"{_letter(index)}2:{_letter(index)}100000")

    notes = workbook.create_sheet("填写说明")
    notes.append(["列名", "是否必填", "填写要求"])
    for column in columns:
        notes.append([column.header, "必填" if column.required else "", column.hint])
    notes.append([])
    notes.append(["本部门标签字库（标签须与此一致）"])
    for category in v.TAG_CATEGORIES:
        notes.append([category, "", "；".join(sorted(vocab.get(category, set())))])
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["C"].width = 80
    defuse(workbook)  # tag names come from the department's vocabulary
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _choices(kind: Kind, vocab: dict[str, set[str]], section_names: list[str]) -> dict[str, list[str]]:
    if kind == "objects":
        return {
            "industry": sorted(vocab.get("行业", set())),
            "risk_class": list(v.RISK_CLASSES),
            "status": list(v.OBJECT_STATUSES),
            "direct": ["是", "否"],
            "hazard_level": ["一级", "二级", "三级", "四级"],
        }
    if kind == "inspectors":
        return {
            "section": section_names,
            "is_expert": ["是", "否"],
            "is_team_leader": ["是", "否"],
            "status": list(v.INSPECTOR_STATUSES),
        }
    return {"category": list(v.ITEM_CATEGORIES)}


def disposition(kind: Kind, suffix: str, template: bool = False) -> str:
    name = f"{KIND_LABELS[kind]}{'_导入模板' if template else '_' + date.today().isoformat()}.{suffix}"
    ascii_name = f"{kind}{'-template' if template else ''}.{suffix}"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(name)}"


MEDIA = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
