"""Benchmark: the verifiable draw over N eligible entries in 4 credit-risk strata, end to end.

End to end = announce (freeze the eligible list into the draw, hash it, commit to a secret) + draw (score, select,
persist the result, build and publish the proof), through the same service code the API uses, against a real
PostgreSQL. Baseline, measured in the same database and run: ``ORDER BY random() LIMIT k`` per stratum — fast,
but nobody can ever check it.

    uv run python -m tests.bench.bench_draw [N]      (default 1,000,000)
"""

from __future__ import annotations

import asyncio
import io
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from services.identity.departments import Department
from services.identity.principal import Principal
from services.identity.provisioning import ensure_department, ensure_region_chain
from services.planning import service
from services.planning.schemas import AnnounceRequest, DrawRequest, PlanCreate, TaskCreate
from services.registry.demo_data import make_uscc
from shared import migrate
from shared.db import asyncpg_dsn
from shared.demo import REGIONS
from shared.embedded import EmbeddedPostgres
from shared.runtime import Runtime
from shared.settings import load_settings
from shared.tenancy import system_scope

CODE = "130528-bench"
RATIOS = {"A": "3%", "B": "5%", "C": "10%", "D": "20%"}


async def _load_objects(url: str, dept_id: uuid.UUID, n: int) -> None:
    rng = random.Random(7)
    seen: set[str] = set()
    buffer = io.BytesIO()
    while len(seen) < n:
        uscc = make_uscc(rng)
        if uscc in seen:
            continue
        seen.add(uscc)
        risk = rng.choices("ABCD", weights=(15, 45, 30, 10))[0]
        buffer.write(f"{uuid.uuid4()}\t{dept_id}\t{uscc}\t企业{len(seen)}\t危化\t{risk}\n".encode())
    buffer.seek(0)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        await conn.copy_to_table(
            "registry_objects", source=buffer, columns=["id", "tenant_id", "uscc", "name", "industry", "risk_class"]
        )
        await conn.execute(
            "INSERT INTO sections (id, tenant_id, code, name) VALUES ($1, $2, 'zfjdg', '执法监督股')", uuid.uuid4(),
            dept_id,
        )
        await conn.execute(
            "INSERT INTO inspection_items (id, tenant_id, code, name, category) VALUES ($1, $2, 'B-1', '检查', '重点')",
            uuid.uuid4(), dept_id,
        )
        await conn.execute("ANALYZE registry_objects")
    finally:
        await conn.close()


async def _baseline(url: str, dept_id: uuid.UUID) -> float:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        started = time.perf_counter()
        async with conn.transaction():
            for stratum, ratio in RATIOS.items():
                n = await conn.fetchval(
                    "SELECT count(*) FROM registry_objects WHERE tenant_id = $1 AND risk_class = $2", dept_id, stratum
                )
                k = -(-n * int(ratio[:-1]) // 100)
                await conn.fetch(
                    "SELECT id, uscc FROM registry_objects WHERE tenant_id = $1 AND risk_class = $2"
                    " ORDER BY random() LIMIT $3", dept_id, stratum, k,
                )
        return time.perf_counter() - started
    finally:
        await conn.close()


async def main(n: int) -> None:
    # Measure the draw's own work in one process; in production a draw this large runs the same code in a worker.
    os.environ["SPOTCHECK_LARGE_DRAW_THRESHOLD"] = str(10**12)
    with tempfile.TemporaryDirectory() as tmp:
        pg = EmbeddedPostgres(Path(tmp) / "pg").start()
        try:
            await pg.ensure_database("bench")
            admin, runtime_url = pg.url("bench"), pg.url("bench", "bench_app", "pw")
            await asyncio.to_thread(migrate.upgrade, admin, runtime_url)
            await ensure_region_chain(admin, REGIONS)
            dept_id = await ensure_department(admin, CODE, "130528", "宁晋县测试局", "县测试局")
            t = time.perf_counter()
            await _load_objects(admin, dept_id, n)
            print(f"loaded {n:,} registry rows in {time.perf_counter() - t:.1f} s (setup, not measured)")

            settings = load_settings({
                "SPOTCHECK_MODE": "dev", "SPOTCHECK_DATABASE_URL": runtime_url, "SPOTCHECK_REDIS_URL": "redis://x",
                "SPOTCHECK_OIDC_ISSUER": "http://127.0.0.1:9/realms/county-130528",
            })
            runtime = await Runtime.start(settings, with_redis=False)
            principal = Principal(uuid.uuid4(), "bench", "基准", "130528", (CODE,), (), frozenset({"planner"}), CODE)
            department = Department(dept_id, CODE, "130528", "宁晋县测试局", "县测试局", True)
            async with runtime.unit_of_work(system_scope(dept_id)) as session:
                ctx = service.Ctx(session, principal, department)
                plan = await service.create_plan(ctx, PlanCreate(year=2023, kind="本部门", initiating_section="zfjdg"))
                task = await service.add_task(ctx, plan.id, TaskCreate(
                    name="基准任务", draw_type="定向", start_month="2023-05", end_month="2023-06", item_codes=["B-1"],
                    class_ratios=RATIOS, scope={"industries": ["危化"]},  # type: ignore[arg-type]
                ))
                await service.publish_plan(ctx, plan.id)

            baselines = [await _baseline(admin, dept_id) for _ in range(3)]
            import cProfile
            profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") else None
            if profiler:
                profiler.enable()
            started = time.perf_counter()
            async with runtime.unit_of_work(system_scope(dept_id)) as session:
                await service.announce(service.Ctx(session, principal, department), task.id, AnnounceRequest())
            announced = time.perf_counter()
            async with runtime.unit_of_work(system_scope(dept_id)) as session:
                drawn = await service.run_draw(service.Ctx(session, principal, department), task.id, DrawRequest())
            finished = time.perf_counter()
            if profiler:
                profiler.disable()
                import pstats

                pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
            await runtime.close()

            total, baseline = finished - started, min(baselines)
            print(f"eligible entries           {n:,} in 4 strata, selected {drawn.selected_count:,}")
            print(f"announce (freeze + commit) {announced - started:.3f} s")
            print(f"draw (select, persist, proof) {finished - announced:.3f} s")
            print(f"END TO END                 {total:.3f} s   (target ≤ 1 s at 1,000,000)")
            print(f"baseline ORDER BY random() {baseline:.3f} s   ratio {total / baseline:.1f}× the unverifiable baseline")
        finally:
            pg.stop()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000))
