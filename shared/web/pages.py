"""The signed-in home page and the shell every page extends."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import Provide
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import repository as identity_repository
from services.identity.auth import provide_db_session
from services.identity.principal import ROLE_LABELS, Principal
from shared import notifications


async def page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the base layout needs: the user, their departments (for the switcher) and role labels."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        return {"user": None}
    directory = request.app.state.departments
    departments = [d for code in user.departments if (d := await directory.get(code)) is not None]
    active = next((d for d in departments if d.code == user.active_department), None)
    return {
        "user": user,
        "departments": departments,
        "active_department": active,
        "role_labels": [ROLE_LABELS[r] for r in sorted(user.roles)],
        "path": request.url.path,
    }


@get("/")
async def home(request: Request[Any, Any, Any], db: AsyncSession) -> Template:
    context = await page_context(request)
    user = context["user"]
    if user is not None and context.get("active_department") is not None:
        context["notifications"] = await notifications.for_user(db, user.user_id, limit=10)
        names = {s["code"]: s["name"] for s in await identity_repository.list_sections(db)}
        codes = user.sections_in(context["active_department"].code)
        context["section_names"] = [names.get(code, code) for code in codes]
    return Template("home.html", context=context)


router = Router(path="/", route_handlers=[home], dependencies={"db": Provide(provide_db_session)})
