"""Browser flows against the dev provider: login form, auth code + PKCE, SSO cookie, logout."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from keycloak import KeycloakOpenID
from keycloak.exceptions import KeycloakError

from devtools.devprovider import load_realm
from devtools.devprovider.provider import uri_allowed

from .support import REALM, live_provider, realm_file

SECRET = "spotcheck-web-dev-secret"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    path = realm_file(tmp_path_factory.mktemp("realm"))
    allowed = load_realm(path).clients["spotcheck-web"].redirect_uris
    candidates = ["http://127.0.0.1:8000/auth/callback", "http://localhost:8000/auth/callback", *allowed]
    callback = next(c for c in candidates if uri_allowed(c, allowed) and "*" not in c)
    with live_provider(path, tmp_path_factory.mktemp("data")) as url:
        yield url, callback


def web(base_url: str) -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=base_url, realm_name=REALM, client_id="spotcheck-web", client_secret_key=SECRET
    )


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    return verifier, challenge


def start(
    browser: httpx.Client, base_url: str, callback: str, challenge: str | None, **extra: str
) -> httpx.Response:
    url = web(base_url).auth_url(
        redirect_uri=callback,
        scope="openid",
        state="st-1",
        nonce="n-1",
        code_challenge=challenge,
        code_challenge_method="S256" if challenge else None,
    )
    return browser.get(url + "".join(f"&{k}={v}" for k, v in extra.items()))


def form_token(page: httpx.Response) -> str:
    match = re.search(r'name="auth_session" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def login(
    browser: httpx.Client, base_url: str, callback: str, challenge: str, username: str = "yjj-admin"
) -> dict[str, list[str]]:
    page = start(browser, base_url, callback, challenge)
    assert page.status_code == 200 and "用户名" in page.text and "登录" in page.text
    done = browser.post(
        page.url.copy_with(query=None),
        data={"auth_session": form_token(page), "username": username, "password": "demo"},
    )
    assert done.status_code == 302, done.text
    location = done.headers["location"]
    assert location.startswith(callback)
    return parse_qs(urlsplit(location).query)


def test_auth_code_pkce_flow(env: tuple[str, str]) -> None:
    base_url, callback = env
    verifier, challenge = pkce()
    with httpx.Client() as browser:
        page = start(browser, base_url, callback, challenge)
        bad = browser.post(
            page.url.copy_with(query=None),
            data={"auth_session": form_token(page), "username": "yjj-admin", "password": "x"},
        )
        assert bad.status_code == 200 and "用户名或密码错误" in bad.text
        params = login(browser, base_url, callback, challenge)
    assert params["state"] == ["st-1"] and params["iss"] == [f"{base_url}/realms/{REALM}"]
    code = params["code"][0]
    kc = web(base_url)
    tokens = kc.token(
        grant_type="authorization_code", code=code, redirect_uri=callback, code_verifier=verifier
    )
    claims = kc.decode_token(tokens["id_token"])
    assert claims["typ"] == "ID" and claims["nonce"] == "n-1" and claims["aud"] == "spotcheck-web"
    access = kc.decode_token(tokens["access_token"])
    assert access["azp"] == "spotcheck-web" and access["preferred_username"] == "yjj-admin"
    with pytest.raises(KeycloakError) as err:  # a code is single-use
        kc.token(grant_type="authorization_code", code=code, redirect_uri=callback, code_verifier=verifier)
    assert err.value.response_code == 400 and b"invalid_grant" in err.value.response_body


def test_wrong_verifier_and_wrong_client_secret_are_refused(env: tuple[str, str]) -> None:
    base_url, callback = env
    verifier, challenge = pkce()
    with httpx.Client() as browser:
        code = login(browser, base_url, callback, challenge)["code"][0]
    with httpx.Client() as other_browser:  # a fresh browser, so no SSO cookie
        code2 = login(other_browser, base_url, callback, challenge, username="xf-admin")["code"][0]
    with pytest.raises(KeycloakError) as err:
        web(base_url).token(
            grant_type="authorization_code", code=code, redirect_uri=callback, code_verifier=pkce()[0]
        )
    assert err.value.response_code == 400 and b"PKCE" in err.value.response_body
    stranger = KeycloakOpenID(
        server_url=base_url, realm_name=REALM, client_id="spotcheck-web", client_secret_key="guess"
    )
    with pytest.raises(KeycloakError) as err:
        stranger.token(
            grant_type="authorization_code", code=code2, redirect_uri=callback, code_verifier=verifier
        )
    assert err.value.response_code == 401


def test_bad_authorization_requests(env: tuple[str, str]) -> None:
    base_url, callback = env
    _, challenge = pkce()
    with httpx.Client() as browser:
        evil = start(browser, base_url, "https://evil.example/cb", challenge)
        assert evil.status_code == 400 and "location" not in evil.headers
        no_pkce = start(browser, base_url, callback, None)
        assert no_pkce.status_code == 302
        assert parse_qs(urlsplit(no_pkce.headers["location"]).query)["error"] == ["invalid_request"]
        auth = f"{base_url}/realms/{REALM}/protocol/openid-connect/auth"
        blind = browser.post(
            auth, data={"auth_session": "forged", "username": "yjj-admin", "password": "demo"}
        )
        assert blind.status_code == 400 and "location" not in blind.headers
    # A real form token replayed from another browser (no binding cookie) is refused too.
    with httpx.Client() as victim_browser, httpx.Client() as attacker:
        token = form_token(start(attacker, base_url, callback, challenge))
        posted = victim_browser.post(
            auth, data={"auth_session": token, "username": "yjj-admin", "password": "demo"}
        )
        assert posted.status_code == 400


def test_sso_cookie_and_rp_initiated_logout(env: tuple[str, str]) -> None:
    base_url, callback = env
    verifier, challenge = pkce()
    kc = web(base_url)
    with httpx.Client() as browser:
        code = login(browser, base_url, callback, challenge, username="multi-dept")["code"][0]
        tokens = kc.token(
            grant_type="authorization_code", code=code, redirect_uri=callback, code_verifier=verifier
        )
        again = start(browser, base_url, callback, challenge)  # SSO: no form the second time
        assert again.status_code == 302 and "code=" in again.headers["location"]

        logout = f"{base_url}/realms/{REALM}/protocol/openid-connect/logout"
        off = browser.get(
            logout,
            params={
                "id_token_hint": tokens["id_token"],
                "client_id": "spotcheck-web",
                "post_logout_redirect_uri": callback,
                "state": "bye",
            },
        )
        assert off.status_code == 302 and off.headers["location"] == f"{callback}?state=bye"
        relogin = start(browser, base_url, callback, challenge)
        assert relogin.status_code == 200 and 'name="auth_session"' in relogin.text
        refused = browser.get(
            logout,
            params={"id_token_hint": tokens["id_token"], "post_logout_redirect_uri": "https://evil.example/"},
        )
        assert refused.status_code == 400 and "location" not in refused.headers
    with pytest.raises(KeycloakError):
        kc.refresh_token(tokens["refresh_token"])  # the browser session ended with it
