"""Route guards and request dependencies: the principal, the active department, the request's transaction.

The tenant scope comes from the principal alone: the ``X-Department`` header (API) or the session's active
department (pages) only *selects* among the departments the token proves membership of.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from typing import Any, Protocol

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from sqlalchemy.ext.asyncio import AsyncSession

from shared.context import WRITE_ROLES, Ctx, Department, Principal
from shared.errors import Forbidden, Unauthenticated
from shared.runtime import Runtime
from shared.tenancy import TenantScope, department_scope, empty_scope, overseer_scope

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


class DepartmentLookup(Protocol):
    """What the guards need of the department directory (``app.state.departments``)."""

    async def get(self, code: str) -> Department | None: ...


def current_principal(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    user = connection.scope.get("user")
    if not isinstance(user, Principal):
        raise Unauthenticated("需要登录")
    return user


def requires_login(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    current_principal(connection)


def requires_roles(*roles: str) -> Guard:
    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = current_principal(connection)
        if not principal.has_any_role(*roles):
            raise Forbidden("您的角色无权执行此操作")

    return guard


def requires_department(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    principal = current_principal(connection)
    if principal.active_department is None:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")


async def active_department(principal: Principal, directory: DepartmentLookup) -> Department | None:
    if principal.active_department is None:
        return None
    department = await directory.get(principal.active_department)
    if department is None or not department.active or department.region_code != principal.region_code:
        raise Forbidden(f"部门 {principal.active_department} 不存在或不属于本县")
    return department


async def scope_for_principal(principal: Principal | None, directory: DepartmentLookup) -> TenantScope:
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


async def provide_ctx(request: Request[Any, Any, Any], db: AsyncSession) -> Ctx:
    """The acting department's context; refused when the person has not chosen a department."""
    principal = current_principal(request)
    department = await active_department(principal, request.app.state.departments)
    if department is None:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")
    return Ctx(session=db, principal=principal, department=department)
