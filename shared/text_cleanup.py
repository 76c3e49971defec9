"""``spotcheck clean-text``: find and remove control characters stored before the validated boundary existed.

Before issue #15 a BEL or ESC typed (or pasted) into a registry name, a task name or a result summary was stored as
is, and one such cell made every XLSX export and plan table of the department fail. The boundary now refuses them;
this command cleans what is already stored: every text and JSON column of every table, as the owner role (across
all departments; row-level security does not apply to the owner). It reports first and changes nothing unless asked.

Left alone on purpose: the audit log (hash-chained: a change would read as tampering) and the draw records (their
proofs commit to what was stored).
"""

from __future__ import annotations

import asyncpg

from shared.db import asyncpg_dsn

SKIPPED = frozenset({"audit_events", "alembic_version", "draws", "draw_selected"})

# What openpyxl and the boundary refuse: C0 controls except tab, LF and CR; DEL; C1 controls (NUL cannot be stored).
TEXT_PATTERN = "[\\x01-\\x08\\x0b\\x0c\\x0e-\\x1f\\x7f-\\x9f]"
# The same characters as JSON escapes inside jsonb's text form (\u0001 …, \b and \f), not preceded by an escaping
# backslash; DEL and C1 characters, which JSON leaves unescaped.
JSON_PATTERN = (
    "(?<!\\\\)((?:\\\\\\\\)*)(?:\\\\(?:u00(?:0[1-8bBcCeEfF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])|[bf])"
    "|[\\x7f-\\x9f])"
)


async def _columns(conn: asyncpg.Connection) -> list[tuple[str, str, str]]:
    rows = await conn.fetch(
        "SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c "
        "JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name "
        "WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE' "
        "AND c.data_type IN ('text', 'character varying', 'character', 'jsonb', 'ARRAY') "
        "AND (c.data_type <> 'ARRAY' OR c.udt_name IN ('_text', '_varchar')) "
        "ORDER BY c.table_name, c.ordinal_position"
    )
    return [
        (r["table_name"], r["column_name"], r["data_type"]) for r in rows if r["table_name"] not in SKIPPED
    ]


def _condition_and_value(column: str, data_type: str) -> tuple[str, str]:
    quoted = f'"{column}"'
    if data_type == "jsonb":
        return (
            f"{quoted}::text ~ $1",
            f"regexp_replace({quoted}::text, $1, '\\1', 'g')::jsonb",
        )
    if data_type == "ARRAY":
        return (
            f"EXISTS (SELECT 1 FROM unnest({quoted}) AS v WHERE v ~ $1)",
            f"ARRAY(SELECT regexp_replace(v, $1, '', 'g') FROM unnest({quoted}) WITH ORDINALITY AS u(v, n) ORDER BY n)",
        )
    return f"{quoted} ~ $1", f"regexp_replace({quoted}, $1, '', 'g')"


async def clean_text(admin_url: str, *, apply: bool) -> list[tuple[str, str, int]]:
    """(table, column, rows) holding control characters; with ``apply``, those rows cleaned in one transaction."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    found: list[tuple[str, str, int]] = []
    try:
        async with conn.transaction():
            for table, column, data_type in await _columns(conn):
                condition, value = _condition_and_value(column, data_type)
                pattern = JSON_PATTERN if data_type == "jsonb" else TEXT_PATTERN
                count = await conn.fetchval(f'SELECT count(*) FROM "{table}" WHERE {condition}', pattern)
                if not count:
                    continue
                found.append((table, column, int(count)))
                if apply:
                    await conn.execute(
                        f'UPDATE "{table}" SET "{column}" = {value} WHERE {condition}', pattern
                    )
    finally:
        await conn.close()
    return found
