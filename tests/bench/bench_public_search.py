"""Benchmark: public disclosure search over 1,000,000 published records, through the real app over HTTP.

Run by hand: ``uv run python -m tests.bench.bench_public_search [ROWS] [SECONDS] [CONCURRENCY,…]`` (defaults
1,000,000, 15 s, 8,16,32: each concurrency is measured for the baseline and the app in turn). It starts its own
embedded PostgreSQL and Redis and migrates, then:

* **Load**: ROWS published records are COPYed into ``public_results`` (text COPY fed by two generator processes,
  the secondary indexes dropped during the load and rebuilt after it, then ``VACUUM (ANALYZE)``); names, ``name_key`` and
  ``name_grams`` come from the app's own ``services.disclosure.search``. Names look like the county's:
  ``宁晋县`` + a two- or three-character trade name + a line of business + a legal form, e.g. 宁晋县华龙恒纺织有限公司.
* **App**: ``spotcheck serve --workers 2``, the production server command (uvicorn, two worker processes), in dev mode
  with the development OIDC provider; nothing else about the app is changed except the public search limit, which is
  raised to 1,000,000,000 per minute for the load client (``SPOTCHECK_PUBLIC_SEARCH_PER_MINUTE``): a single client
  address would otherwise be answered 429 after 120 searches a minute, by design. The limiter still runs.
* **Query mix** (``queries``), each query different from the others as far as the names allow, walked in order, so
  that no answer can come from a cache: 50 % USCC (exact), 30 % a two- to four-character fragment of a trade name,
  10 % a trade name with its line of business (e.g. 华龙恒纺织), 10 % common words matching thousands of records
  (纺织有限公司, 宁晋县, a line of business) — these repeat, as popular searches do.
* **Baseline** (separate process): a bare asyncpg pool running, for each query, the same SQL statement that the
  app's search chooses (``public_search.page``: ``repository`` SQL, ``search.plan_name_query``) on the same indexes
  and with the same connection settings (``reader.PublicReader``).
* **App run** (separate process): ``GET /api/public/results?q=…`` over CONCURRENCY keep-alive HTTP/1.1 connections
  from a small asyncio client on raw sockets (no load tool is installed; httpx would be the bottleneck). Every
  answer is checked to be 200 with a JSON body.

It prints requests/s, p50/p99 latency and errors of both, the ratio app/baseline, and the machine's load average
(the 2 cores are shared: the database, the app, the client and anything else running). Targets (the product's public-site targets):
≥ 1,000 requests/s, p99 ≤ 50 ms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import asyncpg

from services.disclosure import public_search, search
from services.disclosure import repository as repo
from services.disclosure.reader import PublicReader
from shared import migrate
from shared.db import asyncpg_dsn
from tests.support.services import RUNTIME_PASSWORD, RUNTIME_ROLE, run, start_postgres, start_redis
from tests.support.stack import start_app, stop

PAGE = 20
LOAD_CLIENT_LIMIT = "1000000000"
BRAND = (
    "华龙恒泰鑫源德盛昌隆兴旺福瑞祥和安康顺达永丰宏远金石晶科凤凰苏家庄贾口四芝兰大陆换马店东汪耿桥北唐邱徐渠曹"
    "天宇博通海润嘉禾聚力富强创新盈利合众万达广泰中信荣丰锦程明辉春秋百川千禧光远腾飞凯旋九州鼎盛瑞丰乐康"
)
TRADE = (
    "化工",
    "机械",
    "建材",
    "纺织",
    "电缆",
    "食品",
    "塑料制品",
    "钢铁",
    "铸造",
    "包装",
    "印刷",
    "物流",
    "仓储",
    "商贸",
    "农业科技",
    "电子",
    "新材料",
    "医药",
    "医疗器械",
    "玻璃",
    "陶瓷",
    "家具",
    "木业",
    "纸业",
    "皮革",
    "服装",
    "五金",
    "新能源",
    "羊绒制品",
    "线缆",
)
FORM = ("有限公司", "股份有限公司", "厂", "加工部", "有限责任公司")
COMMON = (
    "宁晋县",
    "纺织有限公司",
    "电缆",
    "化工厂",
    "羊绒制品",
    "有限责任公司",
    "五金加工部",
    "鑫",
    "食品有限",
)
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
INDEX = {c: i for i, c in enumerate(ALPHABET)}
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
TASKS = 500
DEPARTMENTS = (
    ("130528-yjj", "宁晋县应急管理局"),
    ("130528-scjg", "宁晋县市场监督管理局"),
    ("130528-xfjy", "宁晋县消防救援大队"),
)
COLUMNS = (
    "id",
    "task_id",
    "draw_id",
    "department_code",
    "department_name",
    "region_code",
    "plan_number",
    "plan_name",
    "task_number",
    "task_name",
    "uscc",
    "enterprise_name",
    "name_key",
    "name_grams",
    "address",
    "items",
    "check_date",
    "categories",
    "hazard_count",
    "follow_up",
    "published_at",
)
NEWEST = dt.datetime(2025, 6, 30, 8, 0, tzinfo=dt.UTC)


# --- data ------------------------------------------------------------------------------------------------------


def _mix(i: int) -> int:
    """A 64-bit hash of the row number (splitmix64's finaliser): cheap, deterministic, well spread."""
    x = (i * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & 0xFFFFFFFFFFFFFFFF
    x = ((x ^ (x >> 31)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    return x ^ (x >> 29)


def _parts(i: int) -> tuple[str, str, str]:
    x, n = _mix(i), len(BRAND)
    brand = BRAND[x % n] + BRAND[(x >> 8) % n] + ("" if (x >> 16) & 1 else BRAND[(x >> 20) % n])
    return brand, TRADE[(x >> 28) % len(TRADE)], FORM[(x >> 36) % len(FORM)]


def name(i: int) -> str:
    brand, trade, form = _parts(i)
    return "宁晋县" + brand + trade + form


def uscc(i: int) -> str:
    body = "91130528" + "".join(ALPHABET[(i // 31**k) % 31] for k in range(9))
    total = sum(INDEX[c] * w for c, w in zip(body, WEIGHTS, strict=False))
    return body + ALPHABET[(31 - total) % 31]


def copy_chunk(bounds: tuple[int, int]) -> bytes:
    """Rows [start, stop) in COPY text format (tab-separated, ``\\N`` for NULL, arrays as ``{a,b}``)."""
    start, stop_ = bounds
    out = []
    for i in range(start, stop_):
        n = name(i)
        t = i % TASKS
        code, department = DEPARTMENTS[t % 3]
        year, batch = 2021 + t % 5, t % 12 + 1
        found = i % 7 == 0
        out.append(
            f"00000000-0000-4000-8000-{i:012x}\t00000000-0000-4000-9000-{t:012x}\t\\N\t{code}\t{department}\t130528\t"
            f"{year}{t % 100:03d}\t{year}年{department}双随机抽查计划\t{t % 100 + 1:03d}号\t{year}年第{batch}批抽查任务\t"
            f"{uscc(i)}\t{n}\t{search.normalise(n)}\t{{{','.join(search.name_grams(n))}}}\t宁晋县{n[3:5]}村\t"
            f"安全生产检查\t{year}-{batch:02d}-15\t{{{'发现问题已责令改正' if found else '未发现问题'}}}\t{int(found)}\t"
            f"{'责令改正并跟踪' if found else '无需后续处置'}\t{(NEWEST - dt.timedelta(minutes=i)).isoformat()}\n"
        )
    return "".join(out).encode()


async def load(dsn: str, rows: int, processes: int = 2) -> None:
    """COPY ``rows`` published records; the secondary indexes are dropped first and rebuilt after."""
    conn = await asyncpg.connect(dsn)
    try:
        indexes = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'public_results'"
            " AND indexname <> 'public_results_pkey'"
        )
        for index in indexes:
            await conn.execute(f"DROP INDEX {index['indexname']}")
        loop = asyncio.get_running_loop()
        bounds = [(start, min(rows, start + 50_000)) for start in range(0, rows, 50_000)]
        with mp.get_context("spawn").Pool(processes) as pool:
            chunks = pool.imap(copy_chunk, bounds)

            async def source() -> Any:
                while (chunk := await loop.run_in_executor(None, next, chunks, None)) is not None:
                    yield chunk

            await conn.copy_to_table("public_results", source=source(), columns=list(COLUMNS))
        await conn.execute("SET maintenance_work_mem = '512MB'")
        for index in indexes:
            await conn.execute(index["indexdef"])
        # What autovacuum does to an insert-only table in production: hint bits set, visibility map, statistics.
        await conn.execute("VACUUM (ANALYZE) public_results")
    finally:
        await conn.close()


def queries(rows: int, count: int = 60_000, seed: int = 7) -> list[str]:
    """The query mix (see the module docstring), distinct where the names allow."""
    import random

    rnd = random.Random(seed)
    out: list[str] = []
    seen: set[str] = set()
    tries = 0
    while len(out) < count:
        i = rnd.randrange(rows)
        roll = rnd.random()
        if roll < 0.5:
            q = uscc(i)
        elif roll < 0.9:
            brand, trade, _ = _parts(i)
            if roll < 0.8:
                start = rnd.randrange(max(1, len(brand) - 1))
                q = brand[start : start + rnd.choice((2, 3, 4))]
            else:
                q = brand + trade
        else:
            q = rnd.choice(COMMON)
        if q not in COMMON and q in seen and tries < 100:
            tries += (
                1  # a small register has fewer distinct names than the mix wants: then repeats are allowed
            )
            continue
        tries = 0
        seen.add(q)
        out.append(q)
    return out


# --- measuring -------------------------------------------------------------------------------------------------


def _summary(
    latencies: list[float], elapsed: float, errors: int, sample_error: str, cpu: float
) -> dict[str, Any]:
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "n": len(latencies),
        "errors": errors,
        "sample_error": sample_error,
        "client_cpu": cpu,
    }


def cpu_seconds(root_pids: list[int]) -> float:
    """CPU time (user + system) used so far by these processes and all their descendants, including exited
    descendants that were waited for (PostgreSQL's backends, uvicorn's workers)."""
    import psutil

    total = 0.0
    for pid in root_pids:
        if pid <= 0:
            continue
        try:
            root = psutil.Process(pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for proc in procs:
            try:
                t = proc.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system + t.children_user + t.children_system
    return total


async def _drive(make_worker: Any, qs: list[str], seconds: float, concurrency: int) -> dict[str, Any]:
    """CONCURRENCY workers take the next query of the shared list until the time is up."""
    latencies: list[float] = []
    state = {"next": 0, "errors": 0, "sample": ""}
    deadline = time.perf_counter() + seconds

    async def worker() -> None:
        call = await make_worker()
        while time.perf_counter() < deadline:
            q = qs[state["next"] % len(qs)]
            state["next"] += 1
            t0 = time.perf_counter()
            try:
                await call(q)
            except Exception as exc:
                state["errors"] += 1
                state["sample"] = state["sample"] or f"{type(exc).__name__}: {exc}"
                continue
            latencies.append(time.perf_counter() - t0)

    t0, cpu0 = time.perf_counter(), time.process_time()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return _summary(
        latencies, time.perf_counter() - t0, state["errors"], state["sample"], time.process_time() - cpu0
    )


async def _baseline(dsn: str, qs: list[str], seconds: float, concurrency: int) -> dict[str, Any]:
    """The same statements as the app's search (``public_search.page``: same SQL, same choice of index, same
    connection settings through ``PublicReader``) on a bare asyncpg pool: no HTTP, no framework, no cache."""
    reader = await PublicReader.open(dsn, concurrency)
    stats = await repo.gram_stats(reader)

    async def make_worker() -> Any:
        async def call(q: str) -> None:
            key = public_search.cache_key(q)
            assert key is not None
            await public_search.page(reader, key, stats)

        return call

    try:
        return await _drive(make_worker, qs, seconds, concurrency)
    finally:
        await reader.close()


class HttpConnection:
    """One keep-alive HTTP/1.1 connection on raw asyncio streams: GET, read the status line, headers and body."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, url: str) -> HttpConnection:
        parts = urlsplit(url)
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        return cls(reader, writer, parts.netloc)

    async def get(self, path: str) -> tuple[int, bytes]:
        self.writer.write(
            f"GET {path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: application/json\r\n\r\n".encode()
        )
        head = await self.reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            key, _, value = line.partition(":")
            if key.lower() == "content-length":
                length = int(value)
            elif key.lower() == "transfer-encoding":
                raise RuntimeError("chunked answers are not expected here")
        return status, await self.reader.readexactly(length)


async def _http(url: str, qs: list[str], seconds: float, concurrency: int) -> dict[str, Any]:
    async def make_worker() -> Any:
        conn = await HttpConnection.open(url)

        async def call(q: str) -> None:
            status, body = await conn.get(f"/api/public/results?q={quote(q)}")
            if status != 200 or not body.startswith(b'{"q":'):
                raise RuntimeError(f"HTTP {status}: {body[:200]!r}")

        return call

    return await _drive(make_worker, qs, seconds, concurrency)


def _in_process(kind: str, target: str, qs: list[str], seconds: float, concurrency: int, out: Any) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    fn = _baseline if kind == "baseline" else _http
    out.put(asyncio.run(fn(target, qs, seconds, concurrency)))


def measure(
    kind: str,
    target: str,
    qs: list[str],
    seconds: float,
    concurrency: int,
    servers: dict[str, list[int]] | None = None,
) -> dict[str, Any]:
    """Run one measurement in a separate process (its own interpreter, as a real client would be); with
    ``servers`` (label → process ids), also the CPU time each group of server processes used per answer."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    proc = ctx.Process(target=_in_process, args=(kind, target, qs, seconds, concurrency, out))
    before = {label: cpu_seconds(pids) for label, pids in (servers or {}).items()}
    proc.start()
    result: dict[str, Any] = out.get()
    proc.join()
    for label, pids in (servers or {}).items():
        result[f"{label}_cpu"] = cpu_seconds(pids) - before[label]
    return result


def _line(label: str, r: dict[str, Any]) -> str:
    text = (
        f"{label:34s} {r['rps']:7.0f} req/s  p50 {r['p50']:6.1f} ms  p99 {r['p99']:6.1f} ms"
        f"  n={r['n']:.0f} errors={r['errors']:.0f}"
    )
    return text + (f"  (first error: {r['sample_error']})" if r["errors"] else "")


def _cpu_line(r: dict[str, Any]) -> str:
    """CPU time per answer: what each part costs, independent of what else the machine was running."""
    parts = [
        f"{label} {r[f'{label}_cpu'] / r['n'] * 1e6:.0f}"
        for label in ("postgres", "app")
        if f"{label}_cpu" in r
    ]
    parts.append(f"client {r['client_cpu'] / r['n'] * 1e6:.0f}")
    return "    CPU µs per answer: " + ", ".join(parts)


def postmaster_pid(base: Path) -> int:
    """The embedded PostgreSQL's postmaster (first line of ``postmaster.pid`` in its data directory)."""
    found = list(base.glob("**/postmaster.pid"))
    return int(found[0].read_text().split()[0]) if found else -1


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 15
    concurrencies = [int(c) for c in (sys.argv[3] if len(sys.argv) > 3 else "8,16,32").split(",")]
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
        print(
            f"loaded {rows:,} published records in {time.perf_counter() - t0:.1f} s (COPY, indexes rebuilt, VACUUM ANALYZE)"
        )
        app = start_app(
            base,
            {
                "SPOTCHECK_MODE": "dev",
                "SPOTCHECK_DATABASE_URL": runtime_url,
                "SPOTCHECK_ADMIN_DATABASE_URL": admin,
                "SPOTCHECK_REDIS_URL": redis.url,
                "SPOTCHECK_OIDC_ISSUER": "http://127.0.0.1:9/realms/county-130528",
                "SPOTCHECK_OIDC_DEV_PROVIDER": "1",
                "SPOTCHECK_PUBLIC_SEARCH_PER_MINUTE": LOAD_CLIENT_LIMIT,
            },
            workers=2,
        )
        qs = queries(rows)
        repeats = 1 - len(set(qs)) / len(qs)
        measure(
            "http", app.url, queries(rows, 2000, seed=11), 3, 8
        )  # warm-up: connections, statements, statistics
        servers = {"postgres": [postmaster_pid(base)], "app": [app.proc.pid]}
        print(
            f"{rows:,} published records; {seconds:.0f} s per run; app: spotcheck serve --workers 2 (search limit"
            f" raised to {int(LOAD_CLIENT_LIMIT):,}/min for the one load client); {len(qs):,} queries in the mix,"
            f" {repeats:.1%} of them repeats (the common words; more when a small register runs out of distinct names)"
        )
        for k, concurrency in enumerate(concurrencies):
            # Each concurrency gets its own draw of the mix: the app's answer cache cannot serve one run's queries
            # from the run before (apart from the common words, which repeat by design).
            mix = qs if k == 0 else queries(rows, seed=7 + k)
            baseline = measure("baseline", asyncpg_dsn(runtime_url), mix, seconds, concurrency, servers)
            http = measure("http", app.url, mix, seconds, concurrency, servers)
            print(
                f"\n{concurrency} concurrent connections, load average {os.getloadavg()[0]:.2f}"
                " (2 cores shared by the database, the app, the client and whatever else runs on the machine)"
            )
            print(_line("bare asyncpg, same SQL (baseline)", baseline))
            print(_cpu_line(baseline))
            print(_line("app GET /api/public/results", http))
            print(_cpu_line(http))
            met = http["rps"] >= 1000 and http["p99"] <= 50 and not http["errors"]
            print(
                f"ratio app/baseline: throughput {http['rps'] / baseline['rps']:.2f},"
                f" p99 {http['p99'] / baseline['p99']:.2f}x; target ≥ 1000 req/s and p99 ≤ 50 ms:"
                f" {'met' if met else 'NOT met'}"
            )
    finally:
        if app is not None:
            stop(app.proc)
        redis.stop()
        postgres.stop()
    # The database of a million rows takes 2 GB; a failed run never gets here and keeps it (and the app's log).
    shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
