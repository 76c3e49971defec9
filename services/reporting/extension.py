"""Blocks that services above reporting add to the oversight dashboard, without reporting importing them.

A service registers an async function of the request, its session and the dashboard's year that answers the
template to include and that template's context (``block``); the dashboard renders each one in order. The enterprise
service (issue 19) registers its findings-by-risk-class block this way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from litestar import Request
from sqlalchemy.ext.asyncio import AsyncSession

OversightBlock = Callable[[Request[Any, Any, Any], AsyncSession, int], Awaitable[tuple[str, dict[str, Any]]]]

_blocks: list[OversightBlock] = []


def register_oversight_block(block: OversightBlock) -> None:
    if block not in _blocks:
        _blocks.append(block)


async def oversight_blocks(
    request: Request[Any, Any, Any], session: AsyncSession, year: int
) -> list[tuple[str, dict[str, Any]]]:
    return [await block(request, session, year) for block in _blocks]
