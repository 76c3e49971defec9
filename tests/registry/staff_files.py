"""Spreadsheets as county staff really make them (Excel and WPS on Chinese Windows), generated for the tests.

Not the project's template: a title row in merged cells above the header, a blank row, headers in their own
wording (line breaks, ``（是/否）`` hints, a required-marker, full-width brackets), a 序号 column, a hidden lookup
sheet in front, 行业 merged down over several rows, full-width digits and letters; CSV saved as GBK, as “Unicode
文本” (UTF-16 with BOM, tab-separated), with blank lines at the end; and the files that used to take the server down.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import zipfile
from typing import Any

from tests.registry.conftest import VALID_UNTIL_YEAR, uscc

TITLE = "宁晋县消防救援大队检查对象名录库（2023年）"
OBJECT_HEADERS = [
    "序号",
    "企业（单位）名称",
    "*统一社会信用代码",
    "住所",
    "所属行业",
    "信用风险\n分类",
    "是否直接监管（是/否）",
    "许可证编号",
    "许可证有效期至\n（YYYY-MM-DD）",
]
FULL_WIDTH = str.maketrans(
    "0123456789ABCDEFGHJKLMNPQRTUWXY", "０１２３４５６７８９ＡＢＣＤＥＦＧＨＪＫＬＭＮＰＱＲＴＵＷＸＹ"
)


def full_width(text: str) -> str:
    return text.translate(FULL_WIDTH)


def object_cells(n: int, **overrides: Any) -> list[Any]:
    """One row under ``OBJECT_HEADERS``."""
    row = {
        "seq": n,
        "name": f"宁晋县测试{n}（集团）有限公司",
        "uscc": uscc(n),
        "address": f"宁晋县凤凰镇{n}号",
        "industry": "危化",
        "risk": "B",
        "direct": "否",
        "licence": f"冀危化〔2023〕{n}",
        "expiry": f"{VALID_UNTIL_YEAR}-01-31",
    }
    row.update(overrides)
    return list(row.values())


def workbook(
    headers: list[str],
    rows: list[list[Any]],
    *,
    title: str | None = TITLE,
    hidden_lookup: bool = False,
    merge_down: tuple[int, int, int] | None = None,
    cells: dict[str, Any] | None = None,
) -> bytes:
    """An XLSX: [hidden lookup sheet], then the table (title row merged across, a blank row, header, rows).

    ``merge_down`` = (column, first data row index, row count): that column's cells merged down, value in the first.
    ``cells``: more cells by reference (a stray note far away).
    """
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    book = Workbook()
    first = book.active
    assert first is not None
    if hidden_lookup:
        first.title = "代码表"
        first.append(["统一社会信用代码", "单位名称", "行业"])
        first.append([uscc(999_999), "不应被读取的查找表", "危化"])
        first.sheet_state = "hidden"
        sheet = book.create_sheet("名录")
        book.active = 1
    else:
        sheet = first
        sheet.title = "名录"
    top = 1
    if title:
        sheet.cell(row=1, column=1, value=title)
        sheet.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
        top = 3  # the title, then a blank row
    for column, header in enumerate(headers, start=1):
        sheet.cell(row=top, column=column, value=header)
    for offset, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            if value is not None and value != "":
                sheet.cell(row=top + offset, column=column, value=value)
    if merge_down:
        column, first_row, count = merge_down
        start = top + 1 + first_row
        letter = get_column_letter(column)
        for r in range(start + 1, start + count):
            sheet[f"{letter}{r}"] = None
        sheet.merge_cells(f"{letter}{start}:{letter}{start + count - 1}")
    for ref, value in (cells or {}).items():
        sheet[ref] = value
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def header_row_of(title: str | None) -> int:
    return 3 if title else 1


def text_table(
    headers: list[str], rows: list[list[Any]], *, delimiter: str = ",", title: str | None = TITLE
) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    if title:
        writer.writerow([title] + [""] * (len(headers) - 1))
        writer.writerow([""] * len(headers))
    writer.writerow(headers)
    writer.writerows([[str(c) for c in row] for row in rows])
    return buffer.getvalue()


def encoded(text: str, encoding: str) -> bytes:
    """As Excel saves: ``utf-8-sig`` (CSV UTF-8), ``gbk`` (CSV on Chinese Windows), ``utf-16`` (Unicode 文本)."""
    if encoding == "utf-16":
        return codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    return text.encode(encoding)


def stray_cell(ref: str = "XFD1048576") -> bytes:
    """The 5 KB workbook that used to abort the server: a valid table and one note typed far away."""
    return workbook(OBJECT_HEADERS, [object_cells(1)], title=None, cells={ref: "备注：已核实"})


def lying_dimension(ref: str = "XFD1048576") -> bytes:
    """The stray cell, in a sheet whose ``<dimension>`` claims a small table: only the reader's limits stop it."""
    source = zipfile.ZipFile(io.BytesIO(stray_cell(ref)))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/"):
                data = re.sub(rb'<dimension ref="[^"]*"', b'<dimension ref="A1:I2"', data)
            target.writestr(info, data)
    return out.getvalue()


HTML_AS_XLSX = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>检查对象</title></head><body><table>"
    "<tr><td>统一社会信用代码</td><td>单位名称</td></tr>"
    + "<tr><td>x</td><td>y</td></tr>" * 200
    + "</table></body></html>"
).encode()
