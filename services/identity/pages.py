"""The signed-in home page (工作台): what this person has to do, by role, then their details and notifications.

The panels come from the services that own the work (``shared.web.todos``); the county overseer, who
has no department, lands on the county dashboard instead of an empty page.
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Router, get
from litestar.di import Provide
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.identity import repository as identity_repository
from shared import notifications
from shared.context import Ctx
from shared.web import todos
from shared.web.guards import provide_db_session
from shared.web.pages import page_context

# What each role is for, in one line (the home page's greeting).
ROLE_INTRO = {
    "planner": "制定抽查计划，按“公告 → 抽取 → 匹配”组织随机抽取。",
    "dept-admin": "维护一单两库（检查对象、执法人员、抽查事项），管理批量导入。",
    "reviewer": "审核检查结果，审核通过后向社会公示。",
    "inspector": "到企业现场检查，录入检查结果（谁检查、谁录入）。",
}


@get("/")
async def home(request: Request[Any, Any, Any], db: AsyncSession) -> Template | Redirect:
    context = await page_context(request)
    user = context["user"]
    department = context.get("active_department")
    if user is not None and department is None and user.is_overseer:
        return Redirect("/oversight")  # the overseer's home is the county dashboard
    if user is not None and department is not None and user.roles and user.roles <= {"inspector"}:
        return Redirect("/field")  # an inspector's home is the field app: my enterprises, most urgent first
    if user is not None and department is not None:
        ctx = Ctx(session=db, principal=user, department=department)
        context["panels"] = await todos.panels(ctx)
        context["notifications"] = await notifications.for_user(db, user.user_id, limit=10)
        sections = await identity_repository.list_sections(db)
        names = {s["code"]: s["name"] for s in sections}
        codes = user.sections_in(department.code)
        context["section_names"] = [names.get(code, code) for code in codes]
        context["intro"] = [ROLE_INTRO[r] for r in ROLE_INTRO if r in user.roles]
        if user.has_any_role("dept-admin"):
            context["all_sections"] = [s["name"] for s in sections]
    return Template("home.html", context=context)


router = Router(path="/", route_handlers=[home], dependencies={"db": Provide(provide_db_session)})
