"""Identity API: who am I, which departments and sections can I see."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Request, Router, get
from litestar.di import Provide
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import repository
from shared.context import ROLE_LABELS
from shared.web.guards import current_principal, provide_db_session, requires_login


class DepartmentOut(msgspec.Struct):
    code: str
    name: str
    region_code: str


class MeOut(msgspec.Struct):
    user_id: uuid.UUID
    username: str
    name: str
    region_code: str
    roles: list[str]
    role_labels: list[str]
    departments: list[DepartmentOut]
    active_department: str | None
    sections: list[str]


class SectionOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    name: str
    active: bool
    department_code: str


@get("/me", guards=[requires_login])
async def me(request: Request[Any, Any, Any]) -> MeOut:
    principal = current_principal(request)
    directory = request.app.state.departments
    departments = []
    for code in principal.departments:
        department = await directory.get(code)
        if department is not None:
            departments.append(DepartmentOut(department.code, department.name, department.region_code))
    roles = sorted(principal.roles)
    return MeOut(
        user_id=principal.user_id,
        username=principal.username,
        name=principal.name,
        region_code=principal.region_code,
        roles=roles,
        role_labels=[ROLE_LABELS[r] for r in roles],
        departments=departments,
        active_department=principal.active_department,
        sections=list(principal.sections_in(principal.active_department))
        if principal.active_department
        else [],
    )


@get("/departments", guards=[requires_login])
async def departments(request: Request[Any, Any, Any]) -> list[DepartmentOut]:
    principal = current_principal(request)
    rows = await request.app.state.departments.in_region(principal.region_code)
    return [DepartmentOut(d.code, d.name, d.region_code) for d in rows if d.active]


@get("/sections", guards=[requires_login])
async def sections(db: AsyncSession) -> list[SectionOut]:
    return [SectionOut(**row) for row in await repository.list_sections(db)]


router = Router(
    path="/api",
    route_handlers=[me, departments, sections],
    dependencies={"db": Provide(provide_db_session)},
    tags=["identity"],
)
