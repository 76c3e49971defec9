"""Benchmark: a mixed workload against the whole product for 60 s, from a separate process.

    uv run python -m tests.bench.bench_mixed [SECONDS] [CONCURRENCY] [PUBLIC_ROWS]   (default 60 s, 24, 100,000)

It starts what production runs, on one machine: an embedded PostgreSQL and Redis, `spotcheck migrate`, the seed
county (demo data), the development OIDC provider, `spotcheck serve --workers 2` and one `spotcheck worker`. It loads
PUBLIC_ROWS published records (COPY, as bench_public_search does), then prepares work through the real API: the seed's
plan 2023001 is created, published, announced, drawn and matched, and the two demo inspectors' assignments are read.

The load (one separate process, asyncio + httpx, CONCURRENCY virtual users split 60 / 25 / 15 %):

* public  — the public site: `GET /public?q=` (HTML) and `GET /api/public/results?q=` alternately, half USCC, half a
  name fragment; the public rate limit is switched off for the load client (it would answer 429 by design);
* inspector — result entry as a demo inspector with a Bearer token: read the entry view, save a complete draft
  (the phone page's autosave), read the result list;
* planner — a signed-in planner's pages with a browser session: plan list, plan page, task page (draw, teams).

Baseline, in the same run and at the same concurrency: `GET /health` (routing, middleware, no database) — the
floor of what this app server can answer on this machine. Prints per-kind and total throughput, p50/p99 and
errors, and the ratio of the mixed throughput to the baseline.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from devtools.demo import seed
from shared import migrate
from shared.db import asyncpg_dsn
from shared.runtime import Runtime
from shared.settings import load_settings
from tests.bench import bench_public_search as public_bench
from tests.planning.conftest import SEED_TASK_2023001
from tests.support.services import RUNTIME_PASSWORD, RUNTIME_ROLE, run, start_postgres, start_redis
from tests.support.stack import spawn, start_app, start_dev_sso, stop, wait_http

INSPECTORS = ("yjj-insp-whjg", "yjj-insp-whjc")
SHARES = {"public": 0.60, "inspector": 0.25, "planner": 0.15}


# --- preparation (this process) --------------------------------------------------------------------------------


async def _load_seed(env: dict[str, str]) -> None:
    runtime = await Runtime.start(load_settings(env))
    try:
        await seed.load(env["SPOTCHECK_ADMIN_DATABASE_URL"], runtime)
    finally:
        await runtime.close()


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _ok(response: httpx.Response) -> Any:
    if response.status_code >= 400:
        raise RuntimeError(
            f"{response.request.method} {response.request.url}: {response.status_code} {response.text}"
        )
    return response.json()


def prepare_task(url: str, planner_token: str) -> dict[str, Any]:
    """The seed's plan 2023001 through the real API, up to matched teams."""
    with httpx.Client(base_url=url, headers=_bearer(planner_token), timeout=120) as api:
        plan = _ok(
            api.post(
                "/api/plans",
                json={
                    "year": 2023,
                    "kind": "内部联合",
                    "initiating_section": "zfjdg",
                    "joint_sections": ["whjgg", "whjcg"],
                },
            )
        )
        task = _ok(api.post(f"/api/plans/{plan['id']}/tasks", json=SEED_TASK_2023001))
        _ok(api.post(f"/api/plans/{plan['id']}/publish", json={}))
        _ok(api.post(f"/api/tasks/{task['id']}/announce", json={}))
        _ok(api.post(f"/api/tasks/{task['id']}/draw", json={}))
        teams = _ok(api.post(f"/api/tasks/{task['id']}/match", json={}))["teams"]
    return {"plan_id": plan["id"], "task_id": task["id"], "teams": teams}


def assign(
    url: str,
    planner_token: str,
    task_id: str,
    teams: list[dict[str, Any]],
    inspector_id: str,
    count: int,
    offset: int,
) -> None:
    """Give a demo inspector (a registry inspector with a login) ``count`` teams, by recorded adjustments."""
    with httpx.Client(base_url=url, headers=_bearer(planner_token), timeout=60) as api:
        for team in teams[offset : offset + count]:
            if inspector_id in {m["inspector_id"] for m in team["members"]}:
                continue
            _ok(
                api.post(
                    f"/api/tasks/{task_id}/teams/adjust",
                    json={
                        "uscc": team["uscc"],
                        "slot": 0,
                        "inspector_id": inspector_id,
                        "reason": "压力测试：安排有登录账号的检查人员",
                    },
                )
            )


async def _inspector_ids(admin_dsn: str) -> dict[str, str]:
    import asyncpg

    conn = await asyncpg.connect(admin_dsn)
    try:
        rows = await conn.fetch("SELECT id, user_id FROM inspectors WHERE user_id IS NOT NULL")
    finally:
        await conn.close()
    return {str(r["user_id"]): str(r["id"]) for r in rows}


def _subject(token: str) -> str:
    import base64
    import json

    payload = token.split(".")[1]
    return str(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["sub"])


