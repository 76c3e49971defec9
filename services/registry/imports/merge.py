"""Merging validated, normalised staging rows into the registries: a few set-based statements per import.

Counts: ``updated`` rows differed (or were inactive) and were rewritten; ``added`` rows are new keys;
``unchanged`` = the rest of the file. With “完整替换” (``replace``), active rows whose key is not in the file are
deactivated (never deleted: plans and results keep referring to them).
"""

from __future__ import annotations

import secrets
import time

import asyncpg

# registry column ← normalised staging expression
OBJECT_FIELDS = {
    "name": "n.name",
    "address": "n.address",
    "region_code": "n.region_code",
    "industry": "n.industry",
    "object_type": "n.object_type",
    "tags": "n.tags",
    "major_hazard_level": "n.hazard_level",
    "direct_supervision": "n.direct",
    "risk_class": "n.risk_class::char(1)",
    "status": "n.status",
    "licence_no": "n.licence_no",
    "licence_expiry": "n.licence_expiry",
}
INSPECTOR_FIELDS = {
    "name": "n.name",
    "section_id": "n.section",
    "licence_expiry": "n.licence_expiry",
    "specialties": "n.specialties",
    "qualifications": "n.qualifications",
    "is_expert": "n.is_expert",
    "is_team_leader": "n.is_team_leader",
    "phone": "n.phone",
    "active": "n.status",
}
ITEM_FIELDS = {
    "name": "n.name",
    "category": "n.category",
    "item_type": "n.item_type",
    "object_type": "n.object_type",
    "check_methods": "n.check_methods",
    "legal_basis": "n.legal_basis",
    "subject": "n.subject",
    "ratio_frequency": "n.ratio_frequency",
    "specialties": "n.specialties",
}


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])


async def _upsert(
    conn: asyncpg.Connection,
    table: str,
    key: str,
    norm: str,
    fields: dict[str, str],
    *,
    extra_changed: str = "",
    active_expr: str = "true",
) -> tuple[int, int]:
    """Insert new keys and rewrite changed rows; unchanged rows cost one comparison and no write.

    Returns (added, updated). New rows are inserted in key order with time-ordered ids, so every index they enter
    is appended to rather than written all over.
    """
    fields = {k: e for k, e in fields.items() if k != "active"}
    columns = ", ".join(fields)
    order = 'n.key COLLATE "C"'  # byte order: the same order as any collation for the ASCII keys, and cheaper
    insert = (
        f"INSERT INTO {table} (id, tenant_id, {key}, {columns}, active) "
        f"SELECT {ordered_id_sql(order)}, $1::uuid, n.key, {', '.join(fields.values())}, {active_expr} FROM {norm} n"
    )
    tenant = await conn.fetchval("SELECT app_tenant()")
    if not await conn.fetchval(f"SELECT EXISTS (SELECT 1 FROM {table} WHERE tenant_id = $1)", tenant):
        # The first import of a registry: nothing to compare with.
        return _count(await conn.execute(f"{insert} ORDER BY {order}", tenant)), 0
    old = ", ".join(f"o.{c}" for c in fields) + ", o.active"
    new = ", ".join(fields.values()) + f", {active_expr}"
    changed = f"({old}) IS DISTINCT FROM ({new})" + (f" OR {extra_changed}" if extra_changed else "")
    # One join sorts the file into new rows (no id), changed rows (their id) and unchanged rows (left out).
    delta = f"import_delta_{secrets.token_hex(4)}"
    pending = _count(
        await conn.execute(
            f"CREATE TEMP TABLE {delta} ON COMMIT DROP AS SELECT n.row_no, o.id FROM {norm} n "
            f"LEFT JOIN {table} o ON o.tenant_id = $1 AND o.{key} = n.key WHERE o.id IS NULL OR {changed}",
            tenant,
        )
    )
    if not pending:
        return 0, 0
    sets = ", ".join(f"{c} = {e}" for c, e in fields.items())
    updated = _count(
        await conn.execute(
            f"UPDATE {table} o SET {sets}, active = {active_expr}, updated_at = now() "
            f"FROM {delta} d JOIN {norm} n ON n.row_no = d.row_no WHERE o.id = d.id AND o.tenant_id = $1",
            tenant,
        )
    )
    added = _count(
        await conn.execute(
            f"{insert} JOIN {delta} d ON d.row_no = n.row_no WHERE d.id IS NULL ORDER BY {order}", tenant
        )
    )
    return added, updated


