"""``spotcheck clean-text`` finds control characters stored before the boundary existed and removes them, in text,
array and JSON columns alike, without touching line breaks, escaped backslashes or anything else (issue #15)."""

from __future__ import annotations

import json

import asyncpg

from shared.db import asyncpg_dsn
from shared.text_cleanup import clean_text
from tests.support.services import run

PROBE = "clean_text_probe"


async def _plant(admin_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {PROBE}")
        await conn.execute(f"CREATE TABLE {PROBE} (id int PRIMARY KEY, name text, tags text[], data jsonb)")
        await conn.execute(
            f"INSERT INTO {PROBE} VALUES (1, $1, $2, $3::jsonb), (2, $4, $5, $6::jsonb)",
            "危化\x07企业\x1b[0m",
            ["甲\x08", "乙"],
            json.dumps({"note": "第一行\n第二行\x0c\x85", "path": "C:\\u0007dir"}, ensure_ascii=False),
            "干净的\n名称\t带制表",
            ["丙"],
            json.dumps({"note": "ok"}),
        )
    finally:
        await conn.close()


async def _rows(admin_url: str) -> list[tuple[str, list[str], dict[str, str]]]:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        rows = await conn.fetch(f"SELECT name, tags, data::text AS data FROM {PROBE} ORDER BY id")
        return [(r["name"], list(r["tags"]), json.loads(r["data"])) for r in rows]
    finally:
        await conn.close()


async def _drop(admin_url: str) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(f"DROP TABLE IF EXISTS {PROBE}")
    finally:
        await conn.close()


def test_clean_text_reports_then_cleans(db_urls: dict[str, str]) -> None:
    admin = db_urls["admin"]
    run(_plant, admin)
    try:
        before = run(_rows, admin)
        found = run(lambda: clean_text(admin, apply=False))
        mine = {(t, c): n for t, c, n in found if t == PROBE}
        assert mine == {(PROBE, "name"): 1, (PROBE, "tags"): 1, (PROBE, "data"): 1}
        assert run(_rows, admin) == before  # a report changes nothing

        run(lambda: clean_text(admin, apply=True))
        cleaned = run(_rows, admin)
        assert cleaned[0] == (
            "危化企业[0m",
            ["甲", "乙"],
            {"note": "第一行\n第二行", "path": "C:\\u0007dir"},  # an escaped backslash is text, kept
        )
        assert cleaned[1] == before[1]  # line breaks and tabs are not control characters to remove
        assert [f for f in run(lambda: clean_text(admin, apply=False)) if f[0] == PROBE] == []
    finally:
        run(_drop, admin)
