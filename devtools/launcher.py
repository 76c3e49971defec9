"""`spotcheck demo`: the whole product on one machine, with nothing configured.

Starts embedded PostgreSQL and Redis under the data folder, an SSO provider (real Keycloak when its distribution is
cached, otherwise the development provider), migrates, loads the seed county, then runs the API and a worker as
child processes. SIGINT/SIGTERM stop everything it started; data stays in the folder for the next run.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

import httpx

from devtools.embedded import EmbeddedPostgres, EmbeddedRedis, free_port

ROOT = Path(__file__).resolve().parent.parent
REALM_FILE = ROOT / "deploy" / "keycloak" / "realm-county-130528.json"
REALM = "county-130528"
RUNTIME_PASSWORD = "spotcheck-demo-runtime"
DEMO_USERS = [
    ("yjj-planner", "县应急管理局 执法监督股 计划制定"),
    ("yjj-admin", "县应急管理局 部门管理员"),
    ("yjj-reviewer", "县应急管理局 审核"),
    ("yjj-insp-whjg", "县应急管理局 危化监管股 执法人员"),
    ("xf-planner", "县消防救援大队 计划制定"),
    ("multi-dept", "同时属于应急管理局和消防救援大队"),
    ("county-overseer", "县双随机办（只读，全县）"),
]


class _Stop(Exception):
    pass


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise _Stop()


def _wait_http(url: str, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout:.0f}s")


def _spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    handle = log.open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli", *args],
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        cwd=ROOT,
    )


def _stop_process(proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(5)


def _start_sso(mode: str, data_dir: Path, port: int, env: dict[str, str], logs: Path) -> tuple[str, object]:
    """Returns (issuer, handle with stop())."""
    if mode in ("auto", "keycloak"):
        from devtools import keycloak_dist, keycloak_server

        home = keycloak_dist.find_distribution()
        java = shutil.which("java")
        if home is not None and java is not None:
            print("启动 Keycloak（首次启动约需一分钟）…", flush=True)
            server = keycloak_server.KeycloakServer(home=home, data_dir=data_dir / "keycloak", port=port)
            server.start()
            return server.issuer, server
        if mode == "keycloak":
            raise RuntimeError(
                "Keycloak distribution not cached or Java missing: run `spotcheck keycloak-fetch`"
            )
        print(
            "未找到 Keycloak（可运行 `uv run spotcheck keycloak-fetch`）；使用内置开发用身份认证服务。",
            flush=True,
        )
    public = f"http://127.0.0.1:{port}"
    proc = _spawn(
        [
            "dev-sso",
            "--port",
            str(port),
            "--data-dir",
            str(data_dir / "dev-sso"),
            "--realm-file",
            str(REALM_FILE),
            "--public-url",
            public,
        ],
        env,
        logs / "dev-sso.log",
    )
    issuer = f"{public}/realms/{REALM}"
    _wait_http(f"{issuer}/.well-known/openid-configuration", 30, proc)

    class _Handle:
        def stop(self) -> None:
            _stop_process(proc)

    return issuer, _Handle()


def run_demo(port: int, data_dir: Path, sso: str = "auto") -> int:
    from shared import migrate

    data_dir.mkdir(parents=True, exist_ok=True)
    logs = data_dir / "logs"
    logs.mkdir(exist_ok=True)
    signal.signal(signal.SIGTERM, _raise_stop)
    signal.signal(signal.SIGINT, _raise_stop)
    started: list[object] = []
    children: list[subprocess.Popen[bytes]] = []
    try:
        print(f"数据目录：{data_dir}", flush=True)
        pg = EmbeddedPostgres(data_dir / "postgres").start()
        started.append(pg)
        asyncio.run(pg.ensure_database("spotcheck"))
        redis = EmbeddedRedis(data_dir / "redis").start()
        started.append(redis)
        admin_url = pg.url("spotcheck")
        runtime_url = pg.url("spotcheck", "spotcheck_app", RUNTIME_PASSWORD)
        env = {k: v for k, v in os.environ.items() if not k.startswith("SPOTCHECK_")}
        env.update(
            SPOTCHECK_MODE="dev",
            SPOTCHECK_DATABASE_URL=runtime_url,
            SPOTCHECK_ADMIN_DATABASE_URL=admin_url,
            SPOTCHECK_REDIS_URL=redis.url,
            SPOTCHECK_PUBLIC_URL=f"http://127.0.0.1:{port}",
        )
        issuer, sso_handle = _start_sso(sso, data_dir, free_port() if port == 0 else port + 1, env, logs)
        started.append(sso_handle)
        env["SPOTCHECK_OIDC_ISSUER"] = issuer
        env["SPOTCHECK_OIDC_DEV_PROVIDER"] = "0" if "keycloak" in type(sso_handle).__module__ else "1"
        os.environ.update(env)

        migrate.upgrade(admin_url, runtime_url)
        asyncio.run(_load_demo(admin_url))

        api = _spawn(["serve", "--host", "127.0.0.1", "--port", str(port)], env, logs / "api.log")
        children.append(api)
        children.append(_spawn(["worker"], env, logs / "worker.log"))
        _wait_http(f"http://127.0.0.1:{port}/health", 60, api)
        print(f"\nSpotCheck 已启动：http://127.0.0.1:{port}/", flush=True)
        print(f"身份认证（{issuer}），演示账号密码均为 demo：", flush=True)
        for username, label in DEMO_USERS:
            print(f"  {username:<16} {label}", flush=True)
        print("按 Ctrl-C 停止。", flush=True)
        while True:
            for child in children:
                if child.poll() is not None:
                    print(f"子进程退出（{child.args}），请查看 {logs}", file=sys.stderr, flush=True)
                    return 1
            time.sleep(0.5)
    except _Stop:
        print("\n正在停止…", flush=True)
        return 0
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for child in reversed(children):
            _stop_process(child)
        for service in reversed(started):
            service.stop()  # type: ignore[attr-defined]
        print("已停止。", flush=True)


async def _load_demo(admin_url: str) -> None:
    from devtools.demo import joint, plans, seed
    from shared.runtime import Runtime
    from shared.settings import load_settings

    runtime = await Runtime.start(load_settings(), with_redis=False)
    try:
        if await seed.load(admin_url, runtime):
            print("已载入演示数据（宁晋县）。", flush=True)
        if await plans.load(runtime):
            print(
                "已按源文件建立应急管理局2023年度抽查计划（2023001 已抽取并匹配，2023002 待抽取）。",
                flush=True,
            )
        if await joint.load(runtime):
            print(
                "已建立部门联合抽查联2023001（县应急管理局牵头，县消防救援大队参加），已抽取并匹配。",
                flush=True,
            )
    finally:
        await runtime.close()