async def _deactivate_missing(conn: asyncpg.Connection, table: str, key: str, norm: str) -> int:
    return _count(
        await conn.execute(
            f"UPDATE {table} o SET active = false, updated_at = now() WHERE o.tenant_id = app_tenant() AND o.active "
            f"AND o.{key} NOT IN (SELECT n.key FROM {norm} n)"
        )
    )


async def merge_objects(conn: asyncpg.Connection, norm: str, replace: bool) -> tuple[int, int, int]:
    added, updated = await _upsert(conn, "registry_objects", "uscc", norm, OBJECT_FIELDS)
    deactivated = await _deactivate_missing(conn, "registry_objects", "uscc", norm) if replace else 0
    return added, updated, deactivated


async def merge_inspectors(conn: asyncpg.Connection, norm: str, replace: bool) -> tuple[int, int, int]:
    conflicts_changed = (
        "ARRAY(SELECT c.uscc::text FROM inspector_conflicts c WHERE c.inspector_id = o.id ORDER BY c.uscc) "
        "IS DISTINCT FROM n.conflicts"
    )
    added, updated = await _upsert(
        conn,
        "inspectors",
        "licence_no",
        norm,
        INSPECTOR_FIELDS,
        extra_changed=conflicts_changed,
        active_expr="n.status",
    )
    # Declared conflicts follow the file: those no longer listed are removed, new ones are declared by the import.
    await conn.execute(
        f"DELETE FROM inspector_conflicts c USING inspectors i, {norm} n WHERE c.inspector_id = i.id "
        "AND i.tenant_id = app_tenant() AND i.licence_no = n.key AND NOT (c.uscc = ANY(n.conflicts))"
    )
    await conn.execute(
        "INSERT INTO inspector_conflicts (id, tenant_id, inspector_id, uscc, reason) "
        f"SELECT gen_random_uuid(), app_tenant(), i.id, u, '导入申报' FROM {norm} n "
        "JOIN inspectors i ON i.tenant_id = app_tenant() AND i.licence_no = n.key "
        "CROSS JOIN LATERAL unnest(n.conflicts) AS u ON CONFLICT (inspector_id, uscc) DO NOTHING"
    )
    deactivated = await _deactivate_missing(conn, "inspectors", "licence_no", norm) if replace else 0
    return added, updated, deactivated


async def merge_items(conn: asyncpg.Connection, norm: str, replace: bool) -> tuple[int, int, int]:
    points_changed = "ARRAY(SELECT p.content FROM check_points p WHERE p.item_id = o.id ORDER BY p.seq) IS DISTINCT FROM n.check_points"
    # Which items' checklists change must be known before the upsert rewrites them.
    await conn.execute(
        f"CREATE TEMP TABLE import_item_points ON COMMIT DROP AS SELECT o.id FROM inspection_items o JOIN {norm} n "
        f"ON o.tenant_id = app_tenant() AND o.code = n.key WHERE {points_changed}"
    )
    added, updated = await _upsert(
        conn, "inspection_items", "code", norm, ITEM_FIELDS, extra_changed=points_changed
    )
    await conn.execute("DELETE FROM check_points p USING import_item_points c WHERE p.item_id = c.id")
    await conn.execute(
        "INSERT INTO check_points (id, tenant_id, item_id, seq, content) "
        f"SELECT gen_random_uuid(), app_tenant(), o.id, t.seq, t.content FROM {norm} n "
        "JOIN inspection_items o ON o.tenant_id = app_tenant() AND o.code = n.key "
        "CROSS JOIN LATERAL unnest(n.check_points) WITH ORDINALITY AS t(content, seq) "
        "WHERE o.id IN (SELECT id FROM import_item_points) OR NOT EXISTS (SELECT 1 FROM check_points p WHERE p.item_id = o.id)"
    )
    deactivated = await _deactivate_missing(conn, "inspection_items", "code", norm) if replace else 0
    return added, updated, deactivated


def ordered_id_sql(order_by: str) -> str:
    """Time-ordered ids (UUIDv7 layout: 48-bit milliseconds, version 7, then a per-batch counter).

    A million random UUIDs inserted into two unique indexes touch pages all over them; ids that grow with the
    batch append at the right edge instead, which made a 1M-row first import several seconds faster.
    """
    millis = int(time.time() * 1000)
    prefix = f"{millis:012x}7{secrets.randbits(12):03x}"
    base = -(1 << 63) + (secrets.randbits(40) << 20)  # top bits 10.. = RFC 4122 variant; counter below
    return f"('{prefix}' || to_hex({base}::bigint + row_number() OVER (ORDER BY {order_by})))::uuid"
