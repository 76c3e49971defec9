"""Untrusted XLSX is read in a child process under memory, CPU, time and output limits (``sheet_child.py``).

A spreadsheet is a zip of XML that a reader expands in memory: one stray cell at ``XFD1048576`` made the reader ask
for hundreds of gigabytes and abort the whole server. The child bounds the work before reading (the sheet's own
dimension and used range, the zip's declared sizes) and, if a file still gets past that, only the child dies: the
upload is refused with the reason and the limit, and the server goes on.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import structlog

from shared.errors import InvalidInput

log = structlog.get_logger()
CHILD = Path(__file__).with_name("sheet_child.py")

MAX_XLSX_BYTES = 200 << 20
MAX_COLUMNS = 200
MAX_CELLS = (
    15_000_000  # a 1,000,000-row, 15-column sheet: about 1.6 GB in the reader (200,000 × 13 took 0.28 GB)
)
MEMORY = 3 << 30
CPU_SECONDS = 600
WALL_SECONDS = 900
LIMITS = {
    "memory": MEMORY,
    "cpu_seconds": CPU_SECONDS,
    "max_output": 4 << 30,
    "max_unzipped": 4 << 30,
    "max_columns": MAX_COLUMNS,
    "max_cells": MAX_CELLS,
}
LIMITS_TEXT = (
    f"Excel 文件的上限：文件{MAX_XLSX_BYTES >> 20} MB，最多{MAX_COLUMNS}列、{MAX_CELLS // 10_000}万个单元格，"
    f"读取内存{MEMORY >> 30} GB、{WALL_SECONDS // 60}分钟"
)


class FileRejected(InvalidInput):
    """The file as a whole cannot be imported (422, ``field="file"``): the reason and, where one applies, the limit."""

    code = "bad_file"

    def __init__(self, message: str) -> None:
        super().__init__(message, field="file")


@dataclass
class Converted:
    """The sheet as UTF-8 CSV (record n = sheet row n); the caller closes ``file``."""

    file: IO[bytes]
    size: int
    sheet: str
    hidden: list[str]


async def xlsx_to_csv(upload: IO[bytes], size: int) -> Converted:
    if size > MAX_XLSX_BYTES:
        raise FileRejected(
            f"Excel 文件有{size / 2**20:.0f} MB，超过上限{MAX_XLSX_BYTES >> 20} MB：请另存为 CSV 后导入（CSV 不限大小）"
        )
    workdir = Path(tempfile.mkdtemp(prefix="sheet-"))
    try:
        source, out = workdir / "in.xlsx", workdir / "out.csv"
        upload.seek(0)
        with source.open("wb") as target:
            shutil.copyfileobj(upload, target, 1 << 20)
        upload.seek(0)
        result = await _run_child(source, out)
        file = out.open("rb")
        out.unlink()  # the open file stays readable; nothing is left behind if the process dies
        hidden = result.get("hidden")
        return Converted(
            file,
            int(file.seek(0, 2)),
            str(result["sheet"]),
            [str(h) for h in hidden] if isinstance(hidden, list) else [],
        )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def _run_child(source: Path, out: Path) -> dict[str, object]:
    env = {**os.environ, "MALLOC_ARENA_MAX": "2", "RUST_BACKTRACE": "0"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-I",
        str(CHILD),
        str(source),
        str(out),
        json.dumps(LIMITS),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    try:
        stdout, stderr = await asyncio.wait_for(process.communicate(), WALL_SECONDS)
    except TimeoutError:
        process.kill()
        await process.wait()
        raise FileRejected(
            f"读取 Excel 文件超过{WALL_SECONDS // 60}分钟仍未完成，已停止。请另存为 CSV 后导入。{LIMITS_TEXT}"
        ) from None
    except asyncio.CancelledError:
        process.kill()
        raise
    text = stdout.decode("utf-8", errors="replace").strip().splitlines()
    answer: dict[str, object] = {}
    if text:
        try:
            answer = json.loads(text[-1])
        except ValueError:
            answer = {}
    if process.returncode == 0 and "sheet" in answer:
        return answer
    if process.returncode == 3 and isinstance(answer.get("error"), str):
        raise FileRejected(str(answer["error"]))
    log.warning(
        "registry.sheet_reader_failed",
        returncode=process.returncode,
        stderr=stderr[-2000:].decode(errors="replace"),
    )
    raise FileRejected(
        "无法读取该 Excel 文件：读取它需要的内存或时间超过了上限（文件结构异常，或表格范围过大）。"
        f"请检查表格右侧和下方是否有多余的内容，或另存为 CSV 后导入。{LIMITS_TEXT}"
    )
