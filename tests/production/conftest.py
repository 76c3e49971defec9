"""Helpers for the production-shape tests: SQL as the owner, a lock held from outside, the deployment's env."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import asyncpg
import httpx

from services.identity.provisioning import department_id
from shared.db import asyncpg_dsn
from tests.support.cluster import deployment_env
from tests.support.services import run
from tests.support.stack import SSO

T = TypeVar("T")
SCJG = "130528-scjg"
SCJG_ID = department_id(SCJG)


class Sql:
    """Blocking SQL on a URL (the superuser/owner in tests: sees every department, RLS does not apply)."""

    def __init__(self, url: str) -> None:
        self.dsn = asyncpg_dsn(url)

    def fetch(self, sql: str, *args: Any) -> list[asyncpg.Record]:
        async def go() -> list[asyncpg.Record]:
            conn = await asyncpg.connect(self.dsn)
            try:
                return list(await conn.fetch(sql, *args))
            finally:
                await conn.close()

        return run(go)

    def value(self, sql: str, *args: Any) -> Any:
        rows = self.fetch(sql, *args)
        return rows[0][0] if rows else None


@contextmanager
def advisory_lock(url: str, key: str, namespace: int) -> Iterator[Callable[[], None]]:
    """Hold ``pg_advisory_xact_lock(hashtextextended(key, namespace))`` in a transaction of our own until the
    yielded ``release()`` is called (or the block ends). Used to stop a request or a job at a known point — the
    registry import takes this lock per department and registry — so that a process can be killed mid-work."""
    acquired, released = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    async def hold() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(url))
        try:
            async with conn.transaction():
                await conn.execute("SELECT pg_advisory_xact_lock(hashtextextended($1, $2))", key, namespace)
                acquired.set()
                await asyncio.to_thread(released.wait)
        finally:
            await conn.close()

    def body() -> None:
        try:
            asyncio.run(hold())
        except BaseException as exc:  # surfaced to the test below
            errors.append(exc)
            acquired.set()

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    if not acquired.wait(30) or errors:
        raise RuntimeError(f"could not take the lock: {errors}")
    try:
        yield released.set
    finally:
        released.set()
        thread.join(30)


def import_lock_key(department: Any, kind: str) -> tuple[str, int]:
    """The key ``services.registry.imports.import_file`` locks: one import per registry and department at a time."""
    return f"{department}:{kind}", 11


def wait_for(what: str, check: Callable[[], T | None], timeout: float, interval: float = 0.1) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def backend_waiting_on_lock(sql: Sql) -> tuple[int, int] | None:
    """(server pid, OS pid of the SpotCheck process) of a SpotCheck connection waiting for an advisory lock.
    Connections are named ``spotcheck:<pid>`` (``shared.db.connector``)."""
    rows = sql.fetch(
        "SELECT pid, application_name FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND wait_event = 'advisory' AND application_name LIKE 'spotcheck:%'"
    )
    for row in rows:
        match = re.fullmatch(r"spotcheck:(\d+)", row["application_name"])
        if match:
            return int(row["pid"]), int(match.group(1))
    return None


def local_deployment_env(base_env: dict[str, str], sso: SSO, **overrides: str) -> dict[str, str]:
    """deploy/compose.yaml's environment for the api/worker services, pointed at this test's servers. Production
    mode when the SSO is the real Keycloak (production refuses the development provider)."""
    production = sso.kind == "keycloak"
    local = {
        "SPOTCHECK_MODE": "production" if production else "dev",
        "SPOTCHECK_SECRET_KEY": "spotcheck-production-shape-test-secret-key",
        "SPOTCHECK_PUBLIC_URL": "http://127.0.0.1",
        "SPOTCHECK_DATABASE_URL": base_env["SPOTCHECK_DATABASE_URL"],
        "SPOTCHECK_ADMIN_DATABASE_URL": base_env["SPOTCHECK_ADMIN_DATABASE_URL"],
        "SPOTCHECK_REDIS_URL": base_env["SPOTCHECK_REDIS_URL"],
        "SPOTCHECK_OIDC_ISSUER": sso.issuer,
        "SPOTCHECK_OIDC_CLIENT_SECRET": "spotcheck-web-dev-secret",  # the realm file's development secrets
        "SPOTCHECK_OIDC_ADMIN_CLIENT_SECRET": "spotcheck-provisioner-dev-secret",
        "SPOTCHECK_OIDC_DEV_PROVIDER": "0" if production else "1",
        **overrides,
    }
    return deployment_env(local)


class Client:
    """An API user over one base URL (a new connection per request: no cookies, no keep-alive to a stopped
    process)."""

    def __init__(
        self,
        base_url: str,
        sso: SSO,
        username: str | None,
        department: str | None = None,
        timeout: float = 30,
    ) -> None:
        self.base_url, self.sso, self.username, self.department, self.timeout = (
            base_url,
            sso,
            username,
            department,
            timeout,
        )
        if username:
            # Fetch the token now, not from racing threads: Keycloak's brute-force detection counts two logins of
            # one user within a second as an attack and refuses the second.
            sso.token(username)

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.username:
            headers["Authorization"] = f"Bearer {self.sso.token(self.username)}"
        if self.department:
            headers["X-Department"] = self.department
        return headers

    def request(self, method: str, path: str, **kw: Any) -> httpx.Response:
        with httpx.Client(base_url=self.base_url, timeout=self.timeout) as client:
            return client.request(method, path, headers=self.headers(), **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    def post(self, path: str, json: Any = None, **kw: Any) -> httpx.Response:
        if json is not None or "files" not in kw:
            kw["json"] = json if json is not None else {}
        return self.request("POST", path, **kw)
