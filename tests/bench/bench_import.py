"""Benchmark: import 1,000,000 CSV registry objects through the real import path (``imports.import_file``).

Run by hand: ``uv run python -m tests.bench.bench_import [ROWS]``. It starts its own embedded PostgreSQL with the
reference settings (``tests/bench/server.py``), migrates,
generates a CSV of valid rows, then measures in the same run:

* baseline: a raw asyncpg ``copy_to_table`` of the same file into an unindexed temporary table (no validation);
* first import: every row new (validated, merged into ``registry_objects`` with its 3 indexes, checks, RLS and the
  statement-level department check);
* re-import of the same file: every row unchanged (validated and compared, nothing written).

It prints rows/s, the ratio to the baseline, the phases (wall seconds), the CPU seconds of the PostgreSQL backend that
ran the import (the machine is shared: CPU time is the steadier figure), the peak memory of the PostgreSQL backend
(``VmHWM``) and of this process (``ru_maxrss``).
"""

from __future__ import annotations

import asyncio
import csv
import os
import resource
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg
from sqlalchemy import text

from devtools.embedded import EmbeddedPostgres
from services.identity.provisioning import ensure_department, ensure_region_chain
from services.registry.columns import OBJECT_COLUMNS
from services.registry.imports import import_file
from shared import audit, migrate
from shared.db import Database, asyncpg_dsn
from shared.tenancy import apply_scope, system_scope
from tests.bench import server
from tests.bench.server import start_reference_postgres

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
INDEX = {c: i for i, c in enumerate(ALPHABET)}
TAGS = [
    ("行业", "危化"),
    ("行业", "工贸"),
    ("分类标注", "直接监管"),
    ("分类标注", "危险化学品"),
    ("分类标注", "粉尘涉爆"),
    ("分类标注", "重大危险源"),
]


def uscc(n: int) -> str:
    body = "91130528" + "".join(ALPHABET[(n // 31**i) % 31] for i in range(9))
    total = sum(INDEX[c] * w for c, w in zip(body, WEIGHTS, strict=False))
    return body + ALPHABET[(31 - total) % 31]


def generate(path: Path, rows: int) -> None:
    industries = ("危化", "工贸")
    tags = ("直接监管", "直接监管；危险化学品", "粉尘涉爆", "")
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow([c.header for c in OBJECT_COLUMNS])
        for i in range(rows):
            writer.writerow(
                [
                    uscc(i * 7919 + 13),
                    f"宁晋县测试企业{i}有限公司",
                    f"河北省邢台市宁晋县凤凰镇工业园区{i % 200}号",
                    "130528",
                    industries[i % 2],
                    "企业",
                    tags[i % 4],
                    ("", "一级", "", "三级")[i % 4] if i % 2 == 0 else "",
                    "是",
                    "ABCD"[i % 4],
                    "在营",
                    f"冀危化经字〔2023〕{i % 1000:03d}" if i % 2 == 0 else "",
                    f"2027-{i % 12 + 1:02d}-{i % 28 + 1:02d}" if i % 2 == 0 else "",
                ]
            )


def setup(workdir: Path) -> tuple[EmbeddedPostgres, str, str, uuid.UUID]:
    pg = asyncio.run(start_reference_postgres(workdir / "pg"))
    asyncio.run(pg.ensure_database("bench"))
    admin = pg.url("bench")
    runtime = pg.url("bench", "bench_app", "bench-pw")
    migrate.upgrade(admin, runtime)

    async def department() -> uuid.UUID:
        await ensure_region_chain(
            admin,
            [("130000", "河北省", "province"), ("130500", "邢台市", "city"), ("130528", "宁晋县", "county")],
        )
        dept = await ensure_department(admin, "130528-bench", "130528", "基准测试局", "基准测试局")
        conn = await asyncpg.connect(asyncpg_dsn(admin))
        try:
            await conn.executemany(
                "INSERT INTO tags (id, tenant_id, category, name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                [(uuid.uuid4(), dept, c, n) for c, n in TAGS],
            )
        finally:
            await conn.close()
        return dept

    return pg, admin, runtime, asyncio.run(department())


async def baseline(runtime: str, path: Path) -> float:
    conn = await asyncpg.connect(asyncpg_dsn(runtime))
    try:
        start = time.perf_counter()
        async with conn.transaction():
            await conn.execute(
                "CREATE TEMP TABLE raw_copy ("
                + ", ".join(f"c{i} text" for i in range(len(OBJECT_COLUMNS)))
                + ") ON COMMIT DROP"
            )
            with path.open("rb") as f:
                await conn.copy_to_table("raw_copy", source=f, format="csv", header=True)
        return time.perf_counter() - start
    finally:
        await conn.close()


def backend_stats(pid: int) -> tuple[float, float]:
    """(CPU seconds, peak resident MiB) of a PostgreSQL backend on this machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    status = Path(f"/proc/{pid}/status").read_text()
    peak = next(int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")) / 1024
    return cpu, peak


async def run_import(runtime: str, dept: uuid.UUID, path: Path) -> tuple[float, object, float, float]:
    db = Database.connect(runtime, pool_size=1)
    size = path.stat().st_size  # noqa: ASYNC240 - a benchmark, nothing else runs on this loop
    try:
        async with db.sessionmaker() as session:
            pid = (await session.execute(text("SELECT pg_backend_pid()"))).scalar_one()
            await session.commit()
            cpu_before, _ = backend_stats(pid)
            start = time.perf_counter()
            async with session.begin():
                await apply_scope(session, system_scope(dept))
                with path.open("rb") as f:
                    report = await import_file(
                        session, dept, audit.SYSTEM, "objects", f, size, filename=path.name
                    )
            elapsed = time.perf_counter() - start
            cpu_after, peak = backend_stats(pid)
        return elapsed, report, cpu_after - cpu_before, peak
    finally:
        await db.dispose()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory(prefix="spotcheck-bench-") as tmp:
        workdir = Path(tmp)
        pg, _admin, runtime, dept = setup(workdir)
        try:
            path = workdir / "objects.csv"
            start = time.perf_counter()
            generate(path, rows)
            print(f"PostgreSQL {server.describe()}")
            print(
                f"generated {rows:,} rows ({path.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - start:.1f} s"
            )
            base = asyncio.run(baseline(runtime, path))
            print(f"baseline raw asyncpg COPY:  {base:6.2f} s  {rows / base:>10,.0f} rows/s")
            backend_peak = 0.0
            for label in ("first import (all new)", "re-import (all unchanged)"):
                elapsed, report, cpu, peak = asyncio.run(run_import(runtime, dept, path))
                backend_peak = max(backend_peak, peak)
                print(
                    f"{label:26s} {elapsed:6.2f} s  {rows / elapsed:>10,.0f} rows/s  "
                    f"ratio to COPY {elapsed / base:4.1f}x  added={report.added} updated={report.updated} "
                    f"unchanged={report.unchanged}  backend CPU {cpu:.1f} s  phases={report.timings}"
                )
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"peak memory: this process (ru_maxrss) {peak:,.0f} MiB, PostgreSQL backend (VmHWM) "
                f"{backend_peak:,.0f} MiB"
            )
        finally:
            pg.stop()


if __name__ == "__main__":
    main()
