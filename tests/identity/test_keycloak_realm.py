"""Contract tests of deploy/keycloak/realm-county-130528.json against a real Keycloak 26 server."""

from __future__ import annotations

import base64
import hashlib
import html
import re
import secrets
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urljoin, urlparse

import httpx
import pytest
from keycloak import KeycloakAdmin, KeycloakOpenIDConnection
from keycloak.exceptions import KeycloakError

from devtools.keycloak_server import REALM, KeycloakServer
from tests.keycloak_fixtures import openid_client, password_token, unverified_claims

API_AUDIENCE = "spotcheck-api"
YJJ, XFJY, SCJG = "130528-yjj", "130528-xfjy", "130528-scjg"
BUILTIN_ROLES = {"default-roles-county-130528", "offline_access", "uma_authorization"}

# username: (sub, family name, given name, realm roles, organizations, groups)
USERS: dict[str, tuple[str, str, str, set[str], set[str], set[str]]] = {
    "yjj-admin": (
        "00000000-0000-4000-8000-000000000101",
        "王",
        "建国",
        {"dept-admin"},
        {YJJ},
        {"/130528-yjj/zfjdg"},
    ),
    "yjj-planner": (
        "00000000-0000-4000-8000-000000000102",
        "李",
        "明",
        {"planner"},
        {YJJ},
        {"/130528-yjj/zfjdg"},
    ),
    "yjj-reviewer": (
        "00000000-0000-4000-8000-000000000103",
        "赵",
        "丽",
        {"reviewer"},
        {YJJ},
        {"/130528-yjj/zfjdg"},
    ),
    "yjj-insp-whjg": (
        "00000000-0000-4000-8000-000000000104",
        "张",
        "伟",
        {"inspector"},
        {YJJ},
        {"/130528-yjj/whjgg"},
    ),
    "yjj-insp-whjc": (
        "00000000-0000-4000-8000-000000000105",
        "刘",
        "洋",
        {"inspector"},
        {YJJ},
        {"/130528-yjj/whjcg"},
    ),
    "xf-admin": (
        "00000000-0000-4000-8000-000000000201",
        "陈",
        "刚",
        {"dept-admin"},
        {XFJY},
        {"/130528-xfjy/fhjdk"},
    ),
    "xf-planner": (
        "00000000-0000-4000-8000-000000000202",
        "杨",
        "帆",
        {"planner"},
        {XFJY},
        {"/130528-xfjy/fhjdk"},
    ),
    "xf-inspector": (
        "00000000-0000-4000-8000-000000000203",
        "黄",
        "磊",
        {"inspector"},
        {XFJY},
        {"/130528-xfjy/fhjdk"},
    ),
    "scjg-admin": (
        "00000000-0000-4000-8000-000000000301",
        "周",
        "敏",
        {"dept-admin"},
        {SCJG},
        {"/130528-scjg/zfjck"},
    ),
    "county-overseer": (
        "00000000-0000-4000-8000-000000000401",
        "孙",
        "强",
        {"county-overseer"},
        set(),
        set(),
    ),
    "multi-dept": (
        "00000000-0000-4000-8000-000000000501",
        "吴",
        "静",
        {"planner", "inspector"},
        {YJJ, XFJY},
        {"/130528-yjj/whjcg", "/130528-xfjy/fhjdk"},
    ),
}


def verified_claims(server: KeycloakServer, access_token: str) -> dict[str, Any]:
    """Signature (realm JWKS), exp, iss, aud and typ checked by python-keycloak / jwcrypto."""
    kc = openid_client(server.issuer)
    return kc.decode_token(
        access_token,
        check_claims={"iss": server.issuer, "aud": API_AUDIENCE, "exp": None, "typ": "Bearer"},
    )


def test_discovery(real_keycloak: KeycloakServer) -> None:
    doc = openid_client(real_keycloak.issuer).well_known()
    assert doc["issuer"] == real_keycloak.issuer
    assert doc["token_endpoint"] == f"{real_keycloak.issuer}/protocol/openid-connect/token"
    assert doc["jwks_uri"] == f"{real_keycloak.issuer}/protocol/openid-connect/certs"
    assert doc["end_session_endpoint"] == f"{real_keycloak.issuer}/protocol/openid-connect/logout"
    assert "S256" in doc["code_challenge_methods_supported"]
    assert "organization" in doc["scopes_supported"]


