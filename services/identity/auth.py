"""Request authentication: who is asking (guards and the request's scope are in ``shared.web.guards``).

* ``/api/…`` is authenticated by Bearer access tokens only (no cookies, so no CSRF surface);
* pages are authenticated by the server-side session set at login (cookie ``HttpOnly``, ``SameSite=Lax``).

The tenant scope comes from the principal alone: the ``X-Department`` header (API) or the session's active
department (pages) only *selects* among the departments the token proves membership of.
"""

from __future__ import annotations

import secrets
from typing import Any

import msgspec
from litestar.connection import ASGIConnection
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult

from services.identity.principal import principal_from_claims
from services.identity.tokens import TokenVerifier
from shared.context import Principal
from shared.errors import Forbidden, Unauthenticated

SESSION_PRINCIPAL = "principal"
SESSION_BINDING = "binding"
BINDING_COOKIE = "spotcheck_bind"
DEPARTMENT_HEADER = "x-department"


class AuthMiddleware(AbstractAuthenticationMiddleware):
    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        path = connection.scope["path"]
        if path.startswith("/api/"):
            return await _authenticate_bearer(connection)
        return _authenticate_session(connection)


async def _authenticate_bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
    header = connection.headers.get("authorization", "")
    if not header:
        return AuthenticationResult(user=None, auth=None)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Authorization 头应为 Bearer 令牌")
    state = connection.app.state
    verifier: TokenVerifier = state.token_verifier
    claims = await verifier.verify(token.strip())
    principal = principal_from_claims(claims, state.region_code)
    wanted = connection.headers.get(DEPARTMENT_HEADER)
    principal = principal.with_active(_choose_department(principal, wanted))
    return AuthenticationResult(user=principal, auth=claims)


def _authenticate_session(connection: ASGIConnection[Any, Any, Any, Any]) -> AuthenticationResult:
    session = connection.scope.get("session") or {}
    if not isinstance(session, dict):
        return AuthenticationResult(user=None, auth=None)
    raw = session.get(SESSION_PRINCIPAL)
    if not raw:
        return AuthenticationResult(user=None, auth=None)
    binding = connection.cookies.get(BINDING_COOKIE, "")
    if not binding or not secrets.compare_digest(binding, str(session.get(SESSION_BINDING, ""))):
        return AuthenticationResult(user=None, auth=None)
    principal = msgspec.convert(raw, Principal)
    return AuthenticationResult(user=principal, auth=None)


def _choose_department(principal: Principal, wanted: str | None) -> str | None:
    if wanted:
        if wanted not in principal.departments:
            raise Forbidden(f"您不属于部门 {wanted}", field="X-Department")
        return wanted
    if len(principal.departments) == 1:
        return principal.departments[0]
    return None
