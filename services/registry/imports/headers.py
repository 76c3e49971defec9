"""Finding the header row of a sheet and reading staff's own wording of it.

Staff keep title rows above the table (``宁晋县消防救援大队检查对象名录库（2023年）`` in merged cells), blank rows, and
headers in their own words: ``信用风险⏎分类``, ``是否直接监管（是/否）``, ``*统一社会信用代码``, full-width brackets.
A header is normalised (NFKC, no spaces or line breaks, no required-marker, no trailing hint in brackets) and looked
up among every column's header and synonyms; the header row is the row among the first ``SEARCH_ROWS`` that names the
most columns. A column that matches nothing is kept (``_extra_N``) so the import can say whether it holds data.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from services.registry.columns import COLUMNS, Kind
from services.registry.imports.sheet import FileRejected

SEARCH_ROWS = 10
# Columns that carry nothing to import: left out without asking.
IGNORED = frozenset({"序号", "序", "编号序号", "no", "No", "NO", "行号"})
_SPACE = re.compile(r"\s+")
_HINT = re.compile(r"[(\[【〔<《][^()\[\]【】〔〕<>《》]*[)\]】〕>》]$")


def normalise(header: str) -> str:
    text = _SPACE.sub("", unicodedata.normalize("NFKC", header))
    text = text.strip("*※:")
    while True:
        stripped = _HINT.sub("", text).strip("*※:")
        if stripped == text or not stripped:
            break
        text = stripped
    return text


def _lookup(kind: Kind) -> dict[str, str]:
    mapping: dict[str, str] = {}
    for column in COLUMNS[kind]:
        mapping.setdefault(normalise(column.header), column.key)
    for column in COLUMNS[kind]:
        for alias in column.aliases:
            mapping.setdefault(normalise(alias), column.key)
    return mapping


LOOKUP: dict[Kind, dict[str, str]] = {kind: _lookup(kind) for kind in COLUMNS}


def key_of(kind: Kind, header: str) -> str | None:
    return LOOKUP[kind].get(normalise(header))


@dataclass
class Header:
    row: int  # 0-based record index of the header row
    columns: list[str]  # staging column per file column
    unknown: list[tuple[int, str]]  # (0-based column, header text) of columns that match nothing
    cells: list[str]


def score(kind: Kind, cells: list[str]) -> int:
    return len({k for c in cells if (k := key_of(kind, c)) is not None})


def best_row(kind: Kind, rows: list[list[str]]) -> tuple[int, int]:
    """(index, score) of the row naming the most columns among the first rows (the first such row on a tie)."""
    best = (-1, 0)
    for index, cells in enumerate(rows[:SEARCH_ROWS]):
        found = score(kind, cells)
        if found > best[1]:
            best = (index, found)
    return best


def read_header(kind: Kind, rows: list[list[str]]) -> Header:
    index, found = best_row(kind, rows)
    if found == 0:
        shown = next((r for r in rows if any(c.strip() for c in r)), [])
        raise FileRejected(
            f"在前{SEARCH_ROWS}行中没有找到表头（应有“{'、'.join(c.header for c in COLUMNS[kind] if c.required)}”等列）。"
            f"读到的第一行是：{_shown(shown)}。请使用下载的模板，或把表头改为模板中的列名"
        )
    cells = rows[index]
    columns: list[str] = []
    unknown: list[tuple[int, str]] = []
    seen: dict[str, str] = {}
    for number, text in enumerate(cells):
        key = key_of(kind, text)
        if key is None:
            columns.append(f"_extra_{number}")
            if normalise(text) not in IGNORED:
                unknown.append((number, text))
            continue
        if key in seen:
            raise FileRejected(
                f"第{index + 1}行（表头）：“{_short(text)}”与“{_short(seen[key])}”是同一列，请删除其中一列"
            )
        seen[key] = text
        columns.append(key)
    missing = [c.header for c in COLUMNS[kind] if c.required and c.key not in seen]
    if missing:
        raise FileRejected(
            f"缺少必需的列：{'、'.join(missing)}（表头在第{index + 1}行，读到的是：{_shown(cells)}）。"
            "请使用下载的模板，或把表头改为模板中的列名"
        )
    return Header(index, columns, unknown, cells)


def _short(text: str, length: int = 20) -> str:
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= length else text[:length] + "…"


def _shown(cells: list[str]) -> str:
    names = [_short(c) for c in cells if c.strip()][:15]
    more = "等" if len([c for c in cells if c.strip()]) > 15 else ""
    return ("、".join(names) + more) or "空行"


def describe_unknown(unknown: list[tuple[int, str]]) -> str:
    return "、".join(
        f"第{n + 1}列“{_short(t)}”" if t.strip() else f"第{n + 1}列（无表头）" for n, t in unknown
    )
