"""The shell every page extends: what the base layout needs to know about the signed-in person.

The navigation is built here from the person's roles: a link is shown only to the roles that can use the page
behind it (an inspector does not see 标签字库, 报表 or 监管看板; the county overseer sees the dashboard).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request

from shared.context import ROLE_LABELS, Principal

ADMIN, PLANNER, INSPECTOR, REVIEWER, OVERSEER = (
    "dept-admin",
    "planner",
    "inspector",
    "reviewer",
    "county-overseer",
)
DEPARTMENT_STAFF = (ADMIN, PLANNER, INSPECTOR, REVIEWER)


class NavLink(msgspec.Struct, frozen=True):
    href: str
    label: str
    id: str
    roles: tuple[str, ...]  # who sees it
    prefixes: tuple[str, ...] = ()  # paths under which it is the current page
    needs_department: bool = True  # shown only with an active department


NAV: tuple[NavLink, ...] = (
    NavLink("/", "工作台", "nav-home", (*DEPARTMENT_STAFF, OVERSEER), needs_department=False),
    NavLink("/my/assignments", "我的检查任务", "nav-assignments", (INSPECTOR,), ("/my/assignments",)),
    NavLink("/review", "待审核", "nav-review", (REVIEWER,), ("/review",)),
    NavLink("/plans", "抽查计划", "nav-plans", (PLANNER, ADMIN, REVIEWER), ("/plans", "/tasks")),
    NavLink("/federation", "部门联合抽查", "nav-federation", (PLANNER, ADMIN), ("/federation",)),
    NavLink("/results", "检查结果", "nav-results", DEPARTMENT_STAFF, ("/results",)),
    # The overseer reads every department's registries (read only), without an active department.
    NavLink(
        "/registry/objects",
        "检查对象名录",
        "nav-objects",
        (PLANNER, ADMIN, REVIEWER, OVERSEER),
        ("/registry/objects",),
        False,
    ),
    NavLink(
        "/registry/inspectors",
        "执法人员名录",
        "nav-inspectors",
        (PLANNER, ADMIN, OVERSEER),
        ("/registry/inspectors",),
        False,
    ),
    NavLink(
        "/registry/items",
        "抽查事项清单",
        "nav-items",
        (*DEPARTMENT_STAFF, OVERSEER),
        ("/registry/items",),
        False,
    ),
    NavLink("/registry/tags", "标签字库", "nav-tags", (PLANNER, ADMIN), ("/registry/tags",)),
    NavLink("/reports", "报表", "nav-reports", (PLANNER, ADMIN), ("/reports",)),
    NavLink("/oversight", "监管看板", "nav-oversight", (PLANNER, ADMIN, OVERSEER), ("/oversight",), False),
    NavLink("/public/draws", "抽取公示", "nav-public-draws", (*DEPARTMENT_STAFF, OVERSEER), (), False),
    NavLink("/public", "公示查询", "nav-public", (*DEPARTMENT_STAFF, OVERSEER), (), False),
)


def navigation(user: Principal, path: str, has_department: bool) -> list[dict[str, Any]]:
    """The links this person may use, the current one marked (the longest matching prefix wins)."""
    shown = [
        link
        for link in NAV
        if user.has_any_role(*link.roles)
        # Department pages need an active department (the overseer has none: it reads the whole county).
        and (has_department or not link.needs_department)
    ]
    current = max(
        (link for link in shown for p in (link.prefixes or (link.href,)) if _under(path, p)),
        key=lambda link: max(len(p) for p in (link.prefixes or (link.href,)) if _under(path, p)),
        default=None,
    )
    return [
        {"href": link.href, "label": link.label, "id": link.id, "current": link is current} for link in shown
    ]


def _under(path: str, prefix: str) -> bool:
    if prefix == "/":
        return path == "/"
    return path == prefix or path.startswith(prefix.rstrip("/") + "/") or path.startswith(prefix + "?")


async def page_context(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """What the base layout needs: the user, their departments (for the switcher), role labels, the navigation."""
    user = request.scope.get("user")
    if not isinstance(user, Principal):
        return {"user": None}
    directory = request.app.state.departments
    departments = [d for code in user.departments if (d := await directory.get(code)) is not None]
    active = next((d for d in departments if d.code == user.active_department), None)
    path = request.url.path
    return {
        "user": user,
        "departments": departments,
        "active_department": active,
        "role_labels": [ROLE_LABELS[r] for r in sorted(user.roles)],
        "path": path,
        "nav": navigation(user, path, active is not None),
    }
