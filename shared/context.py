"""Who acts, for which department, in which transaction: the request context every service takes.

These types live in the shared library (not in ``services.identity``) so that every service can take a ``Ctx``
without depending on the service that authenticates people; identity builds a ``Principal`` from a verified token
and reads ``Department`` rows, and nothing else mints them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from shared import audit
from shared.errors import Forbidden

ROLES = ("dept-admin", "planner", "inspector", "reviewer", "county-overseer")
ROLE_LABELS = {
    "dept-admin": "部门管理员",
    "planner": "计划制定",
    "inspector": "执法检查",
    "reviewer": "审核",
    "county-overseer": "县级监督",
}
# Roles whose requests run in a writable transaction (the overseer's and role-less requests are read-only).
WRITE_ROLES = frozenset({"dept-admin", "planner", "inspector", "reviewer"})
# Roles that may change plans, tasks and the registry of their department.
WRITERS = ("planner", "dept-admin")


class Principal(msgspec.Struct, frozen=True):
    """The authenticated person, built from a verified access token only (``services.identity``)."""

    user_id: uuid.UUID
    username: str
    name: str
    region_code: str
    departments: tuple[str, ...]  # department codes = Keycloak organization aliases
    groups: tuple[str, ...]  # full group paths, "/<department code>/<section code>"
    roles: frozenset[str]
    active_department: str | None = None

    @property
    def is_overseer(self) -> bool:
        return "county-overseer" in self.roles

    def has_any_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    def sections_in(self, department_code: str) -> tuple[str, ...]:
        prefix = f"/{department_code}/"
        return tuple(
            g[len(prefix) :] for g in self.groups if g.startswith(prefix) and "/" not in g[len(prefix) :]
        )

    def with_active(self, department_code: str | None) -> Principal:
        return msgspec.structs.replace(self, active_department=department_code)


class Department(msgspec.Struct, frozen=True):
    """A tenant: one county department (rows owned by ``services.identity``)."""

    id: uuid.UUID
    code: str
    region_code: str
    name: str
    short_name: str
    active: bool


@dataclass(frozen=True)
class Ctx:
    """One request (or job) acting for one department inside one transaction whose tenant scope is set."""

    session: AsyncSession
    principal: Principal
    department: Department

    @property
    def tenant_id(self) -> uuid.UUID:
        return self.department.id

    @property
    def actor(self) -> audit.Actor:
        return audit.Actor(id=str(self.principal.user_id), name=self.principal.name)

    def require_writer(self) -> None:
        if not self.principal.has_any_role(*WRITERS):
            raise Forbidden("只有计划制定人员或部门管理员可以执行此操作")
