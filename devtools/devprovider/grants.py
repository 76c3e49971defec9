"""Back-channel endpoints: token (four grants), introspection and refresh-token logout.

Status codes and error strings mirror Keycloak's, because python-keycloak and the SpotCheck
backend branch on them (e.g. 401 for a wrong password, 400 for a spent code).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from typing import Any

from litestar import Request, Response, post
from litestar.handlers import HTTPRouteHandler

from .browser import browser_logout
from .provider import NO_STORE, ClientAuthError, DevProvider, effective_scope, oauth_error
from .tokens import ACCESS_TOKEN_SECONDS, TokenError


def _pkce_ok(verifier: str | None, challenge: str) -> bool:
    if not verifier or not 43 <= len(verifier) <= 128:
        return False
    digest = hashlib.sha256(verifier.encode("ascii", "replace")).digest()
    computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    return hmac.compare_digest(computed, challenge)


async def _form(request: Request[Any, Any, Any]) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def build_grant_handlers(p: DevProvider) -> list[HTTPRouteHandler]:
    def authorization_code(form: dict[str, str], client_id: str) -> Response[Any]:
        # Popped before any check: a code is spent by its first use, right or wrong.
        code = p.codes.pop(form.get("code", ""))
        if code is None:
            return oauth_error("invalid_grant", "Code not valid")
        if code.client_id != client_id:
            return oauth_error("invalid_grant", "Code not valid")
        if form.get("redirect_uri") != code.redirect_uri:
            return oauth_error("invalid_grant", "Incorrect redirect_uri")
        if not _pkce_ok(form.get("code_verifier"), code.code_challenge):
            return oauth_error("invalid_grant", "PKCE verification failed: Invalid code verifier")
        user = p.realm.users.get(code.user_id)
        if user is None or not user.enabled or p.ended.is_ended(code.sid):
            return oauth_error("invalid_grant", "Session not active")
        client = p.realm.clients[client_id]
        return p.token_response(user, client, code.sid, code.scope, code.nonce, code.auth_time)

    def password(form: dict[str, str], client_id: str) -> Response[Any]:
        client = p.realm.clients[client_id]
        if not client.direct_access_grants:
            return oauth_error("unauthorized_client", "Client not allowed for direct access grants")
        user = p.check_password(form.get("username", ""), form.get("password", ""))
        if user is None:
            return oauth_error("invalid_grant", "Invalid user credentials", 401)
        if not user.enabled:
            return oauth_error("invalid_grant", "Account disabled")
        scope = effective_scope(form.get("scope"), client)
        return p.token_response(user, client, p.new_session_id(), scope, None, p.tokens.now())

    def refresh(form: dict[str, str], client_id: str) -> Response[Any]:
        try:
            claims = p.tokens.verify_refresh_token(form.get("refresh_token", ""))
        except TokenError:
            return oauth_error("invalid_grant", "Invalid refresh token")
        if claims.get("azp") != client_id:
            return oauth_error("invalid_grant", "Token client and authorized client don't match")
        user = p.realm.users.get(str(claims.get("sub")))
        sid = str(claims.get("sid"))
        if user is None or not user.enabled or p.ended.is_ended(sid):
            return oauth_error("invalid_grant", "Session not active")
        client = p.realm.clients[client_id]
        return p.token_response(
            user, client, sid, str(claims.get("scope", "")), None, int(claims.get("auth_time", claims["iat"]))
        )

    def client_credentials(form: dict[str, str], client_id: str) -> Response[Any]:
        client = p.realm.clients[client_id]
        if client.public or not client.service_accounts:
            return oauth_error("unauthorized_client", "Client not enabled to retrieve service account")
        scope = effective_scope(form.get("scope"), client)
        body = {
            "access_token": p.tokens.service_account_token(client, scope),
            "expires_in": ACCESS_TOKEN_SECONDS,
            "refresh_expires_in": 0,
            "token_type": "Bearer",
            "not-before-policy": 0,
            "scope": scope,
        }
        return Response(body, headers=NO_STORE)

    grants = {
        "authorization_code": authorization_code,
        "password": password,
        "refresh_token": refresh,
        "client_credentials": client_credentials,
    }

    @post("/protocol/openid-connect/token", status_code=200)
    async def token(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await _form(request)
        grant = grants.get(form.get("grant_type", ""))
        if grant is None:
            return oauth_error("unsupported_grant_type", "Unsupported grant_type")
        try:
            client = p.authenticate_client(request, form)
        except ClientAuthError as exc:
            return oauth_error(exc.error, exc.description, exc.status)
        return grant(form, client.client_id)

    @post("/protocol/openid-connect/token/introspect", status_code=200)
    async def introspect(request: Request[Any, Any, Any]) -> Response[Any]:
        form = await _form(request)
        try:
            client = p.authenticate_client(request, form)
        except ClientAuthError as exc:
            return oauth_error(exc.error, exc.description, exc.status)
        if client.public:
            return oauth_error("invalid_request", "Client not allowed.", 403)
        token_value = form.get("token", "")
        for verify in (p.tokens.verify_access_token, p.tokens.verify_refresh_token):
            try:
                claims = verify(token_value)
            except TokenError:
                continue
            if claims.get("sid") and p.ended.is_ended(str(claims["sid"])):
                break
            extra = {
                "client_id": claims.get("azp"),
                "username": claims.get("preferred_username"),
                "token_type": claims.get("typ"),
                "active": True,
            }
            return Response({**claims, **extra}, headers=NO_STORE)
        return Response({"active": False}, headers=NO_STORE)

    @post("/protocol/openid-connect/logout", status_code=200)  # real status set per reply
    async def logout_backchannel(request: Request[Any, Any, Any]) -> Response[Any]:
        # python-keycloak's logout(): client credentials + refresh_token, expects 204.
        form = await _form(request)
        if "refresh_token" not in form and "id_token_hint" in form:
            return browser_logout(p, request, form)  # RP-initiated logout may use a form POST
        try:
            client = p.authenticate_client(request, form)
        except ClientAuthError as exc:
            return oauth_error(exc.error, exc.description, exc.status)
        try:
            claims = p.tokens.verify_refresh_token(form.get("refresh_token", ""))
        except TokenError:
            return oauth_error("invalid_grant", "Invalid refresh token")
        if claims.get("azp") != client.client_id:
            return oauth_error("invalid_grant", "Invalid refresh token")
        # Ending the session kills every refresh token and the SSO cookie that carry its sid.
        p.ended.end(str(claims.get("sid")))
        return Response(None, status_code=204, headers=NO_STORE)

    return [token, introspect, logout_backchannel]