def inspector_work(url: str, token: str, task_id: str) -> list[dict[str, Any]]:
    """Each assignment of one inspector in the task, with a complete draft for it."""
    work = []
    with httpx.Client(base_url=url, headers=_bearer(token), timeout=60) as api:
        for assignment in _ok(api.get("/api/my/assignments")):
            if str(assignment.get("task_id")) != task_id:
                continue
            uscc = assignment["uscc"]
            view = _ok(api.get(f"/api/tasks/{task_id}/results/{uscc}"))
            points = view["points"]
            draft = {
                "check_date": "2023-06-15",
                "summary": "现场检查未发现问题",
                "points": [{"check_point_id": p["id"], "outcome": "符合"} for p in points],
                "categories": ["未发现问题"],
                "follow_ups": [{"action": "无需后续处置"}],
            }
            work.append({"path": f"/api/tasks/{task_id}/results/{uscc}", "draft": draft})
    return work


def browser_session(url: str, username: str) -> dict[str, str]:
    """Sign in through the login page of the OIDC provider, as a browser does; returns the session cookies."""
    with httpx.Client(base_url=url, follow_redirects=True, timeout=60) as browser:
        form = browser.get("/login")
        token = re.search(r'name="auth_session" value="([^"]+)"', form.text)
        if token is None:
            raise RuntimeError(f"no login form at {form.url}: {form.status_code}")
        done = browser.post(
            form.url.copy_with(query=None),
            data={"auth_session": token.group(1), "username": username, "password": "demo"},
        )
        if done.status_code != 200 or str(done.url).startswith(str(form.url.copy_with(query=None))):
            raise RuntimeError(f"login of {username} failed: {done.status_code} {done.url}")
        return {c.name: c.value for c in browser.cookies.jar if c.port is None or str(c.port) in url}


# --- the load (a separate process) -----------------------------------------------------------------------------


def _summary(latencies: list[float], errors: int, elapsed: float) -> dict[str, float]:
    latencies = sorted(latencies)
    if not latencies:
        return {"rps": 0.0, "p50": 0.0, "p99": 0.0, "n": 0, "errors": errors}
    return {
        "rps": len(latencies) / elapsed,
        "p50": statistics.median(latencies) * 1000,
        "p99": latencies[max(0, int(len(latencies) * 0.99) - 1)] * 1000,
        "n": len(latencies),
        "errors": errors,
    }


async def _drive(plan: dict[str, Any]) -> dict[str, dict[str, float]]:
    url, seconds, concurrency = plan["url"], plan["seconds"], plan["concurrency"]
    latencies: dict[str, list[float]] = {k: [] for k in ("health", *SHARES)}
    errors: dict[str, int] = dict.fromkeys(latencies, 0)
    samples: dict[str, list[str]] = {}
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:

        async def timed(kind: str, request: Any) -> None:
            t0 = time.perf_counter()
            try:
                response = await request
                if response.status_code >= 400:
                    errors[kind] += 1
                    samples.setdefault(kind, []).append(f"{response.status_code} {response.text[:160]}")
                    return
            except httpx.HTTPError as exc:
                errors[kind] += 1
                samples.setdefault(kind, []).append(repr(exc))
                return
            latencies[kind].append(time.perf_counter() - t0)

        async def health_user(seed: int) -> None:
            while time.perf_counter() < deadline:
                await timed("health", client.get("/health"))

        async def public_user(seed: int) -> None:
            rnd, qs = random.Random(seed), plan["queries"]
            while time.perf_counter() < deadline:
                q = rnd.choice(qs)
                path = "/public" if rnd.random() < 0.5 else "/api/public/results"
                await timed("public", client.get(path, params={"q": q}))

        async def inspector_user(seed: int) -> None:
            rnd = random.Random(seed)
            mine = plan["inspectors"][seed % len(plan["inspectors"])]
            headers = _bearer(mine["token"])
            while time.perf_counter() < deadline:
                job = rnd.choice(mine["work"])
                step = rnd.random()
                if step < 0.4:
                    await timed("inspector", client.get(job["path"], headers=headers))
                elif step < 0.85:
                    await timed("inspector", client.post(job["path"], json=job["draft"], headers=headers))
                else:
                    await timed("inspector", client.get("/api/results", headers=headers))

        async def planner_user(seed: int) -> None:
            rnd = random.Random(seed)
            pages = list(plan["planner_pages"])
            while time.perf_counter() < deadline:
                await timed("planner", client.get(rnd.choice(pages), cookies=plan["planner_cookies"]))

        if plan["mode"] == "baseline":
            users = [health_user(k) for k in range(concurrency)]
        else:
            n_inspector = max(1, round(concurrency * SHARES["inspector"]))
            n_planner = max(1, round(concurrency * SHARES["planner"]))
            n_public = max(1, concurrency - n_inspector - n_planner)
            users = (
                [public_user(k) for k in range(n_public)]
                + [inspector_user(k) for k in range(n_inspector)]
                + [planner_user(k) for k in range(n_planner)]
            )
        t0 = time.perf_counter()
        await asyncio.gather(*users)
        elapsed = time.perf_counter() - t0
    out = {
        kind: _summary(lat, errors[kind], elapsed) for kind, lat in latencies.items() if lat or errors[kind]
    }
    everything = [x for kind, lat in latencies.items() if kind != "health" for x in lat]
    if plan["mode"] != "baseline":
        out["total"] = _summary(everything, sum(v for k, v in errors.items() if k != "health"), elapsed)
    out["samples"] = {k: v[:3] for k, v in samples.items()}  # type: ignore[assignment]
    return out


