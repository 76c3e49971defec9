"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get
from sqlalchemy import text

from shared.runtime import Runtime


@get("/health", exclude_from_auth=True, sync_to_thread=False, include_in_schema=True)
def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", exclude_from_auth=True)
async def ready(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    runtime: Runtime = request.app.state.runtime
    checks: dict[str, str] = {}
    try:
        async with runtime.db.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))
        checks["postgres"] = "ok"
    except Exception as exc:
        checks["postgres"] = f"error: {type(exc).__name__}"
    try:
        assert runtime.arq is not None
        await runtime.arq.ping()
        checks["redis"] = "ok"
    except Exception as exc:
        checks["redis"] = f"error: {type(exc).__name__}"
    ok = all(v == "ok" for v in checks.values())
    return Response({"status": "ready" if ok else "unavailable", "checks": checks}, status_code=200 if ok else 503)
