"""The PostgreSQL server the benchmarks measure on: an embedded server given the reference machine's settings.

``research/perf.md`` measured its anchors on PostgreSQL with ``shared_buffers = 1GB`` (the embedded default is
128 MB). ``max_wal_size = 4GB`` is PostgreSQL's own advice for bulk loads ("Populating a Database"): a
1,000,000-row import writes about 600 MB of WAL, and with the default 1 GB a checkpoint starts in the middle of it
and every page it touches again is written twice (full-page images) — about 2.7 s of that import. Production
servers get the same settings (``deploy/compose.yaml``, README "Production").
"""

from __future__ import annotations

from pathlib import Path

import asyncpg

from devtools.embedded import EmbeddedPostgres
from shared.db import asyncpg_dsn

SERVER_SETTINGS = {"shared_buffers": "1GB", "max_wal_size": "4GB"}


def describe() -> str:
    return ", ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items())


async def _configure(superuser_url: str) -> bool:
    """Apply the settings; True when the server must restart for them (``shared_buffers``)."""
    conn = await asyncpg.connect(asyncpg_dsn(superuser_url))
    try:
        changed = False
        for name, value in SERVER_SETTINGS.items():
            if await conn.fetchval(f"SHOW {name}") != value:
                await conn.execute(f"ALTER SYSTEM SET {name} = '{value}'")
                changed = True
        return changed
    finally:
        await conn.close()


async def start_reference_postgres(data_dir: Path) -> EmbeddedPostgres:
    pg = EmbeddedPostgres(data_dir).start()
    if await _configure(pg.superuser_url):
        pg.stop()
        pg = EmbeddedPostgres(data_dir).start()
    return pg
