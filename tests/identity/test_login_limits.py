"""Login is rate-limited twice: SpotCheck limits /login starts per client address, and Keycloak (which holds the
passwords) locks an account temporarily after repeated wrong passwords."""

from __future__ import annotations

import asyncio
import time
import uuid
from pathlib import Path

import httpx
import pytest
from keycloak import KeycloakAdmin
from keycloak.exceptions import KeycloakError

from devtools.keycloak_server import REALM, KeycloakServer
from shared.settings import load_settings
from tests.keycloak_fixtures import password_token
from tests.support.stack import AppServer, start_app, stop

DEFAULT_LIMIT = load_settings(
    {
        "SPOTCHECK_MODE": "dev",
        "SPOTCHECK_DATABASE_URL": "x",
        "SPOTCHECK_REDIS_URL": "x",
        "SPOTCHECK_OIDC_ISSUER": "x",
    }
).app.login_per_minute


def _client(app: AppServer, source: str) -> httpx.Client:
    # Loopback addresses other than 127.0.0.1 give each test client its own bucket on the shared app server.
    return httpx.Client(base_url=app.url, transport=httpx.HTTPTransport(local_address=source), timeout=20)


def _wait_for_fresh_window(needed_seconds: float = 8) -> None:
    """The limit counts per clock minute; start a burst early in a minute so it cannot straddle two windows."""
    if 60 - time.time() % 60 < needed_seconds:
        time.sleep(60 - time.time() % 60 + 0.2)


def test_login_starts_are_limited_per_client(app_server: AppServer) -> None:
    assert DEFAULT_LIMIT > 0
    _wait_for_fresh_window()
    with _client(app_server, "127.0.0.7") as noisy, _client(app_server, "127.0.0.8") as other:
        for _ in range(DEFAULT_LIMIT):
            assert noisy.get("/login").status_code in (302, 303)
        over = noisy.get("/login", headers={"Accept": "application/json"})
        assert over.status_code == 429
        assert over.json()["error"]["code"] == "rate_limited"
        assert "频繁" in over.json()["error"]["message"]
        # A client cannot buy a fresh bucket by claiming another address: the peer is not a trusted proxy.
        spoofed = noisy.get(
            "/login",
            headers={"X-Forwarded-For": f"10.{uuid.uuid4().int % 250}.1.1", "Accept": "application/json"},
        )
        assert spoofed.status_code == 429
        # The browser gets a Chinese page, not a redirect loop.
        page = noisy.get("/login", headers={"Accept": "text/html"})
        assert page.status_code == 429 and "频繁" in page.text
        # Somebody else behind another address is not affected.
        assert other.get("/login").status_code in (302, 303)


def test_a_trusted_proxy_names_the_client(app_env: dict[str, str], service_dir: Path) -> None:
    """Behind the reverse proxy (SPOTCHECK_TRUSTED_PROXIES), each visitor has its own budget; nobody else may
    claim an address."""
    workdir = service_dir / "trusted-proxy"
    workdir.mkdir(exist_ok=True)
    app = start_app(
        workdir, {**app_env, "SPOTCHECK_TRUSTED_PROXIES": "127.0.0.9", "SPOTCHECK_LOGIN_PER_MINUTE": "2"}
    )
    try:
        _wait_for_fresh_window()
        json = {"Accept": "application/json"}
        with _client(app, "127.0.0.9") as proxy, _client(app, "127.0.0.10") as stranger:
            for _ in range(2):
                assert proxy.get("/login", headers={"X-Forwarded-For": "203.0.113.5"}).status_code in (
                    302,
                    303,
                )
            assert proxy.get("/login", headers={"X-Forwarded-For": "203.0.113.5", **json}).status_code == 429
            # Another visitor behind the same proxy still has a budget.
            assert proxy.get("/login", headers={"X-Forwarded-For": "203.0.113.6"}).status_code in (302, 303)
            # A client that is not the proxy cannot spend (or escape into) somebody's budget by naming them.
            for _ in range(2):
                response = stranger.get("/login", headers={"X-Forwarded-For": "203.0.113.6"})
                assert response.status_code in (302, 303)
            assert (
                stranger.get("/login", headers={"X-Forwarded-For": "203.0.113.7", **json}).status_code == 429
            )
            assert proxy.get("/login", headers={"X-Forwarded-For": "203.0.113.6"}).status_code in (302, 303)
    finally:
        stop(app.proc)


async def test_keycloak_locks_an_account_after_repeated_wrong_passwords(
    real_keycloak: KeycloakServer, master_admin: KeycloakAdmin
) -> None:
    realm = await master_admin.a_get_realm(REALM)
    assert realm["bruteForceProtected"] is True and realm["permanentLockout"] is False
    failures = realm["failureFactor"]
    assert 3 <= failures <= 10 and realm["waitIncrementSeconds"] >= 60

    username = f"lockout-{uuid.uuid4().hex[:8]}"
    user_id = await master_admin.a_create_user(
        {
            "username": username,
            "enabled": True,
            "email": f"{username}@130528.spotcheck.test",
            "emailVerified": True,
            "firstName": "测试",
            "lastName": "锁",
            "credentials": [{"type": "password", "value": "right-password", "temporary": False}],
        }
    )
    try:
        assert password_token(real_keycloak.issuer, username, "right-password")["access_token"]
        for _ in range(failures):
            # Slower than quickLoginCheckMilliSeconds, so the lock comes from failureFactor, not the quick check.
            await asyncio.sleep(realm["quickLoginCheckMilliSeconds"] / 1000 + 0.1)
            with pytest.raises(KeycloakError, match="invalid_grant"):
                password_token(real_keycloak.issuer, username, "guess")
        status = await master_admin.a_get_bruteforce_detection_status(user_id)
        assert status["disabled"] is True and status["numFailures"] >= failures
        # Locked: even the right password is refused until the wait passes or an admin clears it.
        with pytest.raises(KeycloakError, match="invalid_grant"):
            password_token(real_keycloak.issuer, username, "right-password")
        await master_admin.a_clear_bruteforce_attempts_for_user(user_id)
        assert password_token(real_keycloak.issuer, username, "right-password")["access_token"]
        # Guessing fast locks sooner: two failures inside quickLoginCheckMilliSeconds are enough.
        for _ in range(2):
            with pytest.raises(KeycloakError, match="invalid_grant"):
                password_token(real_keycloak.issuer, username, "guess")
        assert (await master_admin.a_get_bruteforce_detection_status(user_id))["disabled"] is True
    finally:
        await master_admin.a_delete_user(user_id)
