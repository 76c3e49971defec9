"""Reading an uploaded spreadsheet as a stream of CSV bytes for PostgreSQL's COPY.

* CSV is passed to COPY as it is (PostgreSQL parses it, much faster than Python could): we only detect the encoding
  (UTF-8 with or without BOM, GBK/GB18030 as Excel saves it on Chinese Windows; UTF-16 with BOM, Excel's “Unicode
  文本”, is transcoded first), the separator (comma or tab), the header row among the first rows (title and blank
  rows above it are skipped) and the blank lines at the end (left out).
* XLSX is converted to such a CSV by a child process under limits (``sheet``), so both formats share one load path.

Anything else — an old .xls, a web page saved as .xlsx, a PDF, a picture, an empty file — is refused before a byte
reaches the database, with a reason that does not echo the file back.
"""

from __future__ import annotations

import codecs
import csv
import io
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import IO

from services.registry.columns import Kind
from services.registry.imports.headers import SEARCH_ROWS, best_row, read_header
from services.registry.imports.sheet import FileRejected, xlsx_to_csv

CHUNK = 1 << 20
# Control characters in the body (UTF-8 or GB18030: bytes below 0x20 are never part of a multi-byte character);
# tab, LF and CR are the file's own. A UTF-8 C1 character is C2 80–9F (in GB18030 those two bytes are a character).
_CONTROL_BYTES = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]|\xc2[\x80-\x9f]")
_CONTROL_BYTES_GB = re.compile(rb"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
SNIFF = 64 * 1024
BOM = codecs.BOM_UTF8
UTF16 = {codecs.BOM_UTF16_LE: "utf-16-le", codecs.BOM_UTF16_BE: "utf-16-be"}
Progress = Callable[[float], Awaitable[None]]
_MARKUP = (b"<!doctype", b"<html", b"<?xml", b"<table", b"<head", b"<meta", b"<!--", b"<body", b"<div")
_BLANK_TAIL = re.compile(rb'(?:^|\n)[ \t\r\n,"]*\Z')

__all__ = ["FileRejected", "Table", "open_table"]


class Table:
    """One sheet ready for COPY: the column keys in file order and the CSV body (rows above the data removed)."""

    def __init__(
        self,
        *,
        format: str,  # "csv" | "xlsx"
        codec: str,
        file: IO[bytes],
        skip: int,
        start: int,
        end: int,
        delimiter: str,
        columns: list[str],
        unknown: list[tuple[int, str]],
        header_row: int,
        size: int,
        owned: bool,
        sheet: str = "",
    ) -> None:
        self.format, self.codec, self.file, self.skip = format, codec, file, skip
        self.start, self.end, self.delimiter = start, end, delimiter
        self.columns = (
            columns  # staging column per file column ("_extra_N" for the columns that match nothing)
        )
        self.unknown = unknown  # (0-based column, header) of columns that match nothing
        self.first_row = header_row + 2  # spreadsheet row number of the first data row
        self.size, self.owned, self.sheet = size, owned, sheet
        self.encoding = {"utf-8": "UTF8", "gb18030": "GB18030"}[codec]  # COPY's ENCODING option
        self.apostrophes = False  # a ' was seen in a CSV body: values may carry the export's neutralisation

    async def body(self, progress: Progress | None) -> AsyncIterator[bytes]:
        self.file.seek(self.start)
        remaining = self.end - self.start
        total = max(remaining, 1)
        lines = 0  # data lines before this chunk, to name the row of a control character
        while remaining > 0 and (chunk := self.file.read(min(CHUNK, remaining))):
            remaining -= len(chunk)
            if self.format == "csv" and not self.apostrophes and b"'" in chunk:
                self.apostrophes = True
            control = (_CONTROL_BYTES if self.codec == "utf-8" else _CONTROL_BYTES_GB).search(chunk)
            if control is not None:
                row = self.first_row + lines + chunk.count(b"\n", 0, control.start())
                code = ord(control.group()[-1:].decode("latin-1"))
                raise FileRejected(
                    f"第{row}行含有不允许的控制字符（U+{code:04X}，常见于从其他系统复制的内容），请删除后重新导入"
                )
            lines += chunk.count(b"\n")
            yield chunk
            if progress:
                await progress(1 - remaining / total)

    def records(self) -> Iterator[list[str]]:
        """Every row of the sheet from its first row, as text cells (for the annotated copy of a rejected file)."""
        self.file.seek(self.skip)
        text = io.TextIOWrapper(self.file, encoding=self.codec, errors="replace", newline="")
        try:
            yield from csv.reader(text, delimiter=self.delimiter)
        finally:
            text.detach()

    def close(self) -> None:
        if self.owned:
            self.file.close()


async def open_table(kind: Kind, file: IO[bytes], size: int) -> Table:
    """``file`` must be seekable (an uploaded file is spooled to disk; jobs and the CLI use real files). The
    caller closes the table (it may own a converted copy of the file)."""
    if size == 0:
        raise FileRejected("文件为空")
    file.seek(0)
    head = file.read(SNIFF)
    file.seek(0)
    if head.startswith(b"PK\x03\x04"):
        converted = await xlsx_to_csv(file, size)
        try:
            return _text_table(
                kind, converted.file, converted.size, "utf-8", 0, "xlsx", True, converted.sheet
            )
        except BaseException:
            converted.file.close()
            raise
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise FileRejected("不支持旧版 .xls 文件，请在 Excel 中另存为 .xlsx 或 CSV 后再导入")
    if head[:2] in UTF16:
        converted_file, converted_size = _transcode(file, UTF16[head[:2]])
        try:
            return _text_table(kind, converted_file, converted_size, "utf-8", 0, "csv", True)
        except BaseException:
            converted_file.close()
            raise
    if head.removeprefix(BOM).lstrip().lower().startswith(_MARKUP):
        raise FileRejected(
            "不是电子表格文件：文件内容是网页（HTML）或 XML，不是 .xlsx 或 CSV（从网页或其他系统下载的“Excel”常是这样）。"
            "请在 Excel 中打开后“另存为”Excel 工作簿（.xlsx）或 CSV 再导入"
        )
    if _looks_binary(head):
        raise FileRejected("不是电子表格文件：请上传 .xlsx 或 .csv 文件")
    codec, skip = _detect_encoding(head)
    return _text_table(kind, file, size, codec, skip, "csv", False)


def _looks_binary(sample: bytes) -> bool:
    if b"\x00" in sample:
        return True
    controls = sum(1 for b in sample if b < 32 and b not in (9, 10, 13))
    return controls > len(sample) // 100


def _detect_encoding(head: bytes) -> tuple[str, int]:
    """(Python codec, bytes to skip)."""
    if head.startswith(BOM):
        return "utf-8", len(BOM)
    for codec in ("utf-8", "gb18030"):
        try:
            codecs.getincrementaldecoder(codec)().decode(head, final=len(head) < SNIFF)
            return codec, 0
        except UnicodeDecodeError:
            continue
    raise FileRejected(
        "无法识别的文件编码：请保存为 UTF-8、GBK 或 UTF-16（Unicode 文本）编码的 CSV，或使用 .xlsx"
    )


def _transcode(file: IO[bytes], codec: str) -> tuple[IO[bytes], int]:
    """UTF-16 (Excel's “Unicode 文本”) → UTF-8, which COPY reads."""
    out = tempfile.TemporaryFile()
    decoder = codecs.getincrementaldecoder(codec)()
    file.seek(2)
    try:
        while chunk := file.read(CHUNK):
            out.write(decoder.decode(chunk).encode())
        out.write(decoder.decode(b"", final=True).encode())
    except UnicodeDecodeError:
        out.close()
        raise FileRejected("文件含有无法识别的字符（UTF-16 编码错误或文件已损坏）") from None
    return out, out.tell()


def _first_records(text: str, delimiter: str) -> tuple[list[list[str]], list[int]]:
    """The first rows and, for each, the number of physical lines read up to its end."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: list[list[str]] = []
    lines: list[int] = []
    try:
        for row in reader:
            rows.append(row)
            lines.append(reader.line_num)
            if len(rows) >= SEARCH_ROWS:
                break
    except csv.Error:
        pass
    return rows, lines


def _text_table(
    kind: Kind, file: IO[bytes], size: int, codec: str, skip: int, fmt: str, owned: bool, sheet: str = ""
) -> Table:
    file.seek(skip)
    head = file.read(SNIFF)
    complete = len(head) + skip >= size
    text = codecs.getincrementaldecoder(codec)(errors="replace").decode(head, final=complete)
    if not complete:
        text = text[: text.rfind("\n") + 1]
    if not text.strip():
        raise FileRejected("文件为空或前几行过长，找不到表头")
    candidates = []
    for delimiter in (",", "\t") if fmt == "csv" else (",",):
        rows, lines = _first_records(text, delimiter)
        candidates.append((best_row(kind, rows)[1], delimiter, rows, lines))
    _, delimiter, rows, lines = max(candidates, key=lambda c: c[0])  # the first (comma) on a tie
    header = read_header(kind, rows)
    start = skip + _after_lines(head, lines[header.row])
    end = _body_end(file, size, start)
    return Table(
        format=fmt,
        codec=codec,
        file=file,
        skip=skip,
        start=start,
        end=end,
        delimiter=delimiter,
        columns=header.columns,
        unknown=header.unknown,
        header_row=header.row,
        size=size,
        owned=owned,
        sheet=sheet,
    )


def _after_lines(head: bytes, lines: int) -> int:
    position = 0
    for _ in range(lines):
        found = head.find(b"\n", position)
        if found < 0:
            return len(head)
        position = found + 1
    return position


def _body_end(file: IO[bytes], size: int, start: int) -> int:
    """Where the data ends: blank lines (or lines of only separators) at the end of the file are left out."""
    tail_start = max(start, size - SNIFF)
    file.seek(tail_start)
    tail = file.read(size - tail_start)
    match = _BLANK_TAIL.search(tail)
    if match is None:
        return size
    if match.start() == 0 and tail_start == start:
        return start  # nothing but blank lines after the header
    if match.start() == 0 and not tail.startswith(b"\n"):
        return size  # 64 KiB of blanks: where their line began is not known, and COPY accepts them
    return tail_start + match.start() + 1
