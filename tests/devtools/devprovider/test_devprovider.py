"""Dev OIDC provider over real HTTP: discovery, grants, token layout, logout, key persistence."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from jwcrypto import jwk
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakError

from devtools.devprovider import RealmFileError, load_realm
from devtools.devprovider.realm import Realm, parse_realm
from devtools.devprovider.sessions import ExpiringStore

from .support import REALM, fixture_realm, live_provider, realm_file

ADMIN_ID = "00000000-0000-4000-8000-000000000101"
MULTI_ID = "00000000-0000-4000-8000-000000000501"


@pytest.fixture(scope="module")
def realm_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return realm_file(tmp_path_factory.mktemp("realm"))


@pytest.fixture(scope="module")
def realm(realm_path: Path) -> Realm:
    return load_realm(realm_path)


@pytest.fixture(scope="module")
def base_url(realm_path: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with live_provider(realm_path, tmp_path_factory.mktemp("data")) as url:
        yield url


def cli(base_url: str) -> KeycloakOpenID:
    return KeycloakOpenID(server_url=base_url, realm_name=REALM, client_id="spotcheck-cli")


def claims_of(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))


def header_of(token: str) -> dict[str, Any]:
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))


def verify(kc: KeycloakOpenID, token: str, base_url: str) -> dict[str, Any]:
    keys = jwk.JWKSet.from_json(json.dumps(kc.certs()))
    checks = {"iss": f"{base_url}/realms/{REALM}", "aud": "spotcheck-api", "exp": None, "typ": "Bearer"}
    return kc.decode_token(token, key=keys, check_claims=checks)


def test_realm_file_is_validated(realm: Realm) -> None:
    multi = realm.users[MULTI_ID]
    assert set(multi.organizations) == {"130528-yjj", "130528-xfjy"}
    assert "/130528-yjj/whjcg" in realm.group_paths and "/130528-xfjy/fhjdk" in realm.group_paths
    assert realm.users[ADMIN_ID].password == "demo"
    broken = fixture_realm()
    broken["users"][0]["groups"] = ["/130528-yjj/nope"]
    broken["organizations"][0]["members"].append({"username": "ghost"})
    with pytest.raises(RealmFileError, match="unknown group") as err:
        parse_realm(json.dumps(broken).encode())
    assert "ghost" in str(err.value)


def test_expiring_store_is_single_use_and_expires() -> None:
    now = [1000.0]
    store: ExpiringStore[str] = ExpiringStore(60, clock=lambda: now[0])
    key = store.add("x")
    assert store.pop(key) == "x" and store.pop(key) is None
    key = store.add("y")
    now[0] += 61
    assert store.get(key) is None


def test_discovery_uses_keycloak_paths(base_url: str) -> None:
    doc = cli(base_url).well_known()
    iss = f"{base_url}/realms/{REALM}"
    assert doc["issuer"] == iss
    oidc = f"{iss}/protocol/openid-connect"
    assert doc["authorization_endpoint"] == f"{oidc}/auth"
    assert doc["token_endpoint"] == f"{oidc}/token"
    assert doc["jwks_uri"] == f"{oidc}/certs"
    assert doc["userinfo_endpoint"] == f"{oidc}/userinfo"
    assert doc["end_session_endpoint"] == f"{oidc}/logout"
    assert doc["introspection_endpoint"] == f"{oidc}/token/introspect"
    assert doc["code_challenge_methods_supported"] == ["S256"]
    assert doc["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"authorization_code", "password", "refresh_token", "client_credentials"} <= set(
        doc["grant_types_supported"]
    )
    assert cli(base_url).public_key()  # realm info endpoint


def test_password_grant_token_layout(base_url: str) -> None:
    kc = cli(base_url)
    resp = kc.token("yjj-admin", "demo")
    access = resp["access_token"]
    header = header_of(access)
    assert header["alg"] == "RS256" and header["typ"] == "JWT"
    assert header["kid"] == kc.certs()["keys"][0]["kid"]
    c = verify(kc, access, base_url)
    assert c["exp"] - c["iat"] == 300 and c["jti"]
    assert c["sub"] == ADMIN_ID and c["typ"] == "Bearer" and c["azp"] == "spotcheck-cli"
    assert "spotcheck-api" in c["aud"] and "account" in c["aud"]  # audience mapper + `roles` scope
    assert c["resource_access"]["account"]["roles"]
    assert {"openid", "email", "profile"} <= set(c["scope"].split()) and c["sid"] == resp["session_state"]
    assert c["preferred_username"] == "yjj-admin"
    assert (c["given_name"], c["family_name"]) == ("建国", "王") and "王" in c["name"]
    assert c["email"] and c["email_verified"] is True
    roles = c["realm_access"]["roles"]
    assert len(roles) == len(set(roles))
    assert set(roles) == {"dept-admin", f"default-roles-{REALM}", "offline_access", "uma_authorization"}
    assert c["organization"] == ["130528-yjj"] and c["groups"] == ["/130528-yjj/zfjdg"]

    idt = claims_of(resp["id_token"])
    assert idt["typ"] == "ID" and idt["aud"] == "spotcheck-cli" and idt["sub"] == ADMIN_ID
    refresh = resp["refresh_token"]
    assert header_of(refresh)["alg"] == "HS512" and claims_of(refresh)["typ"] == "Refresh"
    with pytest.raises(Exception):  # noqa: B017 - any verification failure will do
        verify(kc, refresh, base_url)

    multi = verify(kc, kc.token("multi-dept", "demo")["access_token"], base_url)
    assert multi["sub"] == MULTI_ID
    assert set(multi["organization"]) == {"130528-yjj", "130528-xfjy"}
    assert set(multi["groups"]) == {"/130528-yjj/whjcg", "/130528-xfjy/fhjdk"}
    assert {"planner", "inspector"} <= set(multi["realm_access"]["roles"])
    overseer = verify(kc, kc.token("county-overseer", "demo")["access_token"], base_url)
    assert overseer["organization"] == [] and "county-overseer" in overseer["realm_access"]["roles"]


@pytest.mark.parametrize(("username", "password"), [("yjj-admin", "wrong"), ("nobody", "demo")])
def test_wrong_credentials_are_401_invalid_grant(base_url: str, username: str, password: str) -> None:
    with pytest.raises(KeycloakError) as err:
        cli(base_url).token(username, password)
    assert err.value.response_code == 401
    assert json.loads(err.value.response_body)["error"] == "invalid_grant"


def test_client_authentication_and_grant_permissions(base_url: str, realm: Realm) -> None:
    token_url = f"{base_url}/realms/{REALM}/protocol/openid-connect/token"
    form = {"grant_type": "password", "username": "yjj-admin", "password": "demo"}
    bad = httpx.post(token_url, data=form, auth=("spotcheck-web", "not-the-secret"))
    assert (bad.status_code, bad.json()["error"]) == (401, "invalid_client")
    unknown = httpx.post(token_url, data={**form, "client_id": "who"})
    assert (unknown.status_code, unknown.json()["error"]) == (401, "invalid_client")
    web = httpx.post(token_url, data=form, auth=("spotcheck-web", "spotcheck-web-dev-secret"))
    assert (web.status_code, web.json()["error"]) == (400, "unauthorized_client")
    cc = httpx.post(token_url, data={"grant_type": "client_credentials", "client_id": "spotcheck-cli"})
    assert (cc.status_code, cc.json()["error"]) == (400, "unauthorized_client")
    odd = httpx.post(token_url, data={"grant_type": "implicit", "client_id": "spotcheck-cli"})
    assert (odd.status_code, odd.json()["error"]) == (400, "unsupported_grant_type")


def test_client_credentials_service_account(base_url: str, realm: Realm) -> None:
    secret = realm.clients["spotcheck-provisioner"].secret
    kc = KeycloakOpenID(
        server_url=base_url, realm_name=REALM, client_id="spotcheck-provisioner", client_secret_key=secret
    )
    resp = kc.token(grant_type="client_credentials")
    assert "refresh_token" not in resp
    keys = jwk.JWKSet.from_json(json.dumps(kc.certs()))
    c = kc.decode_token(
        resp["access_token"],
        key=keys,
        check_claims={"iss": f"{base_url}/realms/{REALM}", "exp": None, "typ": "Bearer"},
    )
    assert c["preferred_username"] == "service-account-spotcheck-provisioner" and c["client_id"]
    assert (
        "realm-management" in c["aud"] and "manage-users" in c["resource_access"]["realm-management"]["roles"]
    )
    assert (
        c["sub"] == realm.service_account_id("spotcheck-provisioner") and c["azp"] == "spotcheck-provisioner"
    )


def test_refresh_userinfo_introspect_and_logout(base_url: str) -> None:
    kc = cli(base_url)
    first = kc.token("multi-dept", "demo")
    second = kc.refresh_token(first["refresh_token"])
    assert second["session_state"] == first["session_state"]
    assert verify(kc, second["access_token"], base_url)["sub"] == MULTI_ID

    info = kc.userinfo(second["access_token"])
    assert info["sub"] == MULTI_ID and info["preferred_username"] == "multi-dept"
    assert set(info["organization"]) == {"130528-yjj", "130528-xfjy"} and len(info["groups"]) == 2
    userinfo_url = f"{base_url}/realms/{REALM}/protocol/openid-connect/userinfo"
    as_bearer = httpx.get(userinfo_url, headers={"Authorization": f"Bearer {first['refresh_token']}"})
    assert as_bearer.status_code == 401  # a refresh token is not an access token
    with pytest.raises(KeycloakError) as err:
        kc.refresh_token(second["access_token"])  # and an access token is not a refresh token
    assert err.value.response_code == 400

    web = KeycloakOpenID(
        server_url=base_url,
        realm_name=REALM,
        client_id="spotcheck-web",
        client_secret_key="spotcheck-web-dev-secret",
    )
    active = web.introspect(second["access_token"])
    assert active["active"] is True and active["sub"] == MULTI_ID and active["client_id"] == "spotcheck-cli"
    assert web.introspect("garbage") == {"active": False}
    with pytest.raises(KeycloakError):
        kc.introspect(second["access_token"])  # public clients may not introspect

    assert kc.logout(first["refresh_token"]) == {}
    for refresh in (first["refresh_token"], second["refresh_token"]):
        with pytest.raises(KeycloakError) as err:
            kc.refresh_token(refresh)
        assert err.value.response_code == 400
    assert (
        httpx.get(userinfo_url, headers={"Authorization": f"Bearer {second['access_token']}"}).status_code
        == 401
    )
    assert web.introspect(second["access_token"]) == {"active": False}


def test_keys_and_sessions_survive_restart(realm_path: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    with live_provider(realm_path, data) as first_url:
        kc = cli(first_url)
        kid = kc.certs()["keys"][0]["kid"]
        alive = kc.token("yjj-planner", "demo")
        ended = kc.token("yjj-planner", "demo")
        kc.logout(ended["refresh_token"])
    # Same data dir and same public URL (the issuer), served from a fresh process state.
    with live_provider(realm_path, data, public_base_url=first_url) as second_url:
        kc = cli(second_url)
        assert kc.certs()["keys"][0]["kid"] == kid
        verify(kc, alive["access_token"], first_url)
        assert kc.refresh_token(alive["refresh_token"])["access_token"]
        with pytest.raises(KeycloakError):
            kc.refresh_token(ended["refresh_token"])
    with live_provider(realm_path, tmp_path / "other") as other_url:
        assert cli(other_url).certs()["keys"][0]["kid"] != kid


def test_router_mounts_inside_a_host_app(realm_path: Path, tmp_path: Path) -> None:
    """The lead may add the routes to the SpotCheck app instead of a second port."""
    from litestar import Litestar
    from litestar.config.csrf import CSRFConfig
    from litestar.testing import TestClient

    from devtools.devprovider import create_dev_provider_router

    host = "http://testserver.local"
    app = Litestar(
        route_handlers=[create_dev_provider_router(realm_path, tmp_path, host)],
        csrf_config=CSRFConfig(secret="x" * 32),
    )
    with TestClient(app, base_url=host) as client:
        doc = client.get(f"/realms/{REALM}/.well-known/openid-configuration").json()
        assert doc["issuer"] == f"{host}/realms/{REALM}"
        resp = client.post(
            doc["token_endpoint"].removeprefix(host),
            data={
                "grant_type": "password",
                "client_id": "spotcheck-cli",
                "username": "xf-admin",
                "password": "demo",
            },
        )
        assert resp.status_code == 200, resp.text
        assert claims_of(resp.json()["access_token"])["organization"] == ["130528-xfjy"]
