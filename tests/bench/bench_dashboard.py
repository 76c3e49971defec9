"""Benchmark: the county monthly report and dashboard over 1,000,000 inspection records.

Run by hand: ``uv run python -m tests.bench.bench_dashboard [ROWS] [REPEATS]``. It starts its own embedded PostgreSQL
(``devtools.embedded.EmbeddedPostgres``), migrates (``shared.migrate.upgrade``), and generates with
``INSERT … SELECT generate_series`` three departments of the county, 40,000 registry entries each, twelve monthly
tasks per department, ROWS inspection results over this year (~85 % published, some late, some overdue drafts),
a hazard on every tenth result and some monthly reports. It then measures, in the same run, warm, median of REPEATS:

* app: the real code path — ``services.reporting.service.dashboard`` under the county overseer's scope (RLS on,
  runtime role) plus ``monthly_report`` of last month for each department under its own scope;
* baseline: one hand-written SQL aggregate of the same per-department numbers, as the superuser (no RLS), over
  asyncpg.

It prints both figures and the ratio app/baseline. Target: ≤ 500 ms.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import asyncpg

from devtools.embedded import EmbeddedPostgres
from services.reporting import service
from services.reporting.dashboard_schemas import Dashboard
from shared import migrate
from shared.context import Ctx, Department, Principal
from shared.db import asyncpg_dsn
from shared.runtime import Runtime
from shared.settings import load_settings
from shared.tenancy import department_scope, overseer_scope

REGION = "130528"
DEPARTMENTS = [
    ("130528-yjj", "宁晋县应急管理局", "县应急管理局"),
    ("130528-xfjy", "宁晋县消防救援大队", "县消防救援大队"),
    ("130528-scjg", "宁晋县市场监督管理局", "县市场监督管理局"),
]
OBJECTS = 40_000
RUNTIME_ROLE, RUNTIME_PASSWORD = "bench_dashboard_app", "bench-dashboard-pw"

BASELINE_SQL = """
SELECT r.tenant_id,
       count(*) AS results,
       count(DISTINCT r.object_id) AS objects_checked,
       count(*) FILTER (WHERE r.status = '已公示') AS published,
       count(*) FILTER (WHERE r.status = '已公示' AND (r.published_at AT TIME ZONE 'Asia/Shanghai')::date <= r.due_on) AS on_time,
       count(*) FILTER (WHERE r.status <> '已公示' AND r.due_on < $3) AS overdue_results,
       (SELECT count(*) FROM result_hazards h WHERE h.tenant_id = r.tenant_id) AS hazards,
       (SELECT count(*) FROM registry_objects o WHERE o.tenant_id = r.tenant_id AND o.active) AS registry_size
