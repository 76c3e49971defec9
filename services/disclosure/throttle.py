"""The public search limit: per client address and minute, across every API process, without a Redis round trip
per request.

Each process counts a client's searches locally and adds them to the client's shared counter in Redis
(``INCRBY`` + ``EXPIRE`` in one pipeline) every ``sync_every`` searches, learning the total of all processes at the
same time. A search is refused when the last known total plus this process's unsent count reaches the limit, so a
client is refused at exactly ``limit`` with one process, and with P processes at most ``(P - 1) × (sync_every - 1)``
searches later (``sync_every`` is ``limit // 16`` between 1 and 32: 7 for the default 120, so at most 6 more per
additional process). When Redis is unreachable each process still enforces the limit on its own, and tries Redis
again after ``REDIS_RETRY_SECONDS`` (so that an outage does not cost every search a failed connection).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60
REDIS_RETRY_SECONDS = 5.0


def sync_every(limit: int) -> int:
    return max(1, min(32, limit // 16))


@dataclass
class _Count:
    unsent: int = 0  # counted here, not yet added to Redis
    known: int = 0  # the shared total as of this process's last exchange with Redis


@dataclass
class Limiter:
    bucket: str
    window: int = -1
    counts: dict[str, _Count] = field(default_factory=dict)
    redis_retry_at: float = 0.0  # after a Redis failure, count locally for a few seconds before trying again

    async def allow(self, redis: Any, client: str, limit: int, now: float | None = None) -> bool:
        """Count one request of ``client``; False when it is over ``limit`` this minute (``limit <= 0``: no limit)."""
        if limit <= 0:
            return True
        window = int((time.time() if now is None else now) // WINDOW_SECONDS)
        if window != self.window:
            self.window, self.counts = window, {}
        count = self.counts.setdefault(client, _Count())
        if count.known + count.unsent >= limit:
            return False
        count.unsent += 1
        if count.unsent < sync_every(limit) or redis is None or time.monotonic() < self.redis_retry_at:
            return True
        sending = count.unsent
        key = f"spotcheck:rl:{self.bucket}:{client}:{window}"
        try:
            pipe = redis.pipeline(transaction=False)
            pipe.incrby(key, sending)
            pipe.expire(key, WINDOW_SECONDS + 10)
            total, _ = await pipe.execute()
        except Exception:  # Redis down: keep counting locally (the per-process limit still holds)
            log.warning(
                "public search limiter: Redis unavailable, limiting per process for %s s", REDIS_RETRY_SECONDS
            )
            self.redis_retry_at = time.monotonic() + REDIS_RETRY_SECONDS
            return True
        if window == self.window:  # the minute may have turned while waiting for Redis
            count.unsent -= sending
            count.known = max(count.known, int(total))
        return int(total) <= limit
