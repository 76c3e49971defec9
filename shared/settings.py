"""Typed settings, read once from the environment (prefix ``SPOTCHECK_``).

Real environment variables are the only source: no ``.env`` magic, no import-time reads. ``get_settings()``
caches the first load; tests and the demo launcher build their own ``Settings`` with ``load_settings(env)``.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal, cast

import msgspec

Mode = Literal["dev", "production"]

DEV_SECRET_KEY = "spotcheck-dev-only-secret-key-do-not-use-in-production"


class SettingsError(ValueError):
    """A setting is missing or unsafe; raised at start-up, never at request time."""


class DatabaseSettings(msgspec.Struct, frozen=True):
    url: str  # runtime role: not owner, not superuser, not BYPASSRLS
    admin_url: str | None  # owner role, used by `spotcheck migrate` only
    read_url: str | None = None  # optional read replica for the public site
    pool_size: int = 10


class RedisSettings(msgspec.Struct, frozen=True):
    url: str


class JobSettings(msgspec.Struct, frozen=True):
    """Background jobs (arq workers) and their timing.

    * ``timeout_seconds``: the longest one job may run. arq also keeps a started job marked "in progress" for this
      long plus 10 s, so a job whose worker died (killed, machine lost) is retried by another worker after at most
      that long.
    * ``sweep_seconds``: how often each worker re-enqueues committed jobs that never reached Redis (Redis down at
      commit time, process killed between commit and enqueue), and how old such a job must be.
    * ``shutdown_grace_seconds``: on SIGTERM a worker stops taking jobs and lets running ones finish for this long;
      jobs still running then are cancelled and re-queued for another worker (their transaction rolls back).
    * ``max_attempts``: a job that has failed (or had to be re-sent after a timeout or a killed worker) this many times
      is marked failed: nothing re-sends it, its give-up step runs, ``spotcheck jobs`` lists it for operators.
    * ``reminder_time``: local time of the daily reminder crons (disclosure deadlines at this time, monthly reports
      on the 20th ten minutes later, joint-plan invitations twenty minutes later).
    """

    timeout_seconds: int = 600
    sweep_seconds: int = 30
    shutdown_grace_seconds: int = 90
    reminder_time: dt.time = dt.time(8, 5)
    max_attempts: int = 5


class OIDCSettings(msgspec.Struct, frozen=True):
    """The county realm in Keycloak (or the dev provider, which production refuses)."""

    issuer: str  # public issuer URL, e.g. https://sso.example.gov.cn/realms/county-130528
    internal_url: str | None  # how the backend reaches the same realm, if different from the issuer
    client_id: str
    client_secret: str
    audience: str
    admin_client_id: str
    admin_client_secret: str | None
    dev_provider: bool  # the issuer is SpotCheck's own development provider


class AppSettings(msgspec.Struct, frozen=True):
    mode: Mode
    secret_key: str
    public_url: str  # where browsers reach SpotCheck, used for OIDC redirects
    log_level: str = "INFO"
    # Addresses/networks of reverse proxies whose X-Forwarded-For is believed (uvicorn's forwarded_allow_ips).
    trusted_proxies: str = "127.0.0.1"
    login_per_minute: int = (
        60  # /login starts per client address and minute (0: off); passwords are Keycloak's
    )
    public_search_per_minute: int = 120  # public-site searches per client address and minute (0: off)


class Settings(msgspec.Struct, frozen=True):
    app: AppSettings
    db: DatabaseSettings
    redis: RedisSettings
    oidc: OIDCSettings
    jobs: JobSettings = JobSettings()

    @property
    def is_production(self) -> bool:
        return self.app.mode == "production"


def _get(env: Mapping[str, str], name: str, default: str | None = None) -> str | None:
    value = env.get(f"SPOTCHECK_{name}")
    return value if value not in (None, "") else default


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    value = _get(env, name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise SettingsError(f"SPOTCHECK_{name} must be an integer, got {value!r}") from None


def _require(env: Mapping[str, str], name: str) -> str:
    value = _get(env, name)
    if value is None:
        raise SettingsError(f"SPOTCHECK_{name} is required")
    return value


def _bounded(name: str, raw: str | None, default: int, low: int, high: int) -> int:
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"SPOTCHECK_{name} must be a whole number, got {raw!r}") from None
    if not low <= value <= high:
        raise SettingsError(f"SPOTCHECK_{name} must be between {low} and {high}, got {value}")
    return value


def _time_of_day(name: str, raw: str | None, default: dt.time) -> dt.time:
    if raw is None:
        return default
    try:
        return dt.time.fromisoformat(raw).replace(microsecond=0, tzinfo=None)
    except ValueError:
        raise SettingsError(f"SPOTCHECK_{name} must be a time of day like 08:05, got {raw!r}") from None


def _job_settings(env: Mapping[str, str]) -> JobSettings:
    # Each variable is read with a literal _get(env, "…") so that tests/shared/test_deploy.py knows it.
    d = JobSettings()
    return JobSettings(
        timeout_seconds=_bounded(
            "JOB_TIMEOUT_SECONDS", _get(env, "JOB_TIMEOUT_SECONDS"), d.timeout_seconds, 1, 86400
        ),
        sweep_seconds=_bounded("JOB_SWEEP_SECONDS", _get(env, "JOB_SWEEP_SECONDS"), d.sweep_seconds, 1, 3600),
        shutdown_grace_seconds=_bounded(
            "WORKER_SHUTDOWN_GRACE_SECONDS",
            _get(env, "WORKER_SHUTDOWN_GRACE_SECONDS"),
            d.shutdown_grace_seconds,
            0,
            86400,
        ),
        reminder_time=_time_of_day("REMINDER_TIME", _get(env, "REMINDER_TIME"), d.reminder_time),
        max_attempts=_bounded("JOB_MAX_ATTEMPTS", _get(env, "JOB_MAX_ATTEMPTS"), d.max_attempts, 1, 100),
    )


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    mode = _get(env, "MODE", "production")
    if mode not in ("dev", "production"):
        raise SettingsError(f"SPOTCHECK_MODE must be 'dev' or 'production', got {mode!r}")
    production = mode == "production"

    secret_key = _get(env, "SECRET_KEY")
    if secret_key is None:
        if production:
            raise SettingsError("SPOTCHECK_SECRET_KEY is required in production mode")
        secret_key = DEV_SECRET_KEY
    elif production and (secret_key == DEV_SECRET_KEY or len(secret_key) < 32):
        raise SettingsError("SPOTCHECK_SECRET_KEY must be at least 32 characters and not the dev key")

    dev_provider = _get(env, "OIDC_DEV_PROVIDER", "0") == "1"
    if production and dev_provider:
        raise SettingsError("the development OIDC provider cannot be used in production mode")
    client_secret = _get(env, "OIDC_CLIENT_SECRET")
    if client_secret is None:
        if production:
            raise SettingsError("SPOTCHECK_OIDC_CLIENT_SECRET is required in production mode")
        client_secret = "spotcheck-web-dev-secret"

    return Settings(
        app=AppSettings(
            mode=cast(Mode, mode),  # checked above to be one of Mode's values
            secret_key=secret_key,
            public_url=(_get(env, "PUBLIC_URL", "http://127.0.0.1:8000") or "").rstrip("/"),
            log_level=_get(env, "LOG_LEVEL", "INFO") or "INFO",
            login_per_minute=_int(env, "LOGIN_PER_MINUTE", 60),
            trusted_proxies=_get(env, "TRUSTED_PROXIES", "127.0.0.1") or "127.0.0.1",
            public_search_per_minute=_int(env, "PUBLIC_SEARCH_PER_MINUTE", 120),
        ),
        db=DatabaseSettings(
            url=_require(env, "DATABASE_URL"),
            admin_url=_get(env, "ADMIN_DATABASE_URL"),
            read_url=_get(env, "READ_DATABASE_URL"),
            pool_size=int(_get(env, "DB_POOL_SIZE", "10") or 10),
        ),
        redis=RedisSettings(url=_require(env, "REDIS_URL")),
        oidc=OIDCSettings(
            issuer=_require(env, "OIDC_ISSUER").rstrip("/"),
            internal_url=(_get(env, "OIDC_INTERNAL_URL") or "").rstrip("/") or None,
            client_id=_get(env, "OIDC_CLIENT_ID", "spotcheck-web") or "spotcheck-web",
            client_secret=client_secret,
            audience=_get(env, "OIDC_AUDIENCE", "spotcheck-api") or "spotcheck-api",
            admin_client_id=_get(env, "OIDC_ADMIN_CLIENT_ID", "spotcheck-provisioner") or "",
            admin_client_secret=_get(env, "OIDC_ADMIN_CLIENT_SECRET"),
            dev_provider=dev_provider,
        ),
        jobs=_job_settings(env),
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()


# Limits read at each use rather than once: operators tune them per process and the tests per server they start.
# They live here so that no service reads the environment itself.
def large_draw_threshold() -> int:
    """Above this many eligible entries, announce and draw run as background jobs (SPOTCHECK_LARGE_DRAW_THRESHOLD)."""
    return int(os.environ.get("SPOTCHECK_LARGE_DRAW_THRESHOLD", "200000"))


def attachment_max_bytes() -> int:
    """The largest result attachment accepted (SPOTCHECK_ATTACHMENT_MAX_BYTES, default 10 MB)."""
    return int(os.environ.get("SPOTCHECK_ATTACHMENT_MAX_BYTES", str(10 * 1024 * 1024)))
