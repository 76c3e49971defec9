"""The tenant scope of a unit of work, and the only way to set it on a database transaction.

Row-level security reads two transaction-local settings:

* ``app.tenant_id``  – the active department (read and write on its own rows);
* ``app.overseer_region`` – a county overseer's read-only view over the departments of one region.

A scope is minted only from an authenticated principal (``scope_for_principal``) or by trusted server code for a
known department (``system_scope``: jobs and operator commands). Request parameters never reach it. With no scope
set, RLS policies match nothing, so a forgotten scope fails closed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

_MINT = object()


@dataclass(frozen=True, slots=True)
class TenantScope:
    department_id: uuid.UUID | None
    overseer_region: str | None
    read_only: bool
    _token: object = field(default=None, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self._token is not _MINT:
            raise TypeError("TenantScope is minted by shared.tenancy only")
        if self.overseer_region is not None and not self.read_only:
            raise ValueError("an overseer scope is always read-only")

    @property
    def is_empty(self) -> bool:
        return self.department_id is None and self.overseer_region is None


def department_scope(department_id: uuid.UUID, *, read_only: bool = False) -> TenantScope:
    return TenantScope(department_id, None, read_only, _MINT)


def overseer_scope(region_code: str) -> TenantScope:
    return TenantScope(None, region_code, True, _MINT)


def empty_scope() -> TenantScope:
    """Anonymous/public work: tenant tables are invisible."""
    return TenantScope(None, None, True, _MINT)


def anonymous_scope() -> TenantScope:
    """Anonymous writes to public tables only (an enterprise's evaluation of a visit): no department, no overseer,
    not read-only. Tenant tables stay invisible and unwritable by RLS; a policy may admit exactly this scope."""
    return TenantScope(None, None, False, _MINT)


def system_scope(department_id: uuid.UUID) -> TenantScope:
    """For jobs and operator commands that act for one department (they carry its id and reload data)."""
    return department_scope(department_id)


async def apply_scope(session: AsyncSession, scope: TenantScope) -> None:
    """Set the scope for the current transaction only (``set_config(..., is_local => true)``)."""
    if scope.read_only:
        # Must be the first statement of the transaction; a second wall behind the RLS policies.
        await session.execute(text("SET TRANSACTION READ ONLY"))
    await session.execute(
        text("SELECT set_config('app.tenant_id', :t, true), set_config('app.overseer_region', :r, true)"),
        {"t": str(scope.department_id) if scope.department_id else "", "r": scope.overseer_region or ""},
    )


@asynccontextmanager
async def acting_for(session: AsyncSession, department_id: uuid.UUID) -> AsyncIterator[None]:
    """Within the current transaction, act for another department for a moment (its rows only), then switch back.

    Only federation code uses this, after checking that the department accepted to take part in the joint plan:
    a joint task reads each participant's own inspectors and writes each participant's own team rows.
    """
    previous = (await session.execute(text("SELECT current_setting('app.tenant_id', true)"))).scalar_one()
    await session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(department_id)})
    try:
        yield
    finally:
        await session.execute(text("SELECT set_config('app.tenant_id', :t, true)"), {"t": previous or ""})
