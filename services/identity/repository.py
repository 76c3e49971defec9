"""SQL for identity data that lives in tenant tables (sections)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


async def list_sections(session: AsyncSession) -> list[dict[str, Any]]:
    # No tenant filter here on purpose: RLS limits rows to the session's scope (department or overseer's county).
    rows = await session.execute(
        text(
            "SELECT s.id, s.code, s.name, s.active, d.code AS department_code FROM sections s "
            "JOIN departments d ON d.id = s.tenant_id ORDER BY d.code, s.code"
        )
    )
    return [dict(r._mapping) for r in rows]
