"""Benchmark: public disclosure search over 1,000,000 published records, through the real app over HTTP.

Run by hand: ``uv run python -m tests.bench.bench_public_search [ROWS] [SECONDS] [CONCURRENCY]``. It starts its own
embedded PostgreSQL and Redis, migrates, COPYs ROWS rows into ``public_results`` (names and grams computed by the
app's own ``search`` module), starts ``spotcheck serve --workers 2`` with the rate limit off, then measures in the
same run, each from a separate process with the same query mix and concurrency:

* baseline: a bare asyncpg pool running the same statements (``repository.NAME_SQL`` / ``USCC_SQL``) on the same
  indexes;
* app: ``GET /api/public/results?q=…`` with an asyncio + httpx client pool.

It prints requests/s, p50/p99 latency and the ratio app/baseline. Targets (SPEC §9): ≥ 1,000 req/s, p99 ≤ 50 ms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing as mp
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg

from services.disclosure import repository as repo
from services.disclosure import search
from shared import migrate
from shared.db import asyncpg_dsn
from tests.support.services import RUNTIME_PASSWORD, RUNTIME_ROLE, run, start_postgres, start_redis
from tests.support.stack import start_app, stop

CHARS = ("宁晋县河北邢台凤凰苏家庄镇贾家口四芝兰大陆村换马店东汪耿庄桥北河庄唐邱徐家河渠大曹庄华龙恒泰鑫源"
         "德盛昌隆兴旺福瑞祥和安康顺达永丰宏远金石晶科新能源化工机械建材纺织电缆食品塑料制品钢铁铸造包装印刷"
         "物流仓储商贸服务农业科技电子材料医药器械玻璃陶瓷家具木业纸业皮革服装五金")
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc(n: int) -> str:
    body = "91130528" + "".join(ALPHABET[(n // 31**i) % 31] for i in range(9))
    total = sum(ALPHABET.index(c) * w for c, w in zip(body, WEIGHTS, strict=False))
    return body + ALPHABET[(31 - total) % 31]


def name(i: int) -> str:
    rnd = random.Random(i)
    return "宁晋县" + "".join(rnd.choice(CHARS) for _ in range(4)) + ("有限公司", "股份有限公司", "厂", "加工部")[i % 4]


def queries(rows: int, count: int = 4000) -> list[str]:
    rnd = random.Random(7)
    out = []
    for _ in range(count):
        i = rnd.randrange(rows)
        # Half by USCC (exact), half by a 3-character fragment of a real name (as a person would type it).
        out.append(uscc(i) if rnd.random() < 0.5 else name(i)[3:6])
    return out


async def load(dsn: str, rows: int) -> None:
    conn = await asyncpg.connect(dsn)
    now = dt.datetime.now(dt.UTC)
    task, draw = uuid.uuid4(), uuid.uuid4()
    batch = 100_000
    for start in range(0, rows, batch):
        records = []
        for i in range(start, min(rows, start + batch)):
            n = name(i)
            records.append((uuid.uuid4(), task, draw, "130528-yjj", "宁晋县应急管理局", "130528", "2023001",
                            "2023年宁晋县应急管理局内部门联合抽查001", "001号", "危化企业抽查", uscc(i), n,
                            search.normalise(n), search.name_grams(n), "宁晋县", "危化企业安全生产检查",
                            dt.date(2023, 6, 15), ["未发现问题"], 0, "无需后续处置",
                            now - dt.timedelta(seconds=i)))
        await conn.copy_records_to_table("public_results", records=records, columns=[
            "id", "task_id", "draw_id", "department_code", "department_name", "region_code", "plan_number",
            "plan_name", "task_number", "task_name", "uscc", "enterprise_name", "name_key", "name_grams", "address",
            "items", "check_date", "categories", "hazard_count", "follow_up", "published_at"])
    await conn.execute("ANALYZE public_results")
    await conn.close()


def _summary(latencies: list[float], elapsed: float, errors: int) -> dict[str, float]:
    latencies.sort()
    return {"rps": len(latencies) / elapsed, "p50": statistics.median(latencies) * 1000,
            "p99": latencies[int(len(latencies) * 0.99) - 1] * 1000, "n": len(latencies), "errors": errors}


async def _drive(call: Any, qs: list[str], seconds: float, concurrency: int) -> dict[str, float]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds

    async def worker(offset: int) -> None:
        nonlocal errors
        i = offset
        while time.perf_counter() < deadline:
            q = qs[i % len(qs)]
            i += concurrency
            t0 = time.perf_counter()
            try:
                await call(q)
            except Exception:
                errors += 1
                continue
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(k) for k in range(concurrency)))
    return _summary(latencies, time.perf_counter() - t0, errors)


async def _baseline(dsn: str, qs: list[str], seconds: float, concurrency: int) -> dict[str, float]:
    pool = await asyncpg.create_pool(dsn, min_size=concurrency, max_size=concurrency)

    async def call(q: str) -> None:
        async with pool.acquire() as conn:
            if search.is_uscc(q):
                await conn.fetch(repo.USCC_SQL, q, 20)
            else:
                await conn.fetch(repo.NAME_SQL, search.query_grams(q), search.like_pattern(q), 20)

    result = await _drive(call, qs, seconds, concurrency)
    await pool.close()
    return result


async def _http(url: str, qs: list[str], seconds: float, concurrency: int) -> dict[str, float]:
    import httpx

    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=10) as client:
        async def call(q: str) -> None:
            response = await client.get("/api/public/results", params={"q": q})
            response.raise_for_status()

        return await _drive(call, qs, seconds, concurrency)


def _in_process(kind: str, target: str, qs: list[str], seconds: float, concurrency: int, out: Any) -> None:
    fn = _baseline if kind == "baseline" else _http
    out.put(asyncio.run(fn(target, qs, seconds, concurrency)))


def measure(kind: str, target: str, qs: list[str], seconds: float, concurrency: int) -> dict[str, float]:
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_in_process, args=(kind, target, qs, seconds, concurrency, out))
    proc.start()
    result = out.get()
    proc.join()
    return result


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 15
    concurrency = int(sys.argv[3]) if len(sys.argv) > 3 else 32
    base = Path(tempfile.mkdtemp(prefix="spotcheck-bench-search-"))
    postgres, redis = start_postgres(base), start_redis(base)
    app = None
    try:
        run(postgres.recreate_database, "bench_search")
        admin = postgres.url("bench_search")
        runtime_url = postgres.url("bench_search", RUNTIME_ROLE, RUNTIME_PASSWORD)
        migrate.upgrade(admin, runtime_url)
        t0 = time.perf_counter()
        asyncio.run(load(asyncpg_dsn(admin), rows))
        print(f"loaded {rows:,} published records in {time.perf_counter() - t0:.1f} s")
        app = start_app(base, {
            "SPOTCHECK_MODE": "dev", "SPOTCHECK_DATABASE_URL": runtime_url, "SPOTCHECK_ADMIN_DATABASE_URL": admin,
            "SPOTCHECK_REDIS_URL": redis.url, "SPOTCHECK_OIDC_ISSUER": "http://127.0.0.1:9/realms/county-130528",
            "SPOTCHECK_OIDC_DEV_PROVIDER": "1", "SPOTCHECK_PUBLIC_SEARCH_PER_MINUTE": "0",
        }, workers=2)
        qs = queries(rows)
        measure("http", app.url, qs[:200], 2, 8)  # warm-up
        baseline = measure("baseline", asyncpg_dsn(runtime_url), qs, seconds, concurrency)
        http = measure("http", app.url, qs, seconds, concurrency)
        for label, r in (("bare asyncpg (baseline)", baseline), ("app GET /api/public/results", http)):
            print(f"{label:30s} {r['rps']:8.0f} req/s  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
                  f"  n={r['n']:.0f} errors={r['errors']:.0f}")
        print(f"ratio app/baseline: {http['rps'] / baseline['rps']:.2f} (throughput), "
              f"p99 {http['p99'] / baseline['p99']:.2f}x; target ≥ 1000 req/s, p99 ≤ 50 ms, concurrency {concurrency}")
    finally:
        if app is not None:
            stop(app.proc)
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