FROM inspection_results r
WHERE coalesce(r.check_date, r.check_end) >= $1 AND coalesce(r.check_date, r.check_end) < $2
GROUP BY r.tenant_id
"""


def prefix(dept_id: uuid.UUID, ids: list[uuid.UUID]) -> str:
    return f"91{ids.index(dept_id) + 1:02d}"


async def generate(dsn: str, rows: int, year: int) -> list[uuid.UUID]:
    conn = await asyncpg.connect(dsn)
    ids = [uuid.uuid5(uuid.NAMESPACE_URL, code) for code, _, _ in DEPARTMENTS]
    per_task = -(-rows // (len(DEPARTMENTS) * 12))
    assert per_task <= OBJECTS, "too many rows for the registry size"
    try:
        # Bulk generation: rollup triggers off, then one rebuild from the records (what the migration does too).
        await conn.execute("ALTER TABLE inspection_results DISABLE TRIGGER report_results_stats")
        await conn.execute("ALTER TABLE result_hazards DISABLE TRIGGER report_hazards_stats")
        await conn.execute(
            "INSERT INTO regions (code, name, level) VALUES ($1, '宁晋县', 'county') ON CONFLICT DO NOTHING",
            REGION,
        )
        for dept_id, (code, name, short) in zip(ids, DEPARTMENTS, strict=True):
            await conn.execute(
                "INSERT INTO departments (id, code, region_code, name, short_name)"
                " VALUES ($1, $2, $3, $4, $5)",
                dept_id,
                code,
                REGION,
                name,
                short,
            )
            await conn.execute(
                "INSERT INTO registry_objects (id, tenant_id, uscc, name, industry, risk_class)"
                " SELECT gen_random_uuid(), $1, $2 || lpad(i::text, 14, '0'), '企业' || i, '危化',"
                " (ARRAY['A','B','C','D'])[1 + i % 4] FROM generate_series(1, $3) i",
                dept_id,
                prefix(dept_id, ids),
                OBJECTS,
            )
            plan_id = uuid.uuid4()
            await conn.execute(
                "INSERT INTO plans (id, tenant_id, number, seq, name, year, kind, table_date, status, created_by)"
                " VALUES ($1, $2, $3, 1, $4, $5, '内部联合', $6, '已发布', 'bench')",
                plan_id,
                dept_id,
                f"{year}001",
                f"{year}年宁晋县内部门联合抽查001",
                year,
                dt.date(year, 1, 10),
            )
            await conn.execute(
                "INSERT INTO tasks (id, tenant_id, plan_id, number, seq, name, draw_type, ratio_mode, ratios,"
                " start_month, end_month, status, created_by)"
                " SELECT gen_random_uuid(), $1, $2, lpad(m::text, 3, '0') || '号', m, '抽查任务' || m, '不定向',"
                " 'overall', '{\"all\": \"0.05\"}'::jsonb, make_date($3, m, 1), make_date($3, m, 1), '实施中', 'bench'"
                " FROM generate_series(1, 12) m",
                dept_id,
                plan_id,
                year,
            )
            # ROWS / 36 results per monthly task, each on a distinct enterprise of the department's registry.
            await conn.execute(
                """
                INSERT INTO inspection_results (id, tenant_id, task_id, uscc, object_id, status, check_date, check_end,
                    due_on, entered_by, entered_by_name, published_at, categories)
                SELECT gen_random_uuid(), t.tenant_id, t.id, o.uscc, o.id,
                       CASE WHEN k % 20 < 17 THEN '已公示' WHEN k % 20 = 17 THEN '草稿' WHEN k % 20 = 18 THEN '待审核'
                            ELSE '退回' END,
                       CASE WHEN k % 7 = 0 THEN NULL ELSE t.start_month + (k % 28) END,
                       t.start_month + (k % 28), t.start_month + (k % 28) + 28, 'bench', '测试',
                       CASE WHEN k % 20 < 17 THEN (t.start_month + (k % 28) + (k % 40))::timestamptz END,
                       ARRAY['未发现问题']
                FROM tasks t
                CROSS JOIN generate_series(0, $2 - 1) k
                JOIN registry_objects o ON o.tenant_id = t.tenant_id
                     AND o.uscc = $4 || lpad((1 + (k + t.seq * 1013) % $3)::text, 14, '0')
                WHERE t.tenant_id = $1
                """,
                dept_id,
                per_task,
                OBJECTS,
                prefix(dept_id, ids),
            )
        await conn.execute(
            "INSERT INTO result_hazards (id, tenant_id, result_id, description, severity, rectify_by, status)"
            " SELECT gen_random_uuid(), tenant_id, id, '隐患', CASE WHEN random() < 0.1 THEN '重大隐患' ELSE '一般隐患' END,"
            " check_end + 30, (ARRAY['整改中','已整改','已整改','逾期未整改'])[1 + (abs(hashtext(id::text)) % 4)]"
            " FROM inspection_results WHERE abs(hashtext(id::text)) % 10 = 0"
        )
        for dept_id in ids:
            await conn.execute(
                "INSERT INTO monthly_reports (id, tenant_id, year, month, status, updated_by, snapshot, submitted_at,"
                " submitted_by, submitted_by_name)"
                " SELECT gen_random_uuid(), $1, $2, m, '已提交', 'bench', '{\"own\": [], \"joint\": []}'::jsonb,"
                " make_date($2, m + 1, 20), 'bench', '测试' FROM generate_series(1, 10) m",
                dept_id,
                year,
            )
        await conn.execute("SELECT report_stats_rebuild()")
        await conn.execute("ALTER TABLE inspection_results ENABLE TRIGGER report_results_stats")
        await conn.execute("ALTER TABLE result_hazards ENABLE TRIGGER report_hazards_stats")
        await conn.execute("ANALYZE")
        total = await conn.fetchval("SELECT count(*) FROM inspection_results")
        print(f"generated {total:,} inspection results, {OBJECTS * len(ids):,} registry entries")
    finally:
        await conn.close()
    return ids


async def measure(admin: str, runtime_url: str, ids: list[uuid.UUID], year: int, repeats: int) -> None:
    today = dt.date(year, 12, 20)
    settings = load_settings(
        {
            "SPOTCHECK_MODE": "dev",
            "SPOTCHECK_DATABASE_URL": runtime_url,
            "SPOTCHECK_ADMIN_DATABASE_URL": admin,
            "SPOTCHECK_REDIS_URL": "redis://127.0.0.1:9/0",
            "SPOTCHECK_OIDC_ISSUER": f"http://127.0.0.1:9/realms/county-{REGION}",
        }
    )
    runtime = await Runtime.start(settings, with_redis=False)
    overseer = Principal(
        user_id=uuid.uuid4(),
        username="county-overseer",
        name="孙强",
        region_code=REGION,
        departments=(),
        groups=(),
        roles=frozenset({"county-overseer"}),
    )
    departments = [
        Department(id=i, code=c, region_code=REGION, name=n, short_name=s, active=True)
        for i, (c, n, s) in zip(ids, DEPARTMENTS, strict=True)
    ]
    report_year, report_month = service.last_month(today)

    async def app_once() -> Dashboard:
        async with runtime.unit_of_work(overseer_scope(REGION)) as session:
            view = await service.dashboard(session, overseer, None, year, today)
        for dept in departments:
            principal = Principal(
                user_id=uuid.uuid4(),
                username="p",
                name="p",
                region_code=REGION,
                departments=(dept.code,),
                groups=(),
                roles=frozenset({"planner"}),
                active_department=dept.code,
            )
            async with runtime.unit_of_work(department_scope(dept.id, read_only=True)) as session:
                await service.monthly_report(Ctx(session, principal, dept), report_year, report_month, today)
        return view

    baseline_conn = await asyncpg.connect(asyncpg_dsn(admin))

    async def baseline_once() -> list:
        return await baseline_conn.fetch(BASELINE_SQL, dt.date(year, 1, 1), dt.date(year + 1, 1, 1), today)

    try:
        view = await app_once()
        base = {r["tenant_id"]: r for r in await baseline_once()}
        by_code = {dept.code: dept for dept in departments}
        for d in view.departments:  # the same numbers, or the comparison is void
            b = base[by_code[d.code].id]
            for key in (
                "results",
                "objects_checked",
                "published",
                "on_time",
                "overdue_results",
                "hazards",
                "registry_size",
            ):
                assert getattr(d, key) == b[key], (d.code, key, getattr(d, key), b[key])
        app_times, base_times = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            await app_once()
            app_times.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            await baseline_once()
            base_times.append(time.perf_counter() - t0)
        app_ms, base_ms = statistics.median(app_times) * 1000, statistics.median(base_times) * 1000
        totals = view.totals
        print(
            f"records: {totals.results:,} results, {totals.hazards:,} hazards, {totals.published:,} published"
        )
        print(
            f"app (dashboard + 3 monthly reports, RLS): median {app_ms:.0f} ms, min {min(app_times) * 1000:.0f} ms"
        )
        print(
            f"baseline (one hand-written aggregate, superuser): median {base_ms:.0f} ms, "
            f"min {min(base_times) * 1000:.0f} ms"
        )
        print(
            f"ratio app/baseline: {app_ms / base_ms:.2f}   target ≤ 500 ms: {'MET' if app_ms <= 500 else 'MISSED'}"
        )
    finally:
        await baseline_conn.close()
        await runtime.close()


def main() -> None:
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    year = dt.date.today().year
    with tempfile.TemporaryDirectory(prefix="bench-dashboard-") as tmp:
        postgres = EmbeddedPostgres(Path(tmp) / "postgres").start()
        try:
            asyncio.run(postgres.ensure_database("bench_dashboard"))
            admin = postgres.url("bench_dashboard")
            runtime_url = postgres.url("bench_dashboard", RUNTIME_ROLE, RUNTIME_PASSWORD)
            migrate.upgrade(admin, runtime_url)
            t0 = time.perf_counter()
            ids = asyncio.run(generate(asyncpg_dsn(admin), rows, year))
            print(f"generation: {time.perf_counter() - t0:.1f} s")
            asyncio.run(measure(admin, runtime_url, ids, year, repeats))
        finally:
            postgres.stop()


if __name__ == "__main__":
    main()