def test_multi_dept_password_grant_has_all_organizations(real_keycloak: KeycloakServer) -> None:
    token = password_token(real_keycloak.issuer, "multi-dept")  # scope=openid only: no special scopes asked
    claims = verified_claims(real_keycloak, token["access_token"])
    assert claims["sub"] == "00000000-0000-4000-8000-000000000501"
    assert claims["typ"] == "Bearer"
    assert claims["azp"] == "spotcheck-cli"
    assert API_AUDIENCE in claims["aud"]
    assert sorted(claims["organization"]) == sorted([YJJ, XFJY])
    assert set(claims["groups"]) == {"/130528-yjj/whjcg", "/130528-xfjy/fhjdk"}
    assert {"planner", "inspector"} <= set(claims["realm_access"]["roles"])
    assert "dept-admin" not in claims["realm_access"]["roles"]
    assert claims["preferred_username"] == "multi-dept"
    assert claims["email"] == "multi-dept@130528.spotcheck.test"
    assert claims["email_verified"] is True
    assert (claims["family_name"], claims["given_name"]) == ("吴", "静")
    assert claims["name"]  # Keycloak renders "given family": "静 吴"
    assert claims["iss"] == real_keycloak.issuer


@pytest.mark.parametrize("username", sorted(USERS))
def test_every_demo_user(real_keycloak: KeycloakServer, username: str) -> None:
    sub, family, given, roles, orgs, groups = USERS[username]
    token = password_token(real_keycloak.base_url, username)
    claims = verified_claims(real_keycloak, token["access_token"])
    assert claims["sub"] == sub
    assert claims["preferred_username"] == username
    assert (claims["family_name"], claims["given_name"]) == (family, given)
    assert set(claims["realm_access"]["roles"]) - BUILTIN_ROLES == roles
    assert set(claims.get("organization", [])) == orgs
    assert set(claims.get("groups", [])) == groups
    assert claims["email"] == f"{username}@130528.spotcheck.test"


def test_county_overseer_has_no_organization(real_keycloak: KeycloakServer) -> None:
    claims = unverified_claims(password_token(real_keycloak.issuer, "county-overseer")["access_token"])
    assert "county-overseer" in claims["realm_access"]["roles"]
    assert not claims.get("organization")
    assert not claims.get("groups")


def test_refreshed_token_keeps_all_organizations(real_keycloak: KeycloakServer) -> None:
    kc = openid_client(real_keycloak.issuer)
    first = kc.token("multi-dept", "demo")
    refreshed = kc.refresh_token(first["refresh_token"])
    claims = verified_claims(real_keycloak, refreshed["access_token"])
    assert sorted(claims["organization"]) == sorted([YJJ, XFJY])


def test_id_token_and_userinfo(real_keycloak: KeycloakServer) -> None:
    kc = openid_client(real_keycloak.issuer)
    token = kc.token("multi-dept", "demo")
    id_claims = unverified_claims(token["id_token"])
    assert id_claims["typ"] == "ID"
    assert id_claims["aud"] == "spotcheck-cli"
    userinfo = kc.userinfo(token["access_token"])
    assert userinfo["sub"] == "00000000-0000-4000-8000-000000000501"
    assert sorted(userinfo["organization"]) == sorted([YJJ, XFJY])


def test_wrong_password_and_disallowed_grants(real_keycloak: KeycloakServer) -> None:
    with pytest.raises(KeycloakError, match="invalid_grant"):
        password_token(real_keycloak.issuer, "multi-dept", "not-demo")
    # spotcheck-web is authorization-code only: no password grant even with its secret
    web = openid_client(real_keycloak.issuer, "spotcheck-web", "spotcheck-web-dev-secret")
    with pytest.raises(KeycloakError, match=r"unauthorized_client"):
        web.token("multi-dept", "demo")
    # spotcheck-api is bearer-only: it can get no tokens at all
    with pytest.raises(KeycloakError, match=r"unauthorized_client|invalid_client"):
        password_token(real_keycloak.issuer, "multi-dept", client_id="spotcheck-api")


# --- spotcheck-web: authorization code + PKCE S256 -----------------------------------------------------------------


