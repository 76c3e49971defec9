"""Benchmark: the verifiable draw over N eligible entries in 4 credit-risk strata, end to end, with a phase breakdown.

End to end = announce (population summary, freeze the eligible list into the draw, hash it, commit to a secret) +
draw (score, select, persist the result, publish everything the proof needs), through the same service code the API
uses, against a real PostgreSQL. Baseline, measured in the same database and run: ``ORDER BY random() LIMIT k`` per
stratum — fast, but nobody can ever check it.

    uv run python -m tests.bench.bench_draw [N]              in-process, as a request (default N = 1,000,000)
    uv run python -m tests.bench.bench_draw 10000000 --job   the large-draw path: each request queues a job
                                                             (SPOTCHECK_LARGE_DRAW_THRESHOLD, default 200,000) and
                                                             the job runs through the worker's own entry point
                                                             (shared.worker.spotcheck_run_job); timed from the first
                                                             request to the draw job's completion
    --data DIR   keep the embedded PostgreSQL (and the loaded registry) in DIR and reuse it on the next run
                 (loading 10,000,000 rows takes minutes; each run drafts a new plan and task)

    --no-verify / --verify   read the public proof afterwards and check it with the verifier (not timed; on by
                 default up to 2,000,000 entries)
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import resource
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import asyncpg
import numpy as np

from devtools.demo.seed import REGIONS
from services.draw import fast
from services.draw.proof import load_proof
from services.draw.verify import verify_proof
from services.identity.provisioning import ensure_department, ensure_region_chain
from services.planning import public_repository, service
from services.planning.public import proof_bytes
from services.planning.schemas import AnnounceRequest, DrawRequest, PlanCreate, QueuedOut, TaskCreate
from shared import migrate
from shared.context import Ctx, Department, Principal
from shared.db import asyncpg_dsn
from shared.runtime import Runtime
from shared.settings import load_settings
from shared.tenancy import empty_scope, system_scope
from shared.worker import load_job_modules, spotcheck_run_job
from tests.bench import server
from tests.bench.server import start_reference_postgres

CODE = "130528-bench"
RATIOS = {"A": "3%", "B": "5%", "C": "10%", "D": "20%"}
RISK_WEIGHTS = (0.15, 0.45, 0.30, 0.10)
ALPHABET = np.frombuffer(b"0123456789ABCDEFGHJKLMNPQRTUWXY", dtype=np.uint8)
USCC_WEIGHTS = np.array((1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28), dtype=np.int64)
LOAD_BATCH = 1_000_000


def _usccs(rng: np.random.Generator, n: int) -> np.ndarray:
    """n distinct valid USCCs of one county ("91130528" + 2 digits + 7 code characters + check), as (n, 18) uint8."""
    space = 100 * 31**7
    codes = np.empty(0, dtype=np.int64)
    while codes.size < n:
        codes = np.unique(np.concatenate([codes, rng.integers(0, space, n - codes.size + 1000)]))
    codes = rng.permutation(codes)[:n]
    digits = np.empty((n, 17), dtype=np.int64)
    digits[:, :8] = [int(chr(c), 36) for c in b"91130528"]
    for column in range(16, 9, -1):
        digits[:, column] = codes % 31
        codes = codes // 31
    digits[:, 8], digits[:, 9] = codes // 10, codes % 10
    check = (31 - (digits * USCC_WEIGHTS).sum(axis=1) % 31) % 31
    return ALPHABET[np.concatenate([digits, check[:, None]], axis=1)]


def _uuid_text(rng: np.random.Generator, n: int) -> np.ndarray:
    raw = rng.integers(0, 256, (n, 16), dtype=np.uint8)
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80
    hexdigits = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    nibbles = np.stack([raw >> 4, raw & 0x0F], axis=2).reshape(n, 32)
    text = hexdigits[nibbles]
    dash = np.full((n, 1), ord("-"), dtype=np.uint8)
    return np.concatenate(
        [text[:, :8], dash, text[:, 8:12], dash, text[:, 12:16], dash, text[:, 16:20], dash, text[:, 20:]],
        axis=1,
    )


def _column(value: bytes, n: int) -> np.ndarray:
    return np.broadcast_to(np.frombuffer(value, dtype=np.uint8), (n, len(value)))


async def _load_objects(url: str, dept_id: uuid.UUID, n: int) -> None:
    """COPY n registry rows (fixed-width lines built with numpy: valid, distinct USCCs; risk classes 15/45/30/10 %)."""
    rng = np.random.default_rng(7)
    usccs = _usccs(rng, n)
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for start in range(0, n, LOAD_BATCH):
            m = min(LOAD_BATCH, n - start)
            numbers = np.char.zfill(np.arange(start + 1, start + m + 1).astype("U9"), 9).astype("S9")
            risk = np.frombuffer(b"ABCD", dtype=np.uint8)[rng.choice(4, m, p=RISK_WEIGHTS)][:, None]
            tab = _column(b"\t", m)
            line = np.concatenate(
                [
                    _uuid_text(rng, m),
                    tab,
                    _column(str(dept_id).encode(), m),
                    tab,
                    usccs[start : start + m],
                    tab,
                    _column("企业".encode(), m),
                    numbers.view(np.uint8).reshape(m, 9),
                    tab,
                    _column("危化".encode(), m),
                    tab,
                    risk,
                    _column(b"\n", m),
                ],
                axis=1,
            )
            await conn.copy_to_table(
                "registry_objects",
                source=io.BytesIO(line.tobytes()),
                columns=["id", "tenant_id", "uscc", "name", "industry", "risk_class"],
            )
        await conn.execute(
            "INSERT INTO sections (id, tenant_id, code, name) VALUES ($1, $2, 'zfjdg', '执法监督股')"
            " ON CONFLICT DO NOTHING",
            uuid.uuid4(),
            dept_id,
        )
        await conn.execute(
            "INSERT INTO inspection_items (id, tenant_id, code, name, category) VALUES ($1, $2, 'B-1', '检查', '重点')"
            " ON CONFLICT DO NOTHING",
            uuid.uuid4(),
            dept_id,
        )
        await conn.execute("VACUUM ANALYZE registry_objects")
    finally:
        await conn.close()


async def _baseline(url: str, dept_id: uuid.UUID) -> float:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        started = time.perf_counter()
        async with conn.transaction():
            for stratum, ratio in RATIOS.items():
                n = await conn.fetchval(
                    "SELECT count(*) FROM registry_objects WHERE tenant_id = $1 AND risk_class = $2",
                    dept_id,
                    stratum,
                )
                k = -(-n * int(ratio[:-1]) // 100)
                await conn.fetch(
                    "SELECT id, uscc FROM registry_objects WHERE tenant_id = $1 AND risk_class = $2"
                    " ORDER BY random() LIMIT $3",
                    dept_id,
                    stratum,
                    k,
                )
        return time.perf_counter() - started
    finally:
        await conn.close()


async def _registry_size(url: str, dept_id: uuid.UUID) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return int(await conn.fetchval("SELECT count(*) FROM registry_objects WHERE tenant_id = $1", dept_id))
    finally:
        await conn.close()


async def _run_job(runtime: Runtime, admin_url: str, queued: QueuedOut) -> None:
    """Run a queued job exactly as the worker does (its outbox row, its entry point, its own transaction)."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        row = await conn.fetchrow(
            "SELECT tenant_id, function, kwargs FROM job_outbox WHERE id = $1", queued.job_id
        )
    finally:
        await conn.close()
    kwargs = json.loads(row["kwargs"]) if isinstance(row["kwargs"], str) else row["kwargs"]
    outcome = await spotcheck_run_job(
        {"runtime": runtime}, str(queued.job_id), str(row["tenant_id"]), row["function"], kwargs
    )
    if outcome != "completed":
        raise RuntimeError(f"job {row['function']} did not run: {outcome}")


