"""The copy of a rejected file that people can act on: their own rows, the bad cells highlighted, a 错误说明 column.

Rows keep their numbers (row *n* of the copy is row *n* of their file, title rows included), so the copy can be
corrected and imported again. A file of more than ``MAX_COPY_ROWS`` rows is copied as its header and the rows with
errors only, with their original row number. At most ``MAX_MARKED_ERRORS`` errors are marked. Cells are written as
text through ``shared.cells`` (never a formula).
"""

from __future__ import annotations

import tempfile
from collections import defaultdict
from typing import IO, Any

from services.registry.columns import COLUMNS, Kind
from services.registry.imports.bulk import RowError
from services.registry.imports.source import Table
from shared.cells import TRIGGERS, xlsx_row, xml_safe

MAX_COPY_ROWS = 100_000
FILL = "FFC7CE"


def annotated_copy(kind: Kind, table: Table, errors: list[RowError]) -> IO[bytes] | None:
    if not errors:
        return None
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font, PatternFill

    header_of = {c.header: c.key for c in COLUMNS[kind]}
    index_of = {key: i for i, key in enumerate(table.columns)}
    by_row: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for error in errors:
        column = index_of.get(header_of.get(error.column, ""), -1)
        by_row[error.row][column].append(f"{error.column}：{error.reason}")
    header_row = table.first_row - 1
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("错误标注")
    fill = PatternFill("solid", fgColor=FILL)
    bold = Font(bold=True, color="B3261E")
    only_errors = sum(1 for _ in table.records()) > MAX_COPY_ROWS
    width = len(table.columns)

    def marked(value: str) -> Any:
        cell = WriteOnlyCell(sheet, value=xml_safe(value))
        if cell.value and str(cell.value).startswith(TRIGGERS):
            cell.data_type = "s"
        cell.fill = fill
        return cell

    for number, record in enumerate(table.records(), start=1):
        problems = by_row.get(number)
        if only_errors and number > header_row and not problems:
            continue
        cells: list[Any] = xlsx_row(sheet, record)
        cells.extend([""] * (width - len(cells)))
        if number == header_row:
            title = WriteOnlyCell(sheet, value="错误说明")
            title.font = bold
            cells.append(title)
            if only_errors:
                cells.append("原行号")
        elif problems:
            for column in problems:
                if 0 <= column < len(cells):
                    cells[column] = marked(record[column] if column < len(record) else "")
            note = "；".join(reason for reasons in problems.values() for reason in reasons)
            cells.append(WriteOnlyCell(sheet, value=xml_safe(note)))
            if only_errors:
                cells.append(number)
        sheet.append(cells)
    out: IO[bytes] = tempfile.SpooledTemporaryFile(max_size=8 << 20)
    workbook.save(out)
    out.seek(0)
    return out
