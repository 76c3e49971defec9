"""The child process that reads one untrusted XLSX: run as a script by path, never imported by the server.

``python -I sheet_child.py SRC OUT LIMITS_JSON``: sets its own memory, CPU and file-size limits first, then

1. checks the zip (member count, declared sizes) and finds the first *visible* worksheet in ``workbook.xml``;
2. bounds the sheet before reading it: the ``<dimension>`` the sheet declares, and when that is missing or too large
   a scan of the cells that hold a value (a stray note at ``XFD1048576`` is named, not allocated);
3. reads the sheet with python-calamine and writes it as UTF-8 CSV to OUT from row 1 (so CSV record *n* is sheet row
   *n*), values of vertically merged cells repeated in every row of the range, trailing blank rows left out.

It prints one JSON object: ``{"sheet": ..., "rows": ..., "width": ...}`` (exit 0) or ``{"error": ...}`` (exit 3) with
the reason in Chinese. Anything else (killed by a limit, a crash in the reader) is the parent's to explain. Only the
standard library and python_calamine are used, so nothing of the server is loaded under the limits.
"""

from __future__ import annotations

import csv
import json
import posixpath
import re
import resource
import sys
import zipfile
from datetime import date, datetime, time, timedelta
from typing import Any
from xml.etree import ElementTree

HIDDEN = ("hidden", "veryHidden")
_REF = re.compile(r"^([A-Z]{1,3})([0-9]{1,7})$")
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="([A-Z0-9:]+)"')
# A cell that holds something: not self-closing (``<c r="B2" s="1"/>`` is formatting only and is not read).
_CELL = re.compile(rb'<(?:\w+:)?c\s[^>]*?\br="([A-Z]{1,3})([0-9]{1,7})"[^>]*?(/?)>')


class Refused(Exception):
    pass


def column_number(letters: str) -> int:
    number = 0
    for ch in letters:
        number = number * 26 + ord(ch) - 64
    return number


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(element: ElementTree.Element, name: str) -> str:
    for key, value in element.attrib.items():
        if _local(key) == name:
            return value
    return ""


def _xml(archive: zipfile.ZipFile, name: str, limit: int) -> ElementTree.Element:
    info = archive.getinfo(name)
    if info.file_size > limit:
        raise Refused(f"文件结构异常：{name} 过大")
    return ElementTree.fromstring(archive.read(info))


def _resolve(base: str, target: str) -> str:
    if target.startswith("/"):
        return target.lstrip("/")
    return posixpath.normpath(posixpath.join(posixpath.dirname(base), target))


def first_visible_sheet(archive: zipfile.ZipFile) -> tuple[str, str, list[str]]:
    """(sheet name, its XML member, names of the hidden sheets before it)."""
    names = set(archive.namelist())
    book = "xl/workbook.xml"
    if "_rels/.rels" in names:
        for rel in _xml(archive, "_rels/.rels", 1 << 20):
            if _attr(rel, "Type").endswith("/officeDocument"):
                book = _resolve("", _attr(rel, "Target"))
    if book not in names:
        raise Refused("不是有效的 Excel 工作簿（缺少 workbook.xml）")
    rels_name = posixpath.join(posixpath.dirname(book), "_rels", posixpath.basename(book) + ".rels")
    targets: dict[str, str] = {}
    if rels_name in names:
        for rel in _xml(archive, rels_name, 4 << 20):
            if _attr(rel, "Type").endswith("/worksheet"):
                targets[_attr(rel, "Id")] = _resolve(book, _attr(rel, "Target"))
    hidden: list[str] = []
    for element in _xml(archive, book, 16 << 20).iter():
        if _local(element.tag) != "sheet":
            continue
        name, target = _attr(element, "name"), targets.get(_attr(element, "id"))
        if target is None:
            continue  # a chart sheet or a dialog sheet: no table on it
        if _attr(element, "state") in HIDDEN:
            hidden.append(name)
            continue
        if target not in names:
            raise Refused(f"工作表“{name}”已损坏（缺少其数据）")
        return name, target, hidden
    raise Refused("工作簿中没有可见的工作表" + (f"（隐藏的工作表：{'、'.join(hidden)}）" if hidden else ""))


def _bounds(ref: str) -> tuple[int, int] | None:
    """(columns, rows) from A1 to the bottom-right corner of a dimension reference."""
    corner = _REF.match(ref.split(":")[-1])
    return (column_number(corner[1]), int(corner[2])) if corner else None


