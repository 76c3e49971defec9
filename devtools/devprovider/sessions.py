"""Short-lived provider state: pending login forms, authorization codes, ended sessions.

Codes and login forms live in memory only: they last seconds to minutes, and losing them on
a restart just means clicking "log in" again. Ended (logged-out) sessions are persisted,
because refresh tokens and the SSO cookie are stateless signed values that outlive a restart
and must stay dead after logout.
"""

from __future__ import annotations

import json
import os
import secrets
import time
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

import msgspec

T = TypeVar("T")


class PendingLogin(msgspec.Struct, frozen=True):
    """A validated /auth request waiting for the login form to be submitted."""

    client_id: str
    redirect_uri: str
    state: str | None
    nonce: str | None
    scope: str
    code_challenge: str
    browser_binding: str  # value of the per-browser cookie the form must come back with


class IssuedCode(msgspec.Struct, frozen=True):
    client_id: str
    redirect_uri: str
    user_id: str
    sid: str
    nonce: str | None
    scope: str
    code_challenge: str
    auth_time: int


class ExpiringStore(Generic[T]):
    """A bounded in-memory map whose entries expire; `pop` makes single use trivial."""

    def __init__(
        self, ttl_seconds: int, max_entries: int = 10_000, clock: Callable[[], float] = time.time
    ) -> None:
        self._ttl = ttl_seconds
        self._max = max_entries
        self._clock = clock
        self._items: dict[str, tuple[float, T]] = {}

    def _purge(self) -> None:
        now = self._clock()
        for key in [k for k, (exp, _) in self._items.items() if exp <= now]:
            del self._items[key]
        # Still full of live entries (someone hammering /auth): drop the oldest ones.
        while len(self._items) >= self._max:
            del self._items[next(iter(self._items))]

    def add(self, value: T) -> str:
        self._purge()
        key = secrets.token_urlsafe(32)
        self._items[key] = (self._clock() + self._ttl, value)
        return key

    def get(self, key: str) -> T | None:
        item = self._items.get(key)
        if item is None or item[0] <= self._clock():
            return None
        return item[1]

    def pop(self, key: str) -> T | None:
        item = self._items.pop(key, None)
        if item is None or item[0] <= self._clock():
            return None
        return item[1]


class EndedSessions:
    """Session ids that were logged out, kept until nothing signed for them can still be valid."""

    def __init__(self, path: Path, keep_seconds: int, clock: Callable[[], float] = time.time) -> None:
        self._path = path
        self._keep = keep_seconds
        self._clock = clock
        self._ended: dict[str, float] = {}
        if path.exists():
            try:
                self._ended = {str(k): float(v) for k, v in json.loads(path.read_text()).items()}
            except (ValueError, AttributeError):
                # A corrupt file must not keep the demo from starting; worst case an old
                # logged-out refresh token works again until it expires on its own.
                self._ended = {}

    def end(self, sid: str) -> None:
        now = self._clock()
        self._ended = {k: v for k, v in self._ended.items() if v > now}
        self._ended[sid] = now + self._keep
        tmp = self._path.with_name(f".{self._path.name}.{secrets.token_hex(6)}.tmp")
        tmp.write_text(json.dumps(self._ended))
        os.replace(tmp, self._path)

    def is_ended(self, sid: str) -> bool:
        return sid in self._ended
