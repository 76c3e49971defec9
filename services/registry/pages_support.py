"""What every registry page uses: the page context, rendering, paging, role checks, reading a posted form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository_tags as tags_repo
from services.registry import values as v
from services.registry.columns import KIND_LABELS
from services.registry.web import READ_ROLES
from shared.errors import Forbidden
from shared.web.guards import current_principal
from shared.web.pages import page_context

PAGE_SIZE = 20
# A Jinja template context: whatever the registry templates read, by name.
Context = dict[str, Any]
# A page's form as posted: one text per field, a list for the multi-valued ones (tags, specialties …).
Form = dict[str, str | list[str]]


async def registry_context(request: Request[Any, Any, Any], db: AsyncSession, **extra: Any) -> Context:
    """The Jinja context of a registry page: the shell's, the vocabulary and labels, and ``extra``."""
    context = await page_context(request)
    user = context["user"]
    context.update(
        can_write=user is not None and user.has_any_role("dept-admin") and user.active_department is not None,
        is_overseer=user is not None and user.is_overseer and user.active_department is None,
        vocab={k: sorted(s) for k, s in (await tags_repo.vocabulary(db)).items()},
        kind_labels=KIND_LABELS,
        values=v,
        **extra,
    )
    if context["is_overseer"]:
        context["county_departments"] = [
            d for d in await request.app.state.departments.in_region(user.region_code) if d.active
        ]
        # The overseer's lists name each row's department in full, never by its code.
        context["department_names"] = {d.code: d.name for d in context["county_departments"]}
    return context


def render(name: str, context: Context, status: int = 200) -> Template:
    return Template(f"registry/{name}", context=context, status_code=status)


class Paging(msgspec.Struct):
    page: int
    last: int
    total: int
    prev: str | None
    next: str | None
    query: str  # the list's filters, for the export links


def page_links(request: Request[Any, Any, Any], page: int, total: int) -> Paging:
    params = {k: val for k, val in request.query_params.items() if k != "page" and val}
    last = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)

    def link(n: int) -> str:
        return request.url.path + "?" + urlencode({**params, "page": n})

    return Paging(
        page=page,
        last=last,
        total=total,
        prev=link(page - 1) if page > 1 else None,
        next=link(page + 1) if page < last else None,
        query=urlencode(params),
    )


def page_number(raw: str | None) -> int:
    try:
        return max(1, int(raw or 1))
    except ValueError:
        return 1


def active_param(raw: str | None) -> bool | None:
    return {"true": True, "false": False, "all": None}.get(raw or "true", True)


def require_write(request: Request[Any, Any, Any]) -> None:
    principal = current_principal(request)
    if not principal.has_any_role("dept-admin") or principal.active_department is None:
        raise Forbidden("只有部门管理员可以维护名录库")


def require_read(request: Request[Any, Any, Any]) -> None:
    principal = current_principal(request)
    if not principal.has_any_role(*READ_ROLES):
        raise Forbidden("您的角色无权查看名录库")
    if principal.active_department is None and not principal.is_overseer:
        raise Forbidden("请先在页面右上角选择部门")


async def read_form(request: Request[Any, Any, Any]) -> Form:
    form = await request.form()
    data: Form = {}
    for key in form:
        values: list[str] = form.getall(key)
        data[key] = (
            values
            if len(values) > 1 or key in ("tags", "specialties", "qualifications", "check_methods")
            else values[0]
        )
    return data