class Browser:
    """Just enough of a browser for Keycloak's login form.

    Keycloak marks its cookies ``Secure; SameSite=None`` even on plain http. Browsers treat http://127.0.0.1 and
    http://localhost as secure contexts and send them; Python's cookie jar does not, so carry them by hand.
    """

    def __init__(self) -> None:
        self.client = httpx.Client(follow_redirects=False, timeout=30)
        self.cookies: dict[str, str] = {}

    def _keep(self, resp: httpx.Response) -> httpx.Response:
        for header in resp.headers.get_list("set-cookie"):
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return resp

    def _headers(self) -> dict[str, str]:
        return {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())} if self.cookies else {}

    def get(self, url: str) -> httpx.Response:
        return self._keep(self.client.get(url, headers=self._headers()))

    def post(self, url: str, data: dict[str, str]) -> httpx.Response:
        return self._keep(self.client.post(url, data=data, headers=self._headers()))

    def login(self, auth_url: str, username: str, password: str) -> httpx.Response:
        """Fill in the login form(s) until Keycloak redirects. With organizations enabled the browser flow is
        identity-first: a username page, then a password page."""
        page = self.get(auth_url)
        for _ in range(3):
            assert page.status_code == 200, page.text[:500]
            match = re.search(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"', page.text)
            assert match, f"no login form in: {page.text[:2000]}"
            action = urljoin(str(page.url), html.unescape(match.group(1)))
            data = {"username": username}
            if 'name="password"' in page.text:
                data["password"] = password
            page = self.post(action, data)
            if page.status_code != 200:
                return page
        raise AssertionError(f"login did not finish: {page.text[:2000]}")


@pytest.fixture
def browser() -> Iterator[Browser]:
    b = Browser()
    yield b
    b.client.close()


def test_web_client_authorization_code_with_pkce(real_keycloak: KeycloakServer, browser: Browser) -> None:
    redirect_uri = "http://127.0.0.1:8123/auth/callback"  # any port on 127.0.0.1 matches http://127.0.0.1*
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(16)
    auth_url = f"{real_keycloak.issuer}/protocol/openid-connect/auth?" + urlencode(
        {
            "client_id": "spotcheck-web",
            "response_type": "code",
            "scope": "openid",
            "redirect_uri": redirect_uri,
            "state": state,
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    resp = browser.login(auth_url, "multi-dept", "demo")
    assert resp.status_code == 302, resp.text[:1000]
    location = urlparse(resp.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == redirect_uri
    params = parse_qs(location.query)
    assert params["state"] == [state]
    web = openid_client(real_keycloak.issuer, "spotcheck-web", "spotcheck-web-dev-secret")
    token = web.token(
        grant_type="authorization_code",
        code=params["code"][0],
        redirect_uri=redirect_uri,
        code_verifier=verifier,
    )
    claims = verified_claims(real_keycloak, token["access_token"])
    assert claims["azp"] == "spotcheck-web"
    assert sorted(claims["organization"]) == sorted([YJJ, XFJY])
    assert set(claims["groups"]) == {"/130528-yjj/whjcg", "/130528-xfjy/fhjdk"}
    assert claims["sub"] == "00000000-0000-4000-8000-000000000501"

    # RP-initiated logout (Keycloak 26: id_token_hint + post_logout_redirect_uri) back to a loopback URI
    logout = browser.get(
        f"{real_keycloak.issuer}/protocol/openid-connect/logout?"
        + urlencode(
            {
                "id_token_hint": token["id_token"],
                "post_logout_redirect_uri": "http://127.0.0.1:8123/",
                "state": "bye",
            }
        )
    )
    assert logout.status_code == 302, logout.text[:500]
    assert logout.headers["location"] == "http://127.0.0.1:8123/?state=bye"
    with pytest.raises(KeycloakError):  # the session is gone, so is its refresh token
        web.refresh_token(token["refresh_token"])


def _auth_url(server: KeycloakServer, redirect_uri: str, **extra: str) -> str:
    return f"{server.issuer}/protocol/openid-connect/auth?" + urlencode(
        {
            "client_id": "spotcheck-web",
            "response_type": "code",
            "scope": "openid",
            "state": "s",
            "redirect_uri": redirect_uri,
            **extra,
        }
    )


def test_web_client_requires_pkce(real_keycloak: KeycloakServer, browser: Browser) -> None:
    resp = browser.get(_auth_url(real_keycloak, "http://localhost:5173/cb"))
    assert resp.status_code == 302
    assert "error=invalid_request" in resp.headers["location"]
    assert "code_challenge" in resp.headers["location"]


@pytest.mark.parametrize(
    ("redirect_uri", "allowed"),
    [
        ("http://127.0.0.1:8123/auth/callback", True),
        ("http://127.0.0.1/cb", True),
        ("http://localhost:5173/auth/callback", True),
        ("http://127.0.0.1.evil.example/cb", False),
        ("http://localhost.evil.example/cb", False),
        ("http://localhost:80@evil.example/cb", False),
        ("http://127.0.0.1:8000.evil.example/cb", False),
        ("https://evil.example/cb", False),
    ],
)
def test_web_client_redirect_uris(
    real_keycloak: KeycloakServer, browser: Browser, redirect_uri: str, allowed: bool
) -> None:
    pkce = {"code_challenge": "x" * 43, "code_challenge_method": "S256"}
    resp = browser.get(_auth_url(real_keycloak, redirect_uri, **pkce))
    # an unknown redirect_uri gets an error page (400), never a redirect to it
    assert resp.status_code == (200 if allowed else 400)


# --- admin API -----------------------------------------------------------------------------------------------------


@pytest.fixture
async def provisioner(real_keycloak: KeycloakServer) -> AsyncIterator[KeycloakAdmin]:
    connection = KeycloakOpenIDConnection(
        server_url=real_keycloak.base_url + "/",
        realm_name=REALM,
        client_id="spotcheck-provisioner",
        client_secret_key="spotcheck-provisioner-dev-secret",
        grant_type="client_credentials",
    )
    admin = KeycloakAdmin(connection=connection)
    yield admin
    await connection.aclose()


async def test_provisioner_manages_organizations_groups_and_users(provisioner: KeycloakAdmin) -> None:
    orgs = await provisioner.a_get_organizations()
    assert {o["alias"]: o["name"] for o in orgs} == {
        YJJ: "宁晋县应急管理局",
        XFJY: "宁晋县消防救援大队",
        SCJG: "宁晋县市场监督管理局",
    }
    yjj = next(o for o in orgs if o["alias"] == YJJ)
    members = await provisioner.a_get_organization_members(yjj["id"])
    assert {m["username"] for m in members} == {
        "yjj-admin",
        "yjj-planner",
        "yjj-reviewer",
        "yjj-insp-whjg",
        "yjj-insp-whjc",
        "multi-dept",
    }

    suffix = uuid.uuid4().hex[:8]
    alias = f"130528-t{suffix}"
    org_id = await provisioner.a_create_organization(
        {
            "name": f"宁晋县测试局{suffix}",
            "alias": alias,
            "enabled": True,
            "domains": [{"name": f"t{suffix}.130528.spotcheck.test"}],
            "attributes": {"spotcheck.department_code": [alias]},
        }
    )
    assert org_id
    user_id = await provisioner.a_create_user(
        {
            "username": f"t{suffix}-admin",
            "enabled": True,
            "email": f"t{suffix}@130528.spotcheck.test",
            "emailVerified": True,
            "firstName": "测试",
            "lastName": "王",
        }
    )
    group_id = await provisioner.a_create_group(
        {"name": alias, "attributes": {"display_name": ["宁晋县测试局"]}}
    )
    assert group_id
    section_id = await provisioner.a_create_group({"name": "zfjdg"}, parent=group_id)
    try:
        await provisioner.a_organization_user_add(user_id, org_id)
        await provisioner.a_group_user_add(user_id, section_id)
        assert [o["alias"] for o in await provisioner.a_get_user_organizations(user_id)] == [alias]
        section = await provisioner.a_get_group_by_path(f"/{alias}/zfjdg")
        assert section["id"] == section_id
    finally:
        await provisioner.a_delete_group(group_id)
        await provisioner.a_delete_user(user_id)
        await provisioner.a_delete_organization(org_id)
    assert alias not in {o["alias"] for o in await provisioner.a_get_organizations()}


async def test_department_groups_and_realm_settings(master_admin: KeycloakAdmin) -> None:
    realm = await master_admin.a_get_realm(REALM)
    assert realm["displayName"] == "宁晋县"
    assert realm["organizationsEnabled"] is True
    assert realm["attributes"]["spotcheck.region_code"] == "130528"
    assert realm["accessTokenLifespan"] == 300
    roles = {r["name"] for r in await master_admin.a_get_realm_roles()}
    assert {"dept-admin", "planner", "inspector", "reviewer", "county-overseer"} <= roles
    yjj = await master_admin.a_get_group_by_path("/130528-yjj")
    children = await master_admin.a_get_group_children(yjj["id"], full_hierarchy=True)
    assert {c["name"]: c["attributes"]["display_name"][0] for c in children} == {
        "zfjdg": "执法监督股",
        "whjgg": "危化监管股",
        "whjcg": "危化监察股",
        "gmjgg": "工贸监管股",
        "gmjcg": "工贸监察股",
        "yjzhzx": "应急指挥中心",
    }
    (web,) = [c for c in await master_admin.a_get_clients() if c["clientId"] == "spotcheck-web"]
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"
    assert web["standardFlowEnabled"] and not web["directAccessGrantsEnabled"]
    assert not web["implicitFlowEnabled"] and not web["serviceAccountsEnabled"]