def _in_process(plan: dict[str, Any], queue: Any) -> None:
    queue.put(asyncio.run(_drive(plan)))


def measure(plan: dict[str, Any]) -> dict[str, Any]:
    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_in_process, args=(plan, queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _print(label: str, r: dict[str, float]) -> None:
    print(
        f"  {label:10s} {r['rps']:8.1f} req/s  p50 {r['p50']:7.1f} ms  p99 {r['p99']:7.1f} ms"
        f"  n={r['n']:.0f}  errors={r['errors']:.0f}"
    )


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 60
    concurrency = int(sys.argv[2]) if len(sys.argv) > 2 else 24
    rows = int(sys.argv[3]) if len(sys.argv) > 3 else 100_000
    base = Path(tempfile.mkdtemp(prefix="spotcheck-bench-mixed-"))
    postgres, redis = start_postgres(base), start_redis(base)
    procs = []
    try:
        run(postgres.recreate_database, "bench_mixed")
        admin = postgres.url("bench_mixed")
        runtime_url = postgres.url("bench_mixed", RUNTIME_ROLE, RUNTIME_PASSWORD)
        migrate.upgrade(admin, runtime_url)
        sso, sso_proc = start_dev_sso(base)
        procs.append(sso_proc)
        env = {
            "SPOTCHECK_MODE": "dev",
            "SPOTCHECK_DATABASE_URL": runtime_url,
            "SPOTCHECK_ADMIN_DATABASE_URL": admin,
            "SPOTCHECK_REDIS_URL": redis.url,
            "SPOTCHECK_OIDC_ISSUER": sso.issuer,
            "SPOTCHECK_OIDC_DEV_PROVIDER": "1",
            "SPOTCHECK_PUBLIC_SEARCH_PER_MINUTE": "0",
        }
        asyncio.run(_load_seed(env))
        t0 = time.perf_counter()
        asyncio.run(public_bench.load(asyncpg_dsn(admin), rows))
        print(f"seed county loaded; {rows:,} published records loaded in {time.perf_counter() - t0:.1f} s")
        app = start_app(base, env, workers=2)
        procs.append(app.proc)
        worker = spawn(["worker"], app.env, base / "worker.log")
        procs.append(worker)
        wait_http(f"{app.url}/ready", worker, base / "worker.log")

        planner_token = sso.token("yjj-planner")
        prepared = prepare_task(app.url, planner_token)
        ids = asyncio.run(_inspector_ids(asyncpg_dsn(admin)))
        tokens = {username: sso.token(username) for username in INSPECTORS}
        for n, username in enumerate(INSPECTORS):
            assign(
                app.url,
                planner_token,
                prepared["task_id"],
                prepared["teams"],
                ids[_subject(tokens[username])],
                4,
                4 * n,
            )
        inspectors = []
        for username, token in tokens.items():  # after every adjustment, so each list is final
            work = inspector_work(app.url, token, prepared["task_id"])
            if work:
                inspectors.append({"username": username, "token": token, "work": work})
        if not inspectors:
            raise RuntimeError("the matched task has no assignment for the demo inspectors")
        cookies = browser_session(app.url, "yjj-planner")
        plan = {
            "url": app.url,
            "seconds": seconds,
            "concurrency": concurrency,
            "mode": "mixed",
            "queries": public_bench.queries(rows),
            "inspectors": inspectors,
            "planner_cookies": cookies,
            "planner_pages": ["/plans", f"/plans/{prepared['plan_id']}", f"/tasks/{prepared['task_id']}"],
        }
        print(
            f"task with {len(prepared['teams'])} teams; inspectors: "
            + ", ".join(f"{i['username']} ({len(i['work'])} assignments)" for i in inspectors)
        )
        measure({**plan, "seconds": 3, "mode": "mixed"})  # warm-up: pools, caches, JIT-free but not cold
        baseline = measure({**plan, "seconds": min(15.0, seconds), "mode": "baseline"})
        mixed = measure(plan)
        print(
            f"mixed workload, {seconds:.0f} s, {concurrency} concurrent clients "
            f"(public {SHARES['public']:.0%} / inspector {SHARES['inspector']:.0%} / planner {SHARES['planner']:.0%}),"
            " app: serve --workers 2 + 1 worker, one machine:"
        )
        for kind in ("public", "inspector", "planner", "total"):
            if kind in mixed:
                _print(kind, mixed[kind])
        print("baseline (GET /health, same concurrency):")
        _print("health", baseline["health"])
        print(f"ratio mixed/baseline throughput: {mixed['total']['rps'] / baseline['health']['rps']:.2f}")
        if mixed.get("samples"):
            print("error samples:", mixed["samples"])
    finally:
        for proc in reversed(procs):
            stop(proc)
        redis.stop()
        postgres.stop()


if __name__ == "__main__":
    main()
