"""Fixed-window rate limits kept in Redis, so every API process counts against the same budget."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import Request

from shared.errors import DomainError
from shared.runtime import Runtime

log = logging.getLogger(__name__)


class TooManyRequests(DomainError):
    status_code = 429
    code = "rate_limited"


def client_address(request: Request[Any, Any, Any]) -> str:
    # The peer address as the ASGI server resolved it: uvicorn only trusts X-Forwarded-For from the addresses in
    # FORWARDED_ALLOW_IPS (the reverse proxy), so a client cannot pick a fresh bucket by sending the header itself.
    return request.client.host if request.client else "unknown"


async def hit(runtime: Runtime, bucket: str, client: str, limit: int, window_seconds: int = 60) -> bool:
    """Count one request; True when the client is over ``limit`` in the current window.

    ``limit <= 0`` switches the limit off. When Redis is unreachable the request is allowed: a limiter outage must
    not take the site down with it (Keycloak's brute-force protection still guards the passwords themselves)."""
    if limit <= 0 or runtime.arq is None:
        return False
    key = f"spotcheck:rl:{bucket}:{client}:{int(time.time() // window_seconds)}"
    try:
        count = await runtime.arq.incr(key)
        if count == 1:
            await runtime.arq.expire(key, window_seconds + 10)
    except Exception:  # any Redis failure means "no verdict", see the docstring
        log.warning("rate limiter unavailable for %s", bucket)
        return False
    return int(count) > limit


async def enforce(
    request: Request[Any, Any, Any], bucket: str, limit: int, message: str, field: str | None = None
) -> None:
    runtime: Runtime = request.app.state.runtime
    if await hit(runtime, bucket, client_address(request), limit):
        raise TooManyRequests(message, field=field)
