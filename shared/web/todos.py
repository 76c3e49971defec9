"""The 工作台's to-dos, contributed by the services that own the work without the home page importing them.

Identity owns the home page but sits at the base of the layers (beside registry, which it may not import); what a
person has to do lives in planning (plans, draws to run), federation (invitations to answer), inspection (results
to review, tasks to enter) and registry (its health, imports). The registry of panels is part of the page shell. Each registers a ``TodoSource`` for the roles it serves when its package is imported (every
composition root imports them all); the home page asks ``panels(ctx)`` for the ones the person's roles may see.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec

from shared.context import Ctx


class TodoItem(msgspec.Struct, frozen=True):
    label: str
    href: str | None = None
    note: str = ""  # a second line: numbers, dates
    badge: str = ""  # a short state (待确认, 待抽取 …)
    urgent: bool = False  # overdue or due within days


class Stat(msgspec.Struct, frozen=True):
    label: str
    value: int
    href: str | None = None


class TodoPanel(msgspec.Struct, frozen=True):
    id: str  # the element id on the page (todo-…)
    title: str
    items: list[TodoItem] = []
    stats: list[Stat] = []
    empty: str = "暂无待办。"
    more_href: str | None = None
    more_label: str = "查看全部"


TodoSource = Callable[[Ctx], Awaitable[TodoPanel | None]]


class _Registered(msgspec.Struct, frozen=True):
    order: int
    roles: tuple[str, ...]
    source: TodoSource


_sources: list[_Registered] = []


def register(order: int, roles: tuple[str, ...], source: TodoSource) -> None:
    """Add a panel for people with any of ``roles``; panels show in ``order``. Registering twice is harmless."""
    if any(r.source is source for r in _sources):
        return
    _sources.append(_Registered(order, roles, source))
    _sources.sort(key=lambda r: r.order)


async def panels(ctx: Ctx) -> list[TodoPanel]:
    shown = []
    for registered in _sources:
        if ctx.principal.has_any_role(*registered.roles):
            panel = await registered.source(ctx)
            if panel is not None:
                shown.append(panel)
    return shown
