"""Login, callback, logout and department switching for the server-rendered pages."""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import msgspec
from litestar import Request, Router, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, Parameter
from litestar.response import Redirect

from services.identity.auth import BINDING_COOKIE, SESSION_BINDING, SESSION_PRINCIPAL
from services.identity.oidc import OIDCClient, pkce_pair
from services.identity.principal import principal_from_claims
from services.identity.tokens import TokenVerifier
from shared.boundary import Code, Input, Text1000
from shared.errors import Forbidden, InvalidInput, Unauthenticated
from shared.ratelimit import enforce
from shared.web.guards import current_principal
from shared.web.params import OAuthText, QueryText, UrlText

LOGIN_STATE = "oidc_login"


def _safe_next(value: str | None) -> str:
    # Only same-site relative paths: never an open redirect.
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/"


@get("/login", exclude_from_auth=True)
async def login(request: Request[Any, Any, Any], next: UrlText = None) -> Redirect:
    # Each start mints a session and a PKCE pair; limiting starts also bounds callbacks, which need a pending start.
    limit = request.app.state.settings.app.login_per_minute
    await enforce(request, "login", limit, "登录尝试过于频繁，请一分钟后再试")
    oidc: OIDCClient = request.app.state.oidc
    verifier, challenge = pkce_pair()
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    request.session[LOGIN_STATE] = {
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "next": _safe_next(next),
    }
    redirect_uri = f"{request.app.state.settings.app.public_url}/auth/callback"
    return Redirect(oidc.authorization_url(redirect_uri, state, nonce, challenge))


@get("/auth/callback", exclude_from_auth=True)
async def callback(
    request: Request[Any, Any, Any],
    oauth_state: Annotated[str, Parameter(query="state", max_length=2000)] = "",
    code: OAuthText = "",
    error: QueryText = None,
) -> Redirect:
    pending = request.session.pop(LOGIN_STATE, None)
    if error:
        raise Unauthenticated(f"登录失败：{error}")
    if not pending or not oauth_state or not secrets.compare_digest(pending["state"], oauth_state):
        raise Unauthenticated("登录状态无效或已过期，请重新登录")
    if not code:
        raise InvalidInput("缺少授权码", field="code")
    oidc: OIDCClient = request.app.state.oidc
    verifier: TokenVerifier = request.app.state.token_verifier
    settings = request.app.state.settings
    tokens = await oidc.exchange_code(code, f"{settings.app.public_url}/auth/callback", pending["verifier"])
    claims = await verifier.verify(str(tokens["access_token"]))
    id_claims = await verifier.verify(
        str(tokens["id_token"]), expected_typ="ID", audience=settings.oidc.client_id
    )
    if id_claims.get("nonce") != pending["nonce"] or id_claims.get("sub") != claims.get("sub"):
        raise Unauthenticated("身份令牌校验失败，请重新登录")
    principal = principal_from_claims(claims, request.app.state.region_code)
    principal = principal.with_active(principal.departments[0] if principal.departments else None)
    # A fresh session id at login prevents session fixation.
    # Session fixation guard: the session only counts together with a binding cookie minted here, so a session id
    # planted in a victim's browser before login is useless to whoever planted it.
    binding = secrets.token_urlsafe(24)
    request.clear_session()
    request.set_session(
        {
            SESSION_PRINCIPAL: msgspec.to_builtins(principal),
            "id_token": tokens["id_token"],
            SESSION_BINDING: binding,
        }
    )
    response = Redirect(pending["next"])
    response.set_cookie(
        BINDING_COOKIE,
        binding,
        httponly=True,
        samesite="lax",
        secure=settings.is_production,
        max_age=8 * 3600,
    )
    return response


@post("/logout", exclude_from_auth=True)
async def logout(request: Request[Any, Any, Any]) -> Redirect:
    oidc: OIDCClient = request.app.state.oidc
    id_token = request.session.get("id_token")
    request.clear_session()
    response = Redirect(oidc.end_session_url(id_token, f"{request.app.state.settings.app.public_url}/"))
    response.delete_cookie(BINDING_COOKIE)
    return response


class SwitchDepartment(Input, forbid_unknown_fields=False):  # the form also carries _csrf_token
    department: Code
    next: Text1000 = "/"
    # The form's CSRF token (checked by the CSRF middleware before the handler; accepted here, not used).
    csrf_token: Text1000 = msgspec.field(default="", name="_csrf_token")


@post("/department")
async def switch_department(
    request: Request[Any, Any, Any],
    data: Annotated[SwitchDepartment, Body(media_type=RequestEncodingType.URL_ENCODED)],
) -> Redirect:
    principal = current_principal(request)
    if data.department not in principal.departments:
        raise Forbidden(f"您不属于部门 {data.department}", field="department")
    request.set_session(
        {**request.session, SESSION_PRINCIPAL: msgspec.to_builtins(principal.with_active(data.department))}
    )
    return Redirect(_safe_next(data.next))


router = Router(path="/", route_handlers=[login, callback, logout, switch_department])
