"""Liveness and readiness probes.

``/health`` is liveness only (the process answers). ``/ready`` checks what a request needs: PostgreSQL (and the read
replica when one is configured) and Redis, each within a bounded time, and answers 503 while any is unreachable, so
a load balancer or Kubernetes takes the process out of rotation until its pools have reconnected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request, Response, get
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from shared.runtime import Runtime

CHECK_TIMEOUT_SECONDS = 3.0


@get("/health", exclude_from_auth=True, sync_to_thread=False, include_in_schema=True)
def health() -> dict[str, str]:
    return {"status": "ok"}


async def _check(probe: Callable[[], Awaitable[Any]]) -> str:
    try:
        await asyncio.wait_for(probe(), CHECK_TIMEOUT_SECONDS)
        return "ok"
    except Exception as exc:
        return f"error: {type(exc).__name__}"


def _select_one(engine: AsyncEngine) -> Callable[[], Awaitable[None]]:
    async def probe() -> None:
        async with engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    return probe


@get("/ready", exclude_from_auth=True)
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    runtime: Runtime = request.app.state.runtime
    checks = {"postgres": await _check(_select_one(runtime.db.engine))}
    if runtime.db.read_engine is not runtime.db.engine:
        checks["postgres_read"] = await _check(_select_one(runtime.db.read_engine))

    async def ping_redis() -> None:
        if runtime.arq is None:
            raise RuntimeError("no Redis pool")
        await runtime.arq.ping()

    checks["redis"] = await _check(ping_redis)
    ok = all(v == "ok" for v in checks.values())
    return Response(
        {"status": "ready" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503
    )
