"""SQL of the tag vocabulary: the words a department allows in its registries' tag columns, and their renames."""

from __future__ import annotations

import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.repository import Params, convert
from services.registry.schemas import TagOut


async def list_tags(session: AsyncSession, category: str | None, active: bool | None) -> list[TagOut]:
    where: list[str] = []
    params: Params = {}
    if category:
        where.append("t.category = :c")
        params["c"] = category
    if active is not None:
        where.append("t.active = :a")
        params["a"] = active
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    rows = await session.execute(
        text(
            "SELECT t.id, t.category, t.name, t.description, t.active, d.code AS department_code FROM tags t "
            f"JOIN departments d ON d.id = t.tenant_id{clause} ORDER BY d.code, t.category, t.name"
        ),
        params,
    )
    return [convert(r._mapping, TagOut) for r in rows]


async def get_tag(session: AsyncSession, tag_id: uuid.UUID) -> TagOut | None:
    row = (
        await session.execute(
            text(
                "SELECT t.id, t.category, t.name, t.description, t.active, d.code AS department_code FROM tags t "
                "JOIN departments d ON d.id = t.tenant_id WHERE t.id = :id"
            ),
            {"id": tag_id},
        )
    ).first()
    return convert(row._mapping, TagOut) if row else None


async def vocabulary(session: AsyncSession) -> dict[str, set[str]]:
    rows = await session.execute(
        text("SELECT category, name FROM tags WHERE tenant_id = app_tenant() AND active")
    )
    result: dict[str, set[str]] = {}
    for category, name in rows:
        result.setdefault(category, set()).add(name)
    return result


async def rename_tag_usage(session: AsyncSession, category: str, old: str, new: str) -> None:
    """A renamed tag keeps its meaning on every row that carries it."""
    targets = {
        "行业": [("registry_objects", "industry", False)],
        "分类标注": [("registry_objects", "tags", True)],
        "专业特长": [("inspectors", "specialties", True), ("inspection_items", "specialties", True)],
        "资质": [("inspectors", "qualifications", True)],
    }[category]
    for table, column, is_array in targets:
        if is_array:
            sql = (
                f"UPDATE {table} SET {column} = array_replace({column}, :old, :new), updated_at = now() "
                f"WHERE tenant_id = app_tenant() AND {column} @> ARRAY[CAST(:old AS text)]"
            )
        else:
            sql = f"UPDATE {table} SET {column} = :new, updated_at = now() WHERE tenant_id = app_tenant() AND {column} = :old"
        await session.execute(text(sql), {"old": old, "new": new})


async def vocabulary_all(session: AsyncSession) -> dict[str, set[str]]:
    """Including deactivated tags: a name stays taken in its category."""
    rows = await session.execute(text("SELECT category, name FROM tags WHERE tenant_id = app_tenant()"))
    result: dict[str, set[str]] = {}
    for category, name in rows:
        result.setdefault(category, set()).add(name)
    return result
