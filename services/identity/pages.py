"""The signed-in home page (工作台): the person's sections and latest notifications."""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import Provide
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import repository as identity_repository
from shared import notifications
from shared.web.guards import provide_db_session
from shared.web.pages import page_context


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
