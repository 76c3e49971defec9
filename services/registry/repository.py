"""SQL of the registries. Every statement runs under the request's RLS scope; inserts take ``app_tenant()``.

Rows leave as the schemas' Structs (converted here, once). Tags (the vocabulary), import batches and the export's
statements are in ``repository_tags``, ``repository_imports`` and ``repository_export``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from typing import Any, TypeVar, cast

import msgspec
from sqlalchemy import CursorResult, RowMapping, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.schemas import (
    CheckPointRef,
    ConflictOut,
    InspectorFilter,
    InspectorOut,
    ItemFilter,
    ItemOut,
    ObjectFilter,
    ObjectOut,
    RegistryHealth,
    SectionOut,
)

T = TypeVar("T", bound=msgspec.Struct)
# Column → value of a validated row, for the generic INSERT/UPDATE below (the names are the table's columns).
Columns = Mapping[str, object]
# Bind parameters of a statement built from filters.
Params = dict[str, object]

TABLES = {
    "objects": "registry_objects",
    "inspectors": "inspectors",
    "items": "inspection_items",
    "tags": "tags",
}

OBJECT_SELECT = (
    "SELECT o.id, o.uscc, o.name, o.address, o.region_code, o.industry, o.object_type, o.tags, o.major_hazard_level,"
    " o.direct_supervision, o.risk_class, o.status, o.licence_no, o.licence_expiry, o.last_checked_on, o.active,"
    " d.code AS department_code, o.updated_at FROM registry_objects o JOIN departments d ON d.id = o.tenant_id"
)
INSPECTOR_SELECT = (
    "SELECT i.id, i.name, i.licence_no, i.licence_expiry, coalesce(i.licence_expiry >= current_date, false)"
    " AS licence_valid, i.section_id, s.name AS section_name, i.specialties, i.qualifications, i.is_expert,"
    " i.is_team_leader, i.phone, i.active, d.code AS department_code FROM inspectors i"
    " JOIN departments d ON d.id = i.tenant_id LEFT JOIN sections s ON s.id = i.section_id"
)
ITEM_SELECT = (
    "SELECT t.id, t.code, t.name, t.category, t.item_type, t.object_type,"
    " ARRAY(SELECT p.content FROM check_points p WHERE p.item_id = t.id ORDER BY p.seq) AS check_points,"
    " t.check_methods, t.legal_basis, t.subject, t.ratio_frequency, t.specialties, t.active,"
    " d.code AS department_code FROM inspection_items t JOIN departments d ON d.id = t.tenant_id"
)


async def scope_tenant(session: AsyncSession) -> uuid.UUID | None:
    tenant: uuid.UUID | None = (await session.execute(text("SELECT app_tenant()"))).scalar_one()
    return tenant


def convert(row: RowMapping, out: type[T]) -> T:
    """A result row as its schema (the one place rows become Structs)."""
    return msgspec.convert(row, out)


def _like(value: str) -> str:
    return "%" + value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def _page(
    session: AsyncSession,
    select: str,
    where: list[str],
    params: Params,
    order: str,
    page: int,
    size: int,
    out: type[T],
) -> tuple[list[T], int]:
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    total: int = (
        await session.execute(text(f"SELECT count(*) FROM ({select}{clause}) c"), params)
    ).scalar_one()
    rows = await session.execute(
        text(f"{select}{clause} ORDER BY {order} LIMIT :limit OFFSET :offset"),
        {**params, "limit": size, "offset": (page - 1) * size},
    )
    return [convert(r._mapping, out) for r in rows], total


# ---- objects ----------------------------------------------------------------------------------------------------
def object_filters(f: ObjectFilter) -> tuple[list[str], Params]:
    where: list[str] = []
    params: Params = {}
    if f.q:
        where.append("(o.name ILIKE :q OR o.uscc LIKE :qu OR o.address ILIKE :q)")
        params["q"], params["qu"] = _like(f.q), f.q.upper() + "%"
    for key, column, value in (
        ("uscc", "o.uscc", f.uscc),
        ("industry", "o.industry", f.industry),
        ("risk_class", "o.risk_class", f.risk_class),
        ("status", "o.status", f.status),
        ("department", "d.code", f.department),
    ):
        if value:
            where.append(f"{column} = :{key}")
            params[key] = value
    if f.tag:
        where.append("o.tags @> ARRAY[CAST(:tag AS text)]")
        params["tag"] = f.tag
    if f.active is not None:
        where.append("o.active = :active")
        params["active"] = f.active
    return where, params


async def list_objects(
    session: AsyncSession, f: ObjectFilter, page: int, size: int
) -> tuple[list[ObjectOut], int]:
    where, params = object_filters(f)
    return await _page(session, OBJECT_SELECT, where, params, "o.name, o.id", page, size, ObjectOut)


async def get_object(session: AsyncSession, object_id: uuid.UUID) -> ObjectOut | None:
    row = (await session.execute(text(OBJECT_SELECT + " WHERE o.id = :id"), {"id": object_id})).first()
    return convert(row._mapping, ObjectOut) if row else None


# ---- generic writes ---------------------------------------------------------------------------------------------
async def insert(session: AsyncSession, table: str, values: Columns) -> uuid.UUID:
    new_id = uuid.uuid4()
    columns = ", ".join(values)
    params = ", ".join(f":{k}" for k in values)
    await session.execute(
        text(f"INSERT INTO {table} (id, tenant_id, {columns}) VALUES (:id, app_tenant(), {params})"),
        {"id": new_id, **values},
    )
    return new_id


async def update(session: AsyncSession, table: str, row_id: uuid.UUID, values: Columns) -> bool:
    if not values:
        return await exists(session, table, row_id)
    sets = ", ".join(f"{k} = :{k}" for k in values)
    stamp = ", updated_at = now()" if table != "tags" else ""
    result = await session.execute(
        text(f"UPDATE {table} SET {sets}{stamp} WHERE id = :id AND tenant_id = app_tenant()"),
        {"id": row_id, **values},
    )
    return bool(cast("CursorResult[Any]", result).rowcount)  # DML: execute() returns a CursorResult


async def exists(session: AsyncSession, table: str, row_id: uuid.UUID) -> bool:
    return bool(
        (
            await session.execute(
                text(f"SELECT 1 FROM {table} WHERE id = :id AND tenant_id = app_tenant()"), {"id": row_id}
            )
        ).first()
    )


async def key_taken(
    session: AsyncSession, table: str, column: str, value: str, except_id: uuid.UUID | None
) -> bool:
    return bool(
        (
            await session.execute(
                text(
                    f"SELECT 1 FROM {table} WHERE tenant_id = app_tenant() AND {column} = :v AND id IS DISTINCT FROM :x"
                ),
                {"v": value, "x": except_id},
            )
        ).first()
    )


# ---- inspectors -------------------------------------------------------------------------------------------------
def inspector_filters(f: InspectorFilter) -> tuple[list[str], Params]:
    where: list[str] = []
    params: Params = {}
    if f.q:
        where.append("(i.name ILIKE :q OR i.licence_no ILIKE :q)")
        params["q"] = _like(f.q)
    if f.section:
        where.append("(s.code = :section OR s.name = :section)")
        params["section"] = f.section
    for key, column, value in (
        ("specialty", "i.specialties", f.specialty),
        ("qualification", "i.qualifications", f.qualification),
    ):
        if value:
            where.append(f"{column} @> ARRAY[CAST(:{key} AS text)]")
            params[key] = value
    for key, flag in (("is_expert", f.is_expert), ("is_team_leader", f.is_team_leader), ("active", f.active)):
        if flag is not None:
            where.append(f"i.{key} = :{key}")
            params[key] = flag
    if f.licence == "expired":
        where.append("i.licence_expiry < current_date")
    elif f.licence == "expiring":
        where.append("i.licence_expiry BETWEEN current_date AND current_date + 90")
    elif f.licence == "valid":
        where.append("i.licence_expiry >= current_date")
    if f.department:
        where.append("d.code = :department")
        params["department"] = f.department
    return where, params


async def list_inspectors(
    session: AsyncSession, f: InspectorFilter, page: int, size: int
) -> tuple[list[InspectorOut], int]:
    where, params = inspector_filters(f)
    return await _page(session, INSPECTOR_SELECT, where, params, "i.name, i.id", page, size, InspectorOut)


async def get_inspector(session: AsyncSession, inspector_id: uuid.UUID) -> InspectorOut | None:
    row = (await session.execute(text(INSPECTOR_SELECT + " WHERE i.id = :id"), {"id": inspector_id})).first()
    return convert(row._mapping, InspectorOut) if row else None


async def conflicts(session: AsyncSession, inspector_id: uuid.UUID) -> list[ConflictOut]:
    rows = await session.execute(
        text(
            "SELECT c.uscc, c.reason, c.declared_on, o.name AS enterprise_name FROM inspector_conflicts c "
            "LEFT JOIN registry_objects o ON o.tenant_id = c.tenant_id AND o.uscc = c.uscc "
            "WHERE c.inspector_id = :i ORDER BY c.uscc"
        ),
        {"i": inspector_id},
    )
    return [convert(r._mapping, ConflictOut) for r in rows]


async def add_conflict(session: AsyncSession, inspector_id: uuid.UUID, uscc: str, reason: str) -> bool:
    result = await session.execute(
        text(
            "INSERT INTO inspector_conflicts (id, tenant_id, inspector_id, uscc, reason) "
            "VALUES (:id, app_tenant(), :i, :u, :r) ON CONFLICT (inspector_id, uscc) DO UPDATE SET reason = :r"
        ),
        {"id": uuid.uuid4(), "i": inspector_id, "u": uscc, "r": reason},
    )
    return bool(cast("CursorResult[Any]", result).rowcount)  # DML: execute() returns a CursorResult


async def remove_conflict(session: AsyncSession, inspector_id: uuid.UUID, uscc: str) -> bool:
    result = await session.execute(
        text(
            "DELETE FROM inspector_conflicts WHERE inspector_id = :i AND uscc = :u AND tenant_id = app_tenant()"
        ),
        {"i": inspector_id, "u": uscc},
    )
    return bool(cast("CursorResult[Any]", result).rowcount)  # DML: execute() returns a CursorResult


async def section_exists(session: AsyncSession, section_id: uuid.UUID) -> bool:
    return bool(
        (
            await session.execute(
                text("SELECT 1 FROM sections WHERE id = :id AND tenant_id = app_tenant() AND active"),
                {"id": section_id},
            )
        ).first()
    )


async def sections(session: AsyncSession) -> list[SectionOut]:
    rows = await session.execute(
        text("SELECT id, code, name FROM sections WHERE tenant_id = app_tenant() AND active ORDER BY name")
    )
    return [convert(r._mapping, SectionOut) for r in rows]


# ---- items ------------------------------------------------------------------------------------------------------
def item_filters(f: ItemFilter) -> tuple[list[str], Params]:
    where: list[str] = []
    params: Params = {}
    if f.q:
        where.append("(t.name ILIKE :q OR t.code ILIKE :q)")
        params["q"] = _like(f.q)
    if f.category:
        where.append("t.category = :category")
        params["category"] = f.category
    if f.active is not None:
        where.append("t.active = :active")
        params["active"] = f.active
    if f.department:
        where.append("d.code = :department")
        params["department"] = f.department
    return where, params


async def list_items(session: AsyncSession, f: ItemFilter, page: int, size: int) -> tuple[list[ItemOut], int]:
    where, params = item_filters(f)
    return await _page(session, ITEM_SELECT, where, params, "t.code, t.id", page, size, ItemOut)


async def get_item(session: AsyncSession, item_id: uuid.UUID) -> ItemOut | None:
    row = (await session.execute(text(ITEM_SELECT + " WHERE t.id = :id"), {"id": item_id})).first()
    return convert(row._mapping, ItemOut) if row else None


async def replace_check_points(session: AsyncSession, item_id: uuid.UUID, points: list[str]) -> None:
    await session.execute(
        text("DELETE FROM check_points WHERE item_id = :i AND tenant_id = app_tenant()"), {"i": item_id}
    )
    if points:
        await session.execute(
            text(
                "INSERT INTO check_points (id, tenant_id, item_id, seq, content) "
                "VALUES (:id, app_tenant(), :i, :seq, :content)"
            ),
            [{"id": uuid.uuid4(), "i": item_id, "seq": n, "content": p} for n, p in enumerate(points, 1)],
        )


async def mark_checked(session: AsyncSession, object_id: uuid.UUID, on: dt.date) -> None:
    """Remember the latest check of an enterprise (a later check by another task is kept)."""
    await session.execute(
        text(
            "UPDATE registry_objects SET last_checked_on = GREATEST(COALESCE(last_checked_on, :d), :d),"
            " updated_at = now() WHERE id = :id"
        ),
        {"d": on, "id": object_id},
    )


async def check_points_of(session: AsyncSession, item_ids: list[uuid.UUID]) -> list[CheckPointRef]:
    found = await session.execute(
        text(
            "SELECT id, item_id, seq, content FROM check_points WHERE item_id = ANY(:ids) ORDER BY item_id, seq"
        ),
        {"ids": item_ids},
    )
    return [CheckPointRef(id=r.id, item_id=r.item_id, seq=r.seq, content=r.content) for r in found]


async def health(session: AsyncSession) -> RegistryHealth:
    """The registry panel's counts, in one statement over the department's own rows (RLS)."""
    found = await session.execute(
        text(
            "SELECT"
            " (SELECT count(*) FROM registry_objects o WHERE o.active AND o.status = '在营') AS objects,"
            " (SELECT count(*) FROM registry_objects o WHERE o.active AND o.status = '在营'"
            "  AND o.risk_class IS NULL) AS objects_unclassified,"
            " (SELECT count(*) FROM inspectors i WHERE i.active) AS inspectors,"
            " (SELECT count(*) FROM inspectors i WHERE i.active AND (i.licence_expiry IS NULL"
            "  OR i.licence_expiry < current_date)) AS licences_expired,"
            " (SELECT count(*) FROM inspectors i WHERE i.active AND i.licence_expiry >= current_date"
            "  AND i.licence_expiry < current_date + 30) AS licences_expiring,"
            " (SELECT count(*) FROM inspection_items t WHERE t.active) AS items,"
            " (SELECT count(*) FROM inspection_items t WHERE t.active AND NOT EXISTS"
            "  (SELECT 1 FROM check_points p WHERE p.item_id = t.id)) AS items_without_points"
        )
    )
    return msgspec.convert(dict(found.one()._mapping), RegistryHealth)
