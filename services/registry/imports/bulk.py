"""Bulk import, set-based: COPY the sheet into a temporary staging table, validate, then merge in a few statements.

The whole import is one transaction (the caller's). Validation finishes before any registry row is written, and a
failure after that rolls everything back, so an import is all-or-nothing and nothing partial is ever visible.

Validation never loops over rows in Python except for the business key:

* low-cardinality columns (dates, tags, enums, sections …) are collected as *distinct* values in one scan and each
  distinct value is checked once with the same rules the forms use (``values.py``); bad values are then located;
* free-text columns are checked by one SQL predicate scan (required, length);
* the key column (USCC / 执法证号 / 事项编码) is fetched once; USCCs are pre-filtered by a vectorised check-character
  test and python-stdnum decides every suspect; duplicates are found with one dict pass;
* rules between columns (an active inspector's expired licence) run in SQL on the normalised rows.

The Python part of the key check (a vectorised pass and a set) runs in a thread while PostgreSQL runs the distinct
and text scans, so on two cores it costs no wall time.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from dataclasses import dataclass, field

import asyncpg

from services.registry.columns import COLUMNS, KEYS, Kind, header_of
from services.registry.imports.headers import describe_unknown
from services.registry.imports.kinds import SPECS, Context, KindSpec, load_context
from services.registry.imports.source import Table
from services.registry.imports.staging import (
    TRIM_SQL,
    Progress,
    copy,
    fetch_keys,
    filled_unknown,
    undo_neutralisation,
)
from services.registry.schemas import RowErrorOut
from services.registry.values import SCIENTIFIC_REASON, SCIENTIFIC_SQL

RowError = RowErrorOut  # a bad cell, reported as the API reports it (row, column, reason, value)
MAX_REPORTED_ERRORS = 1000  # listed on the page, in the API answer and in the batch
MAX_MARKED_ERRORS = 20_000  # marked in the annotated copy of the file


@dataclass
class ImportReport:
    kind: Kind
    total_rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    error_count: int = 0
    errors: list[RowError] = field(default_factory=list)
    message: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    marked: list[RowError] = field(default_factory=list)  # up to MAX_MARKED_ERRORS, for the annotated copy
    ignored: str = ""  # the columns that matched nothing and were left out as the user confirmed

    @property
    def ok(self) -> bool:
        return self.error_count == 0 and not self.message


class _Errors:
    def __init__(self, kind: Kind, first_row: int) -> None:
        self.kind = kind
        self.offset = first_row - 1  # staging row_no 1 is the first data row
        self.items: list[RowError] = []
        self.count = 0

    def add(self, row_no: int, key: str, reason: str, value: str | None = "") -> None:
        self.count += 1
        column = header_of(self.kind, key) if not key.startswith("_") else "整行"
        self.items.append(RowError(row_no + self.offset, column, reason, (value or "")[:100]))
        if len(self.items) >= MAX_MARKED_ERRORS * 2:  # keep what the copy can still mark: the first rows
            self.items = self.sorted(MAX_MARKED_ERRORS)

    def add_counted(self, extra: int) -> None:
        self.count += extra

    def sorted(self, limit: int = MAX_REPORTED_ERRORS) -> list[RowError]:
        order = {c.header: i for i, c in enumerate(COLUMNS[self.kind])}
        return sorted(self.items, key=lambda e: (e.row, order.get(e.column, -1)))[:limit]


async def run_import(
    conn: asyncpg.Connection,
    kind: Kind,
    table: Table,
    *,
    replace: bool = False,
    progress: Progress | None = None,
    ignore_unknown: bool = False,
) -> ImportReport:
    """Load, validate and (when valid) merge ``table`` inside the caller's transaction and tenant scope.

    Returns the report; when it has errors nothing was written and the caller should roll back anyway (the staging
    tables are ON COMMIT DROP).
    """
    spec = SPECS[kind]
    report = ImportReport(kind)
    clock = _Clock(report)
    context = await load_context(conn)
    stage = f"import_stage_{secrets.token_hex(4)}"
    all_columns = [c.key for c in COLUMNS[kind]] + [c for c in table.columns if c.startswith("_extra_")]
    await conn.execute("SET LOCAL work_mem = '256MB'")
    await conn.execute(
        f"CREATE TEMP TABLE {stage} (row_no bigint GENERATED ALWAYS AS IDENTITY, "
        + ", ".join(f"{c} text" for c in all_columns)
        + ") ON COMMIT DROP"
    )
    await copy(conn, stage, table, progress)
    if table.apostrophes:
        await undo_neutralisation(conn, stage, all_columns)
    clock.lap("copy")

    rows, keys = await fetch_keys(conn, stage, KEYS[kind])
    # Rows with no value at all (Excel's formatted-but-empty rows) are not data; only a row without a key can be one.
    blank = [rows[i] for i, k in enumerate(keys) if not k]
    if blank:
        nonempty = ", ".join(f"nullif(btrim({c}, {TRIM_SQL}), '')" for c in all_columns)
        deleted = {
            r["row_no"]
            for r in await conn.fetch(
                f"DELETE FROM {stage} WHERE row_no = ANY($1::bigint[]) AND num_nonnulls({nonempty}) = 0 RETURNING row_no",
                blank,
            )
        }
        if deleted:
            kept = [i for i, r in enumerate(rows) if r not in deleted]
            rows, keys = [rows[i] for i in kept], [keys[i] for i in kept]
    report.total_rows = len(rows)
    if report.total_rows == 0:
        report.message = f"文件中没有数据行：表头在第{table.first_row - 1}行，其下没有任何数据"
        return report
    if table.unknown:
        filled = await filled_unknown(conn, stage, table)
        if filled and not ignore_unknown:
            report.message = (
                f"以下列无法识别，其中的数据不会被导入：{describe_unknown(filled)}。未导入任何数据。"
                "如果这些列对应名录中的信息，请把表头改为模板中的列名（见“列说明”）后重新导入；"
                "确认不需要这些列时，请勾选“忽略无法识别的列”后重新导入"
            )
            return report
        report.ignored = describe_unknown(filled)
    clock.lap("keys")
    if progress:
        await progress("校验数据", 0.0)

    errors = _Errors(kind, table.first_row)
    # The key check is Python work: it runs in a thread while PostgreSQL scans the staging table for the others.
    key_check = asyncio.ensure_future(asyncio.to_thread(_check_keys, spec, rows, keys, errors.offset))
    try:
        maps = await _check_distinct(conn, stage, spec, context, errors)
        await _check_text(conn, stage, spec, errors)
    finally:
        key_errors, fixes = await key_check
    for row_no, reason, value in key_errors:
        errors.add(row_no, KEYS[kind], reason, value)
    clock.lap("validate")
    if fixes and not errors.count:
        await conn.execute(
            f"UPDATE {stage} s SET {KEYS[kind]} = f.v FROM unnest($1::bigint[], $2::text[]) AS f(r, v) "
            "WHERE s.row_no = f.r",
            list(fixes),
            list(fixes.values()),
        )
    norm = _normalise(stage, spec, maps)
    for row_no, key, reason, value in (
        await conn.fetch(spec.cross_checks_sql.format(norm=norm)) if spec.cross_checks_sql else []
    ):
        errors.add(row_no, key, reason, value)
    if errors.count:
        report.error_count = errors.count
        report.errors = errors.sorted()
        report.marked = errors.sorted(MAX_MARKED_ERRORS)
        return report

    if progress:
        await progress("写入名录库", 0.0)
    counts = await spec.merge(conn, norm, replace)
    report.added, report.updated, report.deactivated = counts
    report.unchanged = report.total_rows - report.added - report.updated
    clock.lap("merge")
    return report


class _Clock:
    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.report.timings[name] = round(now - self.last, 3)
        self.last = now


def _check_keys(
    spec: KindSpec, rows: list[int], keys: list[str], offset: int
) -> tuple[list[tuple[int, str, str]], dict[int, str]]:
    """Bad keys (every suspect decided by the form's parser) and duplicates. Returns (errors, fixes): errors as
    (row_no, reason, value); fixes map row_no → the canonical key when the cell differed only in form (case, spaces).
    Runs in a thread: it touches nothing but its arguments."""
    errors: list[tuple[int, str, str]] = []
    fixes: dict[int, str] = {}
    keys = list(keys)
    for index in spec.key_suspects(keys):
        try:
            value = spec.parse_key(keys[index])
        except ValueError as exc:
            errors.append((rows[index], str(exc), keys[index]))
            keys[index] = ""
            continue
        if value != keys[index]:
            fixes[rows[index]] = value
            keys[index] = value
    distinct = set(keys)
    distinct.discard("")
    if len(distinct) + keys.count("") != len(keys):  # some key repeats: find every repetition
        first: dict[str, int] = {}
        for index, value in enumerate(keys):
            if not value:
                continue
            seen = first.setdefault(value, index)
            if seen != index:
                errors.append((rows[index], f"与第{rows[seen] + offset}行重复", value))
    return errors, fixes


async def _check_distinct(
    conn: asyncpg.Connection, stage: str, spec: KindSpec, context: Context, errors: _Errors
) -> dict[str, tuple[str, str | None]]:
    """One scan collects the distinct values of every low-cardinality column; each is parsed once."""
    rules = spec.distinct_rules(context)
    if not rules:
        return {}
    keys = list(rules)
    sets = ", ".join(f"(v{i})" for i in range(len(keys)))
    select = ", ".join(f"coalesce({k}, '') AS v{i}" for i, k in enumerate(keys))
    rows = await conn.fetch(
        f"SELECT GROUPING({', '.join(f'v{i}' for i in range(len(keys)))}) AS g, * "
        f"FROM (SELECT {select} FROM {stage}) s GROUP BY GROUPING SETS ({sets})"
    )
    distinct: dict[str, list[str]] = {k: [] for k in keys}
    n = len(keys)
    for r in rows:
        # GROUPING() has a 0 bit for the column grouped in this set (most significant bit = first column).
        index = next(i for i in range(n) if not (r["g"] >> (n - 1 - i)) & 1)
        distinct[keys[index]].append(r[f"v{index}"])
    maps: dict[str, tuple[str, str | None]] = {}
    for key in keys:
        rule = rules[key]
        good_raw: list[str] = []
        good_val: list[str | None] = []
        bad: dict[str, str] = {}
        for raw in distinct[key]:
            try:
                good_val.append(rule.to_sql_text(rule.parse(raw)))
                good_raw.append(raw)
            except ValueError as exc:
                bad[raw] = str(exc)
        map_table = f"{stage}_m_{key}"
        if rule.inline is None:
            await conn.execute(
                f"CREATE TEMP TABLE {map_table} ON COMMIT DROP AS SELECT raw, {rule.sql_cast('v')} AS val "
                "FROM unnest($1::text[], $2::text[]) AS t(raw, v)",
                good_raw,
                good_val,
            )
            # Unique: the planner knows each row finds at most one value, and drops the join where it is not read.
            await conn.execute(f"ALTER TABLE {map_table} ADD PRIMARY KEY (raw)")
        maps[key] = (map_table, rule.inline)
        if bad:
            found = await conn.fetch(
                f"SELECT row_no, coalesce({key}, '') AS v FROM {stage} WHERE coalesce({key}, '') = ANY($1::text[]) "
                f"ORDER BY row_no LIMIT {MAX_MARKED_ERRORS}",
                list(bad),
            )
            total = await conn.fetchval(
                f"SELECT count(*) FROM {stage} WHERE coalesce({key}, '') = ANY($1::text[])", list(bad)
            )
            for r in found:
                errors.add(r["row_no"], key, bad[r["v"]], r["v"])
            errors.add_counted(total - len(found))
    return maps


async def _check_text(conn: asyncpg.Connection, stage: str, spec: KindSpec, errors: _Errors) -> None:
    checks = []
    for key, (required, max_length) in spec.text_rules.items():
        value = f"btrim({key}, {TRIM_SQL})"
        required_sql = f"WHEN coalesce({value}, '') = '' THEN '必填' " if required else ""
        scientific_sql = (
            f"WHEN {value} ~* {SCIENTIFIC_SQL} THEN '{SCIENTIFIC_REASON}' " if key in spec.scientific else ""
        )
        checks.append(
            (
                key,
                f"CASE {required_sql}{scientific_sql}WHEN length({key}) > {max_length} "
                f"AND length({value}) > {max_length} THEN '不能超过{max_length}个字' END",
            )
        )
    if not checks:
        return
    select = ", ".join(f"{sql} AS e_{key}" for key, sql in checks)
    where = " OR ".join(f"({sql}) IS NOT NULL" for _, sql in checks)
    found = await conn.fetch(
        f"SELECT row_no, {select}, {', '.join(f'{k} AS v_{k}' for k, _ in checks)} FROM {stage} "
        f"WHERE {where} ORDER BY row_no LIMIT {MAX_MARKED_ERRORS}"
    )
    for r in found:
        for key, _ in checks:
            if r[f"e_{key}"]:
                errors.add(r["row_no"], key, r[f"e_{key}"], r[f"v_{key}"])
    if len(found) == MAX_MARKED_ERRORS:
        total = await conn.fetchval(f"SELECT count(*) FROM {stage} WHERE {where}")
        errors.add_counted(total - len(found))


def _normalise(stage: str, spec: KindSpec, maps: dict[str, tuple[str, str | None]]) -> str:
    """The typed, trimmed rows the merge reads, as a subquery (bad values never reach the merge: it only runs
    without errors). Not materialised: writing a million-row temporary table cost more than evaluating the
    query in the merge statements."""
    selects = ["s.row_no", f"s.{KEYS[spec.kind]} AS key"]
    joins = []
    for key in spec.text_rules:
        if key in spec.width_folded:  # numbers typed full-width (１３８…) are stored as digits
            selects.append(f"btrim(normalize(coalesce(s.{key}, ''), NFKC), {TRIM_SQL}) AS {key}")
        else:
            selects.append(f"coalesce(btrim(s.{key}, {TRIM_SQL}), '') AS {key}")
    for index, (key, (table, inline)) in enumerate(maps.items()):
        if inline:
            trimmed = f"btrim(s.{key}, {TRIM_SQL})"
            selects.append(f"{inline.format(c=f's.{key}', t=trimmed)} AS {key}")
            continue
        selects.append(f"m{index}.val AS {key}")
        joins.append(f"LEFT JOIN {table} m{index} ON m{index}.raw = coalesce(s.{key}, '')")
    return f"(SELECT {', '.join(selects)} FROM {stage} s {' '.join(joins)})"
