"""Loading the staging table of an import: COPY, the undoing of the export's CSV neutralisation, the columns that
match nothing, and every row's key in one round trip (the rest of the pipeline is in ``bulk``)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable

import asyncpg

from services.registry.imports.source import FileRejected, Table
from services.registry.values import TRIM
from shared.cells import from_csv_text

TRIM_SQL = "E'" + "".join(f"\\u{ord(c):04x}" for c in TRIM) + "'"  # the same characters as values.TRIM
Progress = Callable[[str, float], Awaitable[None]]


async def copy(conn: asyncpg.Connection, stage: str, table: Table, progress: Progress | None) -> None:
    async def load_progress(fraction: float) -> None:
        if progress:
            await progress("读取文件", fraction)

    try:
        await conn.copy_to_table(
            stage,
            source=table.body(load_progress if progress else None),
            columns=table.columns,
            format="csv",
            header=False,
            delimiter=table.delimiter,
            encoding=table.encoding,
        )
    except (asyncpg.DataError, asyncpg.exceptions.BadCopyFileFormatError) as exc:
        raise FileRejected(copy_error(exc, table.first_row)) from None


def copy_error(exc: asyncpg.PostgresError, first_row: int) -> str:
    context = getattr(exc, "context", None) or ""
    match = re.search(r"line (\d+)", context)
    where = f"第{int(match[1]) + first_row - 1}行：" if match else ""
    text = str(exc)
    if "extra data after last expected column" in text or "missing data for column" in text:
        return f"{where}列数与表头不一致"
    if "invalid byte sequence" in text or "has no equivalent" in text:
        return f"{where}含有无法识别的字符（文件编码错误或文件已损坏）"
    if "unterminated CSV quoted field" in text:
        return f"{where}引号未闭合"
    return f"{where}无法读取：{text}"


async def undo_neutralisation(conn: asyncpg.Connection, stage: str, columns: list[str]) -> None:
    """Values the export wrote as ``'=1+2`` (so that a spreadsheet shows them as text) are ``=1+2`` again.

    Only runs when the CSV holds an apostrophe at all; the rows are found by SQL, the undoing is ``from_csv_text``."""
    where = " OR ".join(f"{c} LIKE '''%'" for c in columns)
    rows = await conn.fetch(f"SELECT row_no, {', '.join(columns)} FROM {stage} WHERE {where}")
    changes: dict[str, tuple[list[int], list[str]]] = {}
    for row in rows:
        for column in columns:
            value = row[column]
            if value and value.startswith("'") and (undone := from_csv_text(value)) != value:
                numbers, values = changes.setdefault(column, ([], []))
                numbers.append(row["row_no"])
                values.append(undone)
    for column, (numbers, values) in changes.items():
        await conn.execute(
            f"UPDATE {stage} s SET {column} = u.v FROM unnest($1::bigint[], $2::text[]) AS u(r, v) "
            "WHERE s.row_no = u.r",
            numbers,
            values,
        )


async def filled_unknown(conn: asyncpg.Connection, stage: str, table: Table) -> list[tuple[int, str]]:
    """The columns that match nothing and hold a value in some row (one scan, only when there are such columns)."""
    checks = ", ".join(f"bool_or(btrim(_extra_{n}, {TRIM_SQL}) <> '') AS f{n}" for n, _ in table.unknown)
    row = await conn.fetchrow(f"SELECT {checks} FROM {stage}")
    assert row is not None  # an aggregate without GROUP BY returns exactly one row
    return [(n, text) for n, text in table.unknown if row[f"f{n}"]]


async def fetch_keys(conn: asyncpg.Connection, stage: str, key: str) -> tuple[list[int], list[str]]:
    """Every row's number and key cell, in one round trip (a key cell with a line break is fetched again, escaped)."""
    # One aggregate node feeds both aggregates the same rows in the same order, so no sort is needed.
    row = await conn.fetchrow(
        f"SELECT array_agg(row_no) AS rows, string_agg(coalesce({key}, ''), E'\\n') AS keys FROM {stage}"
    )
    assert row is not None  # an aggregate without GROUP BY returns exactly one row
    rows: list[int] = row["rows"] or []
    keys = row["keys"].split("\n") if rows else []
    if len(keys) != len(rows):  # a line break inside a key: rare, so only then pay for translate()
        row = await conn.fetchrow(
            f"SELECT array_agg(row_no) AS rows, "
            f"string_agg(coalesce(translate({key}, E'\\n\\r', '  '), ''), E'\\n') AS keys FROM {stage}"
        )
        assert row is not None  # as above
        rows, keys = row["rows"], row["keys"].split("\n")
    return rows, keys
