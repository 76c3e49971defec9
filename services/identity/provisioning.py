"""Operator-side provisioning of regions and departments (the tenant list).

Departments are global rows written with the owner connection; a department's sections are tenant rows, so they are
written inside that department's scope like any other tenant data.
"""

from __future__ import annotations

import uuid
from typing import Any, cast

import asyncpg
from sqlalchemy import CursorResult, text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import asyncpg_dsn

NAMESPACE = uuid.UUID("6f1c1d4e-2f7a-4d8e-9a51-3c0b5e7a9d10")


def department_id(code: str) -> uuid.UUID:
    """Stable ids, so the same department has the same id in every environment."""
    return uuid.uuid5(NAMESPACE, f"department:{code}")


async def ensure_region_chain(admin_url: str, chain: list[tuple[str, str, str]]) -> None:
    """``chain`` is [(code, name, level)] from province down; parents are the previous entries."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        parent = None
        for code, name, level in chain:
            await conn.execute(
                "INSERT INTO regions (code, name, level, parent_code) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT (code) DO NOTHING",
                code,
                name,
                level,
                parent,
            )
            parent = code
    finally:
        await conn.close()


async def ensure_department(
    admin_url: str, code: str, region_code: str, name: str, short_name: str
) -> uuid.UUID:
    dept_id = department_id(code)
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.execute(
            "INSERT INTO departments (id, code, region_code, name, short_name) VALUES ($1, $2, $3, $4, $5) "
            "ON CONFLICT (code) DO UPDATE SET name = EXCLUDED.name, short_name = EXCLUDED.short_name",
            dept_id,
            code,
            region_code,
            name,
            short_name,
        )
    finally:
        await conn.close()
    return dept_id


async def ensure_sections(
    session: AsyncSession, tenant_id: uuid.UUID, sections: list[tuple[str, str]]
) -> int:
    """Insert the sections that are missing (by code) in the department's own scope; returns how many were new."""
    created = 0
    for code, name in sections:
        result = await session.execute(
            text(
                "INSERT INTO sections (id, tenant_id, code, name) VALUES (:id, :t, :code, :name)"
                " ON CONFLICT (tenant_id, code) DO NOTHING"
            ),
            {"id": uuid.uuid4(), "t": tenant_id, "code": code, "name": name},
        )
        created += cast("CursorResult[Any]", result).rowcount or 0  # DML: execute() returns a CursorResult
    return created


async def department_sections(session: AsyncSession) -> list[tuple[str, str]]:
    rows = await session.execute(text("SELECT code, name FROM sections WHERE active ORDER BY code"))
    return [(r.code, r.name) for r in rows]
