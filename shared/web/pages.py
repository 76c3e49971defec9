"""The shell every page extends: what the base layout needs to know about the signed-in person."""

from __future__ import annotations

from typing import Any

from litestar import Request

from shared.context import ROLE_LABELS, Principal


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