def check_size(archive: zipfile.ZipFile, member: str, limits: dict[str, int]) -> None:
    """Refuse before reading: the sheet's declared dimension, or the cells that hold a value when that is absent
    or too large (the dimension also counts cells that are only formatted, which are never read)."""
    max_columns, max_cells = limits["max_columns"], limits["max_cells"]
    with archive.open(member) as stream:
        head = stream.read(1 << 16)
    found = _DIMENSION.search(head)
    bounds = _bounds(found[1].decode()) if found else None
    if bounds and bounds[0] <= max_columns and bounds[0] * bounds[1] <= max_cells:
        return
    widest = (0, 0, "")
    lowest = (0, 0, "")
    with archive.open(member) as stream:
        rest = b""
        while chunk := stream.read(1 << 22):
            data = rest + chunk
            cut = data.rfind(b"<")
            data, rest = data[:cut], data[cut:]
            for match in _CELL.finditer(data):
                if match[3]:
                    continue
                column, row = column_number(match[1].decode()), int(match[2])
                if column > widest[0]:
                    widest = (column, row, (match[1] + match[2]).decode())
                if row > lowest[1]:
                    lowest = (column, row, (match[1] + match[2]).decode())
    if widest[0] > max_columns:
        raise Refused(
            f"单元格 {widest[2]} 有内容，但它在第{widest[0]}列，超出了可读取的范围（最多{max_columns}列）。"
            f"请删除该单元格的内容（或删除表格右侧多余的列）后重新导入"
        )
    columns = max(widest[0], 1)
    if columns * lowest[1] > max_cells:
        raise Refused(
            f"单元格 {lowest[2]} 有内容，表格因此有{lowest[1]}行×{columns}列，超过可读取的{max_cells:,}个单元格。"
            f"请删除表格下方多余的内容，或把文件拆分后分别导入"
        )


def cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time() else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, timedelta | time):
        return str(value)
    return str(value)


def convert(source: str, out: str, limits: dict[str, int]) -> dict[str, Any]:
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, OSError):
        raise Refused("XLSX 文件已损坏或无法读取") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > 10_000:
            raise Refused("XLSX 文件结构异常：包含的部件过多")
        unzipped = sum(i.file_size for i in infos)
        if unzipped > limits["max_unzipped"]:
            raise Refused(
                f"XLSX 文件解压后有{unzipped / 2**30:.1f} GiB，超过上限{limits['max_unzipped'] / 2**30:.0f} GiB"
            )
        name, member, hidden = first_visible_sheet(archive)
        check_size(archive, member, limits)

    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(source)
        sheet = workbook.get_sheet_by_name(name)
    except Exception:
        raise Refused("XLSX 文件已损坏或无法读取") from None
    first_column = (sheet.start or (0, 0))[1]
    fills: dict[
        int, list[tuple[int, int, int, int]]
    ] = {}  # row → (first row, first col, last col) to copy from
    for (r0, c0), (r1, c1) in (sheet.merged_cell_ranges or [])[:100_000]:
        if r1 > r0:
            for r in range(r0 + 1, r1 + 1):
                fills.setdefault(r, []).append((r0, c0 - first_column, c0 - first_column, c1 - first_column))
    tops: dict[tuple[int, int], str] = {}
    wanted = {(r0, c0) for ranges in fills.values() for r0, c0, _, _ in ranges}
    written = blank = width = 0
    with open(out, "w", encoding="utf-8", newline="") as target:
        writer = csv.writer(target, lineterminator="\n")
        for index, row in enumerate(sheet.iter_rows()):
            cells = [cell_text(v) for v in row]
            for column in range(len(cells)):
                if (index, column) in wanted:
                    tops[(index, column)] = cells[column]
            for r0, c0, first, last in fills.get(index, ()):
                value = tops.get((r0, c0), "")
                for column in range(max(first, 0), min(last + 1, len(cells))):
                    if not cells[column]:
                        cells[column] = value
            width = max(width, len(cells))
            if not any(c.strip() for c in cells):
                blank += 1
                continue
            for _ in range(blank):
                writer.writerow([""] * max(len(cells), 2))
            blank = 0
            writer.writerow(cells)
            written = index + 1
    return {"sheet": name, "hidden": hidden, "rows": written, "width": width}


def main(argv: list[str]) -> int:
    source, out, raw = argv[1], argv[2], argv[3]
    limits: dict[str, int] = json.loads(raw)
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory"], limits["memory"]))
    resource.setrlimit(resource.RLIMIT_CPU, (limits["cpu_seconds"], limits["cpu_seconds"] + 5))
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["max_output"], limits["max_output"]))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    try:
        result = convert(source, out, limits)
    except Refused as exc:
        print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        return 3
    except MemoryError:
        return 4
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