class _Cpu:
    """CPU seconds of this process (with its forked scorer) and of every PostgreSQL process of the bench's server.

    The machine is shared: wall time moves with everyone else's load, CPU time much less."""

    def __init__(self, data_dir: Path) -> None:
        self.postmaster = int((data_dir / "postmaster.pid").read_text().split()[0])
        self.tick = os.sysconf("SC_CLK_TCK")

    def _database(self) -> float:
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.postmaster or stat.parent.name == str(self.postmaster):
                total += (
                    int(fields[11]) + int(fields[12]) + int(fields[13]) + int(fields[14])
                )  # incl. reaped workers
        return total / self.tick

    def sample(self) -> tuple[float, float]:
        own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime, self._database()


def _print_phases(title: str, total: float, phases: fast.Phases, cpu: tuple[float, float]) -> None:
    print(f"{title:<34} {total:7.3f} s   (CPU: app {cpu[0]:.3f} s, PostgreSQL {cpu[1]:.3f} s)")
    for name, seconds in phases.items():
        usage = phases.usage.get(name)
        detail = f"   (CPU: app {usage[0]:.3f} s, PostgreSQL {usage[1]:.3f} s)" if usage else ""
        print(f"    {name:<30} {seconds:7.3f} s{detail}")
    print(f"    {'(other: locks, audit, commit)':<30} {total - sum(phases.values()):7.3f} s")


