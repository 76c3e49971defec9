"""Reading an uploaded spreadsheet as a stream of CSV bytes for PostgreSQL's COPY.

* CSV is passed to COPY as it is (PostgreSQL parses it, much faster than Python could): we only detect the encoding
  (UTF-8, with or without BOM, or GB18030 as Excel saves it on Chinese Windows) and read the header line.
* XLSX is read with python-calamine (Rust) and re-emitted as CSV chunks, so both formats share one load path.

Anything else — an old .xls, a PDF, a picture, an empty file — is refused before a byte reaches the database.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO

from services.registry.columns import COLUMNS, Kind, header_map
from shared.errors import InvalidInput

CHUNK = 1 << 20
SNIFF = 64 * 1024
BOM = codecs.BOM_UTF8
Progress = Callable[[float], Awaitable[None]]


class FileRejected(InvalidInput):
    code = "bad_file"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass
class Table:
    """One sheet ready for COPY: the column keys in file order and the CSV body (header removed)."""

    format: str  # "csv" | "xlsx"
    encoding: str  # COPY's ENCODING option
    columns: list[str]  # staging column per file column, in file order ("_extra_N" for unknown headers)
    first_row: int  # spreadsheet row number of the first data row
    size: int
    body: Callable[[Progress | None], AsyncIterator[bytes]] = field(repr=False)


def open_table(kind: Kind, file: IO[bytes], size: int) -> Table:
    """``file`` must be seekable (an uploaded file is spooled to disk; jobs and the CLI use real files)."""
    if size == 0:
        raise FileRejected("文件为空")
    file.seek(0)
    head = file.read(SNIFF)
    file.seek(0)
    if head.startswith(b"PK\x03\x04"):
        return _xlsx(kind, file, size)
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
    return _csv(kind, file, size, head)


def _map_headers(kind: Kind, headers: list[str]) -> list[str]:
    known = header_map(kind)
    columns: list[str] = []
    seen: set[str] = set()
    for index, header in enumerate(headers):
        name = header.strip().strip("*＊").strip()
        key = known.get(name)
        if key is None:
            columns.append(f"_extra_{index}")  # unknown columns (序号, 备注 …) are loaded and ignored
            continue
        if key in seen:
            raise FileRejected(f"表头“{name}”重复出现")
        seen.add(key)
        columns.append(key)
    missing = [c.header for c in COLUMNS[kind] if c.required and c.key not in seen]
    if missing:
        found = "、".join(h for h in headers if h) or "无"
        raise FileRejected(
            f"缺少必需的列：{'、'.join(missing)}（第1行应为表头，读到的是：{found}）。请使用下载的模板"
        )
    return columns


# ---- CSV -------------------------------------------------------------------------------------------------------


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return controls > len(sample) // 100


def _detect_encoding(head: bytes) -> tuple[str, str, int]:
    """(Python codec, COPY encoding, bytes to skip)."""
    if head.startswith(BOM):
        return "utf-8", "UTF8", len(BOM)
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=len(head) < SNIFF)
        return "utf-8", "UTF8", 0
    except UnicodeDecodeError:
        pass
    try:
        codecs.getincrementaldecoder("gb18030")().decode(head, final=len(head) < SNIFF)
        return "gb18030", "GB18030", 0
    except UnicodeDecodeError:
        raise FileRejected("无法识别的文件编码：请保存为 UTF-8 或 GBK 编码的 CSV，或使用 .xlsx") from None


def _csv(kind: Kind, file: IO[bytes], size: int, head: bytes) -> Table:
    if _looks_binary(head):
        raise FileRejected("不是电子表格文件：请上传 .xlsx 或 .csv 文件")
    codec, copy_encoding, skip = _detect_encoding(head)
    end = head.find(b"\n", skip)
    if end < 0:
        if len(head) == size:
            end = len(head)
        else:
            raise FileRejected("第1行（表头）过长")
    header_line = head[skip:end].decode(codec, errors="replace").rstrip("\r")
    headers = next(csv.reader([header_line]), [])
    if not any(h.strip() for h in headers):
        raise FileRejected("文件为空或第1行不是表头")
    columns = _map_headers(kind, headers)
    body_start = min(end + 1, size)

    async def body(progress: Progress | None) -> AsyncIterator[bytes]:
        file.seek(body_start)
        done = body_start
        while chunk := file.read(CHUNK):
            done += len(chunk)
            yield chunk
            if progress:
                await progress(done / size)

    return Table("csv", copy_encoding, columns, 2, size, body)


# ---- XLSX ------------------------------------------------------------------------------------------------------


def _cell(value: object) -> str:
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


def _xlsx(kind: Kind, file: IO[bytes], size: int) -> Table:
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_filelike(file)
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.iter_rows()
        start_row = (sheet.start or (0, 0))[0] + 1
    except Exception:
        raise FileRejected("XLSX 文件已损坏或无法读取") from None
    first = next(rows, None)
    if first is None or not any(_cell(v).strip() for v in first):
        raise FileRejected("文件为空：第1个工作表没有表头")
    headers = [_cell(v) for v in first]
    columns = _map_headers(kind, headers)
    width = len(headers)
    total = max(sheet.height - 1, 1)

    async def body(progress: Progress | None) -> AsyncIterator[bytes]:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        done = 0
        for row in rows:
            cells = [_cell(v) for v in row[:width]]
            cells.extend([""] * (width - len(cells)))
            writer.writerow(cells)
            done += 1
            if buffer.tell() >= CHUNK:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
                if progress:
                    await progress(done / total)
        if buffer.tell():
            yield buffer.getvalue().encode()

    return Table("xlsx", "UTF8", columns, start_row + 1, size, body)
