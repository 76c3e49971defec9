"""pytest plugin: a real Keycloak 26 server for contract tests.

Load it with ``pytest_plugins = ["tests.keycloak_fixtures"]`` (or ``-p tests.keycloak_fixtures``).

* ``keycloak_server`` (session): fetches the distribution once (cached, see
  :mod:`devtools.keycloak_server`), starts ``kc.sh start-dev`` with the county realm imported, and stops
  it at the end of the session. When Java, Maven or the distribution cannot be had it yields ``None``, sets
  :data:`KEYCLOAK_STATE` and prints a loud warning (callers then route to a development provider); with
  ``SPOTCHECK_REQUIRE_KEYCLOAK=1`` (CI) that is a hard failure instead. A server that is available but fails to
  start is always an error.
* ``real_keycloak``: the server, or a *visible* skip (a failure under ``SPOTCHECK_REQUIRE_KEYCLOAK=1``) for tests
  that only make sense against the real thing.
* :func:`password_token` / :func:`a_password_token`: tokens by the password grant through python-keycloak.
"""

from __future__ import annotations

import base64
import json
import os
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from keycloak import KeycloakOpenID

from devtools.keycloak_dist import KeycloakUnavailableError, fetch_distribution
from devtools.keycloak_server import REALM, KeycloakServer

REQUIRE_ENV = "SPOTCHECK_REQUIRE_KEYCLOAK"


@dataclass
class KeycloakState:
    """What the session learned about the real Keycloak; ``available is None`` until someone asked."""

    available: bool | None = None
    reason: str | None = None
    server: KeycloakServer | None = None


KEYCLOAK_STATE = KeycloakState()


def keycloak_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


def _banner(text: str) -> str:
    line = "!" * 100
    return f"\n{line}\n!! {text}\n{line}\n"


@pytest.fixture(scope="session")
def keycloak_server() -> Iterator[KeycloakServer | None]:
    try:
        home = fetch_distribution()
        server = KeycloakServer(home)
        server.start()  # a KeycloakStartupError propagates: that is a real failure, never a fallback
    except KeycloakUnavailableError as exc:
        KEYCLOAK_STATE.available = False
        KEYCLOAK_STATE.reason = str(exc)
        if keycloak_required():
            pytest.fail(f"{REQUIRE_ENV}=1 but the real Keycloak is unavailable: {exc}", pytrace=False)
        message = f"REAL KEYCLOAK UNAVAILABLE, contract tests fall back: {exc}"
        sys.stderr.write(_banner(message))
        warnings.warn(message, stacklevel=1)
        yield None
        return
    KEYCLOAK_STATE.available = True
    KEYCLOAK_STATE.server = server
    try:
        yield server
    finally:
        server.stop()
        KEYCLOAK_STATE.server = None


@pytest.fixture(scope="session")
def real_keycloak(keycloak_server: KeycloakServer | None) -> KeycloakServer:
    if keycloak_server is None:
        pytest.skip(f"REAL KEYCLOAK UNAVAILABLE: {KEYCLOAK_STATE.reason}")
    return keycloak_server


@pytest.fixture
def master_admin(real_keycloak: KeycloakServer) -> Any:
    """The county realm's admin API as the bootstrap admin of the master realm (python-keycloak ``KeycloakAdmin``)."""
    from keycloak import KeycloakAdmin

    from devtools.keycloak_server import REALM

    return KeycloakAdmin(
        server_url=real_keycloak.base_url + "/",
        username=real_keycloak.admin_username,
        password=real_keycloak.admin_password,
        realm_name=REALM,
        user_realm_name="master",
    )


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if KEYCLOAK_STATE.available is False:
        terminalreporter.write_sep("!", "REAL KEYCLOAK WAS UNAVAILABLE", red=True, bold=True)
        terminalreporter.write_line(f"reason: {KEYCLOAK_STATE.reason}", red=True)
        terminalreporter.write_line(
            f"Tests ran against the development provider or were skipped. Set {REQUIRE_ENV}=1 to make this fatal.",
            red=True,
        )


# --- token helpers -----------------------------------------------------------------------------------------------


def split_server_url(base_url_or_issuer: str, realm: str = REALM) -> tuple[str, str]:
    """``http://h:p`` or ``http://h:p/realms/<r>`` -> (``http://h:p/``, realm)."""
    url = base_url_or_issuer.rstrip("/")
    if "/realms/" in url:
        base, _, realm = url.rpartition("/realms/")
        return base + "/", realm
    return url + "/", realm


def openid_client(
    base_url_or_issuer: str, client_id: str = "spotcheck-cli", client_secret: str | None = None
) -> KeycloakOpenID:
    server_url, realm = split_server_url(base_url_or_issuer)
    return KeycloakOpenID(
        server_url=server_url, realm_name=realm, client_id=client_id, client_secret_key=client_secret
    )


def password_token(
    base_url_or_issuer: str,
    username: str,
    password: str = "demo",
    client_id: str = "spotcheck-cli",
    *,
    scope: str = "openid",
) -> dict[str, Any]:
    """The token response (``access_token``, ``refresh_token``, ``id_token`` …) of a password grant."""
    return openid_client(base_url_or_issuer, client_id).token(username, password, scope=scope)


async def a_password_token(
    base_url_or_issuer: str,
    username: str,
    password: str = "demo",
    client_id: str = "spotcheck-cli",
    *,
    scope: str = "openid",
) -> dict[str, Any]:
    kc = openid_client(base_url_or_issuer, client_id)
    try:
        return await kc.a_token(username, password, scope=scope)
    finally:
        await kc.connection.aclose()


def unverified_claims(jwt: str) -> dict[str, Any]:
    """The payload of a JWT without checking it (for assertions on claims only)."""
    payload = jwt.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
