"""The API accepts and refuses tokens of the real realm (Keycloak in CI, dev provider as a loud fallback)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.keycloak_fixtures import openid_client
from tests.support.stack import SSO, AppServer, start_app, start_dev_sso, stop


@pytest.fixture(scope="module", params=["session-provider", "dev-provider"])
def provider(
    request: pytest.FixtureRequest,
    app_server: AppServer,
    sso: SSO,
    app_env: dict[str, str],
    service_dir: Path,
) -> Iterator[tuple[SSO, AppServer]]:
    """The same contract runs against the session's provider (real Keycloak in CI) and against the development
    provider, each with its own SpotCheck process, so the two cannot drift apart."""
    if request.param == "session-provider" or sso.kind == "dev":
        yield sso, app_server
        return
    workdir = service_dir / "dev-contract"
    workdir.mkdir(exist_ok=True)
    dev, proc = start_dev_sso(workdir)
    app = start_app(
        workdir, {**app_env, "SPOTCHECK_OIDC_ISSUER": dev.issuer, "SPOTCHECK_OIDC_DEV_PROVIDER": "1"}
    )
    try:
        yield dev, app
    finally:
        stop(app.proc)
        stop(proc)


@pytest.fixture(scope="module")
def sso_under_test(provider: tuple[SSO, AppServer]) -> SSO:
    return provider[0]


@pytest.fixture(scope="module")
def api(provider: tuple[SSO, AppServer]) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=provider[1].url, timeout=20) as client:
        yield client


def bearer(token: str, department: str | None = None) -> dict[str, str]:
    headers = {"Authorization": f"Bearer {token}"}
    if department:
        headers["X-Department"] = department
    return headers


def _b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_probes_and_schema(api: httpx.Client) -> None:
    assert api.get("/health").json() == {"status": "ok"}
    ready = api.get("/ready")
    assert ready.status_code == 200 and ready.json()["checks"] == {"postgres": "ok", "redis": "ok"}
    schema = api.get("/schema/openapi.json")
    assert schema.status_code == 200 and "/api/me" in schema.json()["paths"]
    assert api.get("/health").headers["x-request-id"]


def test_planner_sees_own_department(api: httpx.Client, sso_under_test: SSO) -> None:
    me = api.get("/api/me", headers=bearer(sso_under_test.token("yjj-planner")))
    assert me.status_code == 200, me.text
    body = me.json()
    assert body["user_id"] == "00000000-0000-4000-8000-000000000102"
    assert body["active_department"] == "130528-yjj"
    assert [d["name"] for d in body["departments"]] == ["宁晋县应急管理局"]
    assert body["roles"] == ["planner"] and body["sections"] == ["zfjdg"]
    assert body["name"] == "李明"
    sections = api.get("/api/sections", headers=bearer(sso_under_test.token("yjj-planner"))).json()
    assert {s["department_code"] for s in sections} == {"130528-yjj"}
    assert {s["name"] for s in sections} >= {"执法监督股", "危化监管股", "危化监察股"}


def test_person_in_two_departments_chooses_one(api: httpx.Client, sso_under_test: SSO) -> None:
    token = sso_under_test.token("multi-dept")
    me = api.get("/api/me", headers=bearer(token)).json()
    assert {d["code"] for d in me["departments"]} == {"130528-yjj", "130528-xfjy"}
    assert me["active_department"] is None
    # Without a chosen department no tenant data is visible.
    assert api.get("/api/sections", headers=bearer(token)).json() == []
    xf = api.get("/api/sections", headers=bearer(token, "130528-xfjy")).json()
    assert {s["department_code"] for s in xf} == {"130528-xfjy"}
    me_xf = api.get("/api/me", headers=bearer(token, "130528-xfjy")).json()
    assert me_xf["active_department"] == "130528-xfjy" and me_xf["sections"] == ["fhjdk"]


def test_department_not_joined_is_forbidden(api: httpx.Client, sso_under_test: SSO) -> None:
    response = api.get("/api/sections", headers=bearer(sso_under_test.token("yjj-planner"), "130528-xfjy"))
    assert response.status_code == 403
    assert response.json()["error"]["field"] == "X-Department"


def test_overseer_reads_the_whole_county(api: httpx.Client, sso_under_test: SSO) -> None:
    token = sso_under_test.token("county-overseer")
    me = api.get("/api/me", headers=bearer(token)).json()
    assert me["roles"] == ["county-overseer"] and me["departments"] == []
    sections = api.get("/api/sections", headers=bearer(token)).json()
    # Other tests of the session add departments to the county: the seed county's three are among them.
    assert {s["department_code"] for s in sections} >= {"130528-yjj", "130528-xfjy", "130528-scjg"}
    codes = [d["code"] for d in api.get("/api/departments", headers=bearer(token)).json()]
    assert codes == sorted(codes) and all(code.startswith("130528-") for code in codes)
    assert [c for c in codes if c in ("130528-yjj", "130528-xfjy", "130528-scjg")] == [
        "130528-scjg",
        "130528-xfjy",
        "130528-yjj",
    ]


def test_no_token_is_401(api: httpx.Client) -> None:
    response = api.get("/api/me")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    assert api.get("/api/me", headers={"Authorization": "Basic eWpqOmRlbW8="}).status_code == 401


@pytest.mark.parametrize("kind", ["garbage", "forged", "alg-none", "refresh", "id", "wrong-audience"])
def test_bad_tokens_are_401(api: httpx.Client, sso_under_test: SSO, kind: str) -> None:
    tokens = sso_under_test.tokens("yjj-planner")
    access = str(tokens["access_token"])
    header, payload, signature = access.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    if kind == "garbage":
        token = "not-a-jwt"
    elif kind == "forged":
        token = f"{header}.{_b64({**claims, 'sub': '00000000-0000-4000-8000-000000000101'})}.{signature}"
    elif kind == "alg-none":
        token = f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{payload}."
    elif kind == "refresh":
        token = str(tokens["refresh_token"])
    elif kind == "id":
        token = str(tokens["id_token"])
    else:
        provisioner = openid_client(
            sso_under_test.issuer, "spotcheck-provisioner", "spotcheck-provisioner-dev-secret"
        )
        token = provisioner.token(grant_type="client_credentials")["access_token"]
    response = api.get("/api/me", headers=bearer(token))
    assert response.status_code == 401, (kind, response.text)
    assert response.json()["error"]["message"]


def test_token_of_another_realm_is_401(api: httpx.Client, service_dir: Path) -> None:
    other_dir = service_dir / "other-realm"
    other_dir.mkdir(exist_ok=True)
    other, proc = start_dev_sso(other_dir)
    try:
        token = other.token("yjj-planner")
    finally:
        stop(proc)
    response = api.get("/api/me", headers=bearer(token))
    assert response.status_code == 401
