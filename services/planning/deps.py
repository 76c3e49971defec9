"""Request dependencies shared by the planning API and pages."""

from __future__ import annotations

from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity.auth import active_department, current_principal
from services.planning.service import (
    WRITERS,  # noqa: F401
    Ctx,
)
from shared.errors import Forbidden


async def provide_ctx(request: Request[Any, Any, Any], db: AsyncSession) -> Ctx:
    principal = current_principal(request)
    department = await active_department(principal, request.app.state.departments)
    if department is None:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")
    return Ctx(session=db, principal=principal, department=department)
