"""The SSO provider and the SpotCheck app as real processes on loopback, for API and browser tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from devtools.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]
REALM_FILE = ROOT / "deploy" / "keycloak" / "realm-county-130528.json"


def wait_http(url: str, proc: subprocess.Popen[bytes] | None, log: Path | None, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-4000:] if log and log.exists() else ""
            raise RuntimeError(f"process for {url} exited ({proc.returncode}):\n{tail}")
        try:
            if httpx.get(url, timeout=2).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer in {timeout}s")


def spawn(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "shared.cli", *args],
        env=env,
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(5)


@dataclass
class SSO:
    kind: str  # "keycloak" | "dev"
    issuer: str
    _cache: dict[tuple[str, str], tuple[float, dict[str, Any]]] = field(default_factory=dict)
    # Threads of a load test share the cache: one login per user at a time (Keycloak's brute-force detector refused
    # some of several simultaneous password logins of one user with "Invalid user credentials").
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def tokens(
        self, username: str, client_id: str = "spotcheck-cli", password: str = "demo"
    ) -> dict[str, Any]:
        key = (username, client_id)
        with self._lock:
            cached = self._cache.get(key)
            if cached and time.monotonic() - cached[0] < 120:
                return cached[1]
            from tests.keycloak_fixtures import password_token

            response = password_token(self.issuer, username, password, client_id)
            self._cache[key] = (time.monotonic(), response)
            return response

    def token(self, username: str) -> str:
        return str(self.tokens(username)["access_token"])


def start_dev_sso(workdir: Path) -> tuple[SSO, subprocess.Popen[bytes]]:
    port = free_port()
    public = f"http://127.0.0.1:{port}"
    log = workdir / "dev-sso.log"
    proc = spawn(
        [
            "dev-sso",
            "--port",
            str(port),
            "--data-dir",
            str(workdir / "dev-sso"),
            "--realm-file",
            str(REALM_FILE),
            "--public-url",
            public,
        ],
        dict(os.environ),
        log,
    )
    issuer = f"{public}/realms/county-130528"
    wait_http(f"{issuer}/.well-known/openid-configuration", proc, log)
    return SSO("dev", issuer), proc


@dataclass
class AppServer:
    url: str
    env: dict[str, str]
    proc: subprocess.Popen[bytes]
    log: Path


def start_app(workdir: Path, env: dict[str, str], *, workers: int = 1) -> AppServer:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    full_env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("SPOTCHECK_")},
        **env,
        "SPOTCHECK_PUBLIC_URL": url,
    }
    log = workdir / f"app-{port}.log"
    proc = spawn(["serve", "--port", str(port), "--workers", str(workers)], full_env, log)
    wait_http(f"{url}/health", proc, log)
    return AppServer(url, full_env, proc, log)
