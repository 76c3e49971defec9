"""Request authentication, role guards and the request's tenant scope.

* ``/api/…`` is authenticated by Bearer access tokens only (no cookies, so no CSRF surface);
* pages are authenticated by the server-side session set at login (cookie ``HttpOnly``, ``SameSite=Lax``).

The tenant scope comes from the principal alone: the ``X-Department`` header (API) or the session's active
department (pages) only *selects* among the departments the token proves membership of.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncGenerator
from typing import Any

import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.departments import Department, DepartmentDirectory
from services.identity.principal import WRITE_ROLES, Principal, principal_from_claims
from services.identity.tokens import TokenVerifier
from shared.errors import Forbidden, Unauthenticated
from shared.runtime import Runtime
from shared.tenancy import TenantScope, department_scope, empty_scope, overseer_scope

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
    raw = session.get(SESSION_PRINCIPAL) if isinstance(session, dict) else None
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


# ---- guards ---------------------------------------------------------------------------------------------------


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise Unauthenticated("需要登录")
    return user


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    current_principal(connection)


def requires_roles(*roles: str) -> Any:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = current_principal(connection)
        if not principal.has_any_role(*roles):
            raise Forbidden("您的角色无权执行此操作")

    return guard


def requires_department(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = current_principal(connection)
    if principal.active_department is None:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")


# ---- scope and the request's unit of work ---------------------------------------------------------------------


async def active_department(principal: Principal, directory: DepartmentDirectory) -> Department | None:
    if principal.active_department is None:
        return None
    department = await directory.get(principal.active_department)
    if department is None or not department.active or department.region_code != principal.region_code:
        raise Forbidden(f"部门 {principal.active_department} 不存在或不属于本县")
    return department


async def scope_for_principal(principal: Principal | None, directory: DepartmentDirectory) -> TenantScope:
    if principal is None:
        return empty_scope()
    department = await active_department(principal, directory)
    if department is not None:
        return department_scope(department.id, read_only=not principal.has_any_role(*WRITE_ROLES))
    if principal.is_overseer:
        return overseer_scope(principal.region_code)
    return empty_scope()


async def provide_db_session(request: Request[Any, Any, Any]) -> AsyncGenerator[AsyncSession, None]:
    """The request's one transaction, committed once after the handler; deferred jobs flushed after commit."""
    runtime: Runtime = request.app.state.runtime
    user = request.scope.get("user")
    principal = user if isinstance(user, Principal) else None
    scope = await scope_for_principal(principal, request.app.state.departments)
    async with runtime.unit_of_work(scope) as session:
        yield session
