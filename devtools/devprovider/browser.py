"""Front-channel endpoints: the login form (auth code + PKCE) and RP-initiated logout."""

from __future__ import annotations

import hmac
import re
import secrets
from pathlib import Path
from typing import Any

import jinja2
from litestar import Request, Response, get, post
from litestar.handlers import HTTPRouteHandler

from .provider import BINDING_COOKIE, NO_STORE, DevProvider, add_query, effective_scope, redirect, uri_allowed
from .sessions import IssuedCode, PendingLogin
from .tokens import TokenError

_PKCE_CHALLENGE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")
_templates = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=True,
)


def render(p: DevProvider, status: int = 200, **context: Any) -> Response[str]:
    html = _templates.get_template("login.html").render(realm_display_name=p.realm.display_name, **context)
    # The form must never be framed by another site (clickjacking a password prompt).
    headers = {**NO_STORE, "X-Frame-Options": "DENY", "Content-Security-Policy": "frame-ancestors 'none'"}
    return Response(html, status_code=status, media_type="text/html; charset=utf-8", headers=headers)


def _issue_code(p: DevProvider, pending: PendingLogin, sid: str, user_id: str, auth_time: int) -> str:
    code = IssuedCode(
        client_id=pending.client_id,
        redirect_uri=pending.redirect_uri,
        user_id=user_id,
        sid=sid,
        nonce=pending.nonce,
        scope=pending.scope,
        code_challenge=pending.code_challenge,
        auth_time=auth_time,
    )
    return p.codes.add(code)


def _code_redirect(p: DevProvider, pending: PendingLogin, code: str, sid: str) -> str:
    return add_query(
        pending.redirect_uri, {"state": pending.state, "session_state": sid, "iss": p.issuer, "code": code}
    )


def browser_logout(p: DevProvider, request: Request[Any, Any, Any], params: dict[str, str]) -> Response[Any]:
    """Keycloak 26 RP-initiated logout: id_token_hint (+ post_logout_redirect_uri, state)."""
    hint = params.get("id_token_hint")
    if not hint:
        # Without a hint Keycloak asks the user to confirm; SpotCheck always sends one, so the
        # dev provider simply refuses instead of growing a confirmation page.
        return render(p, 400, fatal_error="Missing parameter: id_token_hint")
    try:
        claims = p.tokens.verify_id_token_hint(hint)
    except TokenError:
        return render(p, 400, fatal_error="Invalid id_token_hint")
    client_id = str(claims.get("azp", ""))
    if params.get("client_id") and params["client_id"] != client_id:
        return render(p, 400, fatal_error="Parameter client_id does not match id_token_hint")
    client = p.realm.clients.get(client_id)
    target = params.get("post_logout_redirect_uri")
    if target and (client is None or not uri_allowed(target, client.post_logout_redirect_uris)):
        return render(p, 400, fatal_error="Invalid redirect uri")
    p.ended.end(str(claims.get("sid")))
    current = p.sso_session(request)
    if current is not None:
        p.ended.end(current[0])
    cookies = [p.clear_sso_cookie()]
    if target:
        return redirect(add_query(target, {"state": params.get("state")}), cookies)
    response = render(p, 200, info_message="您已退出登录。")
    response.cookies.extend(cookies)
    return response


def build_browser_handlers(p: DevProvider) -> list[HTTPRouteHandler]:
    def start(request: Request[Any, Any, Any]) -> Response[Any]:
        q = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
        client = p.realm.clients.get(q.get("client_id", ""))
        if client is None or not client.enabled or client.bearer_only:
            return render(p, 400, fatal_error="Client not found.")
        redirect_uri = q.get("redirect_uri", "")
        if not redirect_uri or not uri_allowed(redirect_uri, client.redirect_uris):
            # Never redirect to an unvetted URI, not even to report the error.
            return render(p, 400, fatal_error="Invalid parameter: redirect_uri")
        state = q.get("state")

        def fail(error: str, description: str) -> Response[Any]:
            return redirect(
                add_query(
                    redirect_uri,
                    {"error": error, "error_description": description, "state": state, "iss": p.issuer},
                )
            )

        if not client.standard_flow:
            return fail("unauthorized_client", "Client is not allowed to initiate browser login")
        if q.get("response_type") != "code":
            return fail("unsupported_response_type", "Only response_type=code is supported")
        if q.get("response_mode", "query") != "query":
            return fail("invalid_request", "Invalid parameter: response_mode")
        # PKCE S256 is mandatory for every client here: stricter than a default Keycloak
        # client, identical to spotcheck-web's configuration.
        if q.get("code_challenge_method") != "S256":
            return fail("invalid_request", "Missing parameter: code_challenge_method")
        challenge = q.get("code_challenge", "")
        if not _PKCE_CHALLENGE.match(challenge):
            return fail("invalid_request", "Invalid parameter: code_challenge")

        binding = request.cookies.get(BINDING_COOKIE) or secrets.token_urlsafe(24)
        pending = PendingLogin(
            client_id=client.client_id,
            redirect_uri=redirect_uri,
            state=state,
            nonce=q.get("nonce"),
            scope=effective_scope(q.get("scope"), client),
            code_challenge=challenge,
            browser_binding=binding,
        )
        prompt = q.get("prompt", "")
        session = p.sso_session(request)
        if session is not None and prompt != "login":
            sid, user, auth_time = session
            return redirect(_code_redirect(p, pending, _issue_code(p, pending, sid, user.id, auth_time), sid))
        if prompt == "none":
            return fail("login_required", "No active session")
        response = render(p, auth_session=p.pending.add(pending))
        response.cookies.append(p.binding_cookie(binding))
        return response

    @get("/protocol/openid-connect/auth")
    async def auth_form(request: Request[Any, Any, Any]) -> Response[Any]:
        return start(request)

    @post("/protocol/openid-connect/auth", status_code=200)
    async def auth_submit(request: Request[Any, Any, Any]) -> Response[Any]:
        form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        key = form.get("auth_session", "")
        pending = p.pending.get(key)
        cookie = request.cookies.get(BINDING_COOKIE, "")
        # The hidden field ties the POST to a form this browser was actually shown.
        if pending is None or not hmac.compare_digest(cookie, pending.browser_binding):
            return render(p, 400, fatal_error="登录页面已过期，请返回应用重新登录。")
        username = form.get("username", "")
        user = p.check_password(username, form.get("password", ""))
        if user is None or not user.enabled:
            return render(p, 200, auth_session=key, username=username, error_message="用户名或密码错误")
        if p.pending.pop(key) is None:  # a concurrent submit already used it
            return render(p, 400, fatal_error="登录页面已过期，请返回应用重新登录。")
        sid, auth_time = p.new_session_id(), p.tokens.now()
        code = _issue_code(p, pending, sid, user.id, auth_time)
        return redirect(_code_redirect(p, pending, code, sid), [p.sso_cookie(sid, user, auth_time)])

    @get("/protocol/openid-connect/logout")
    async def logout_browser(request: Request[Any, Any, Any]) -> Response[Any]:
        params = {k: v for k, v in request.query_params.items() if isinstance(v, str)}
        return browser_logout(p, request, params)

    return [auth_form, auth_submit, logout_browser]