async def main(n: int, *, as_job: bool, data_dir: Path | None, verify: bool) -> None:
    if not as_job:
        # Measure the request path in one process; in production a draw this large runs the same code as a job.
        os.environ["SPOTCHECK_LARGE_DRAW_THRESHOLD"] = str(10**12)
    load_job_modules()
    with tempfile.TemporaryDirectory() as tmp:
        pg = await start_reference_postgres((data_dir or Path(tmp)) / "pg")
        try:
            await pg.ensure_database("bench")
            admin, runtime_url = pg.url("bench"), pg.url("bench", "bench_app", "pw")
            await asyncio.to_thread(migrate.upgrade, admin, runtime_url)
            await ensure_region_chain(admin, REGIONS)
            dept_id = await ensure_department(admin, CODE, "130528", "宁晋县测试局", "县测试局")
            present = await _registry_size(admin, dept_id)
            if present != n:
                if present:
                    raise SystemExit(
                        f"{data_dir} holds {present:,} registry rows, not {n:,}: use another --data"
                    )
                t = time.perf_counter()
                await _load_objects(admin, dept_id, n)
                print(f"loaded {n:,} registry rows in {time.perf_counter() - t:.1f} s (setup, not measured)")

            settings = load_settings(
                {
                    "SPOTCHECK_MODE": "dev",
                    "SPOTCHECK_DATABASE_URL": runtime_url,
                    "SPOTCHECK_REDIS_URL": "redis://x",
                    "SPOTCHECK_OIDC_ISSUER": "http://127.0.0.1:9/realms/county-130528",
                }
            )
            runtime = await Runtime.start(settings, with_redis=False)
            principal = Principal(
                uuid.uuid4(), "bench", "基准", "130528", (CODE,), (), frozenset({"planner"}), CODE
            )
            department = Department(dept_id, CODE, "130528", "宁晋县测试局", "县测试局", True)
            async with runtime.unit_of_work(system_scope(dept_id)) as session:
                ctx = Ctx(session, principal, department)
                plan = await service.create_plan(
                    ctx, PlanCreate(year=2023, kind="本部门", initiating_section="zfjdg")
                )
                task = await service.add_task(
                    ctx,
                    plan.id,
                    TaskCreate(
                        name="基准任务",
                        draw_type="定向",
                        start_month="2023-05",
                        end_month="2023-06",
                        item_codes=["B-1"],
                        class_ratios=RATIOS,
                        scope={"industries": ["危化"]},  # type: ignore[arg-type]
                    ),
                )
                await service.publish_plan(ctx, plan.id)

            baselines = [await _baseline(admin, dept_id) for _ in range(1 if n > 2_000_000 else 3)]

            cpu = _Cpu(pg.data_dir)

            async def step(call: Any) -> tuple[Any, float, fast.Phases, tuple[float, float]]:
                before = cpu.sample()
                with fast.recording(cpu.sample) as phases:
                    started = time.perf_counter()
                    async with runtime.unit_of_work(system_scope(dept_id)) as session:
                        out = await call(Ctx(session, principal, department))
                    if isinstance(out, QueuedOut):
                        phases.clear()
                        phases["request (queues the job)"] = time.perf_counter() - started
                        await _run_job(runtime, admin, out)
                after = cpu.sample()
                used = (after[0] - before[0], after[1] - before[1])
                return out, time.perf_counter() - started, phases, used

            announced, announce_s, announce_phases, announce_cpu = await step(
                lambda ctx: service.announce(ctx, task.id, AnnounceRequest())
            )
            drawn, draw_s, draw_phases, draw_cpu = await step(
                lambda ctx: service.run_draw(ctx, task.id, DrawRequest(public_entropy="17,42,93"))
            )
            if as_job and not (isinstance(announced, QueuedOut) and isinstance(drawn, QueuedOut)):
                raise SystemExit(
                    "--job: the requests did not queue jobs (raise N above SPOTCHECK_LARGE_DRAW_THRESHOLD)"
                )

            async with runtime.unit_of_work(system_scope(dept_id)) as session:
                detail = await service.task_detail(Ctx(session, principal, department), task.id)
                draw_id = detail[0].draw_id
                assert draw_id is not None
                out = await service.draw_detail(
                    Ctx(session, principal, department), draw_id, with_selected=False
                )
            report = None
            t = time.perf_counter()
            if verify:
                async with runtime.unit_of_work(empty_scope(), read_replica=True) as session:
                    parts = await public_repository.get_proof_parts(session, draw_id)
                assert parts is not None
                report = verify_proof(load_proof(proof_bytes(parts)))
            verified = time.perf_counter() - t
            await runtime.close()

            total, baseline = announce_s + draw_s, min(baselines)
            mode = "as background jobs (worker entry point)" if as_job else "in the request"
            print(
                f"eligible entries {out.eligible_count:,} in 4 strata, selected {out.selected_count:,}; {mode}; "
                f"PostgreSQL {server.describe()}"
            )
            _print_phases("announce (summary, freeze, commit)", announce_s, announce_phases, announce_cpu)
            _print_phases("draw (score, select, persist, publish)", draw_s, draw_phases, draw_cpu)
            target = "≤ 15 s at 10,000,000 as a job" if as_job else "≤ 1 s at 1,000,000"
            print(
                f"END TO END                         {total:7.3f} s   (target {target}; CPU: app "
                f"{announce_cpu[0] + draw_cpu[0]:.3f} s, PostgreSQL {announce_cpu[1] + draw_cpu[1]:.3f} s)"
            )
            print(
                f"baseline ORDER BY random() LIMIT k {baseline:7.3f} s   ratio {total / baseline:.2f}× the unverifiable "
                "baseline"
            )
            if report is not None:
                print(
                    f"public proof: {'VALID' if report.ok else 'INVALID'} (read and verified in {verified:.1f} s, "
                    "not timed)"
                )
        finally:
            pg.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "n", nargs="?", type=int, default=1_000_000, help="eligible entries (default 1,000,000)"
    )
    parser.add_argument("--job", action="store_true", help="run announce and draw as background jobs")
    parser.add_argument("--data", type=Path, help="keep and reuse the embedded PostgreSQL in this folder")
    parser.add_argument(
        "--verify",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="check the public proof with the verifier afterwards (default: up to 2,000,000 entries)",
    )
    args = parser.parse_args()
    verify = args.verify if args.verify is not None else args.n <= 2_000_000
    asyncio.run(main(args.n, as_job=args.job, data_dir=args.data, verify=verify))
