"""SQL of the export: every row of a registry as the text cells the import reads back (see ``exporter``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.columns import Kind
from services.registry.repository import Params, inspector_filters, object_filters
from services.registry.schemas import InspectorFilter, ItemFilter, ObjectFilter

_BOOL = "CASE WHEN {c} THEN '是' ELSE '否' END"
EXPORT_SQL: dict[Kind, str] = {
    "objects": (
        "SELECT o.uscc, o.name, o.address, coalesce(o.region_code, ''), o.industry, o.object_type,"
        " array_to_string(o.tags, '；'), CASE o.major_hazard_level WHEN 1 THEN '一级' WHEN 2 THEN '二级'"
        " WHEN 3 THEN '三级' WHEN 4 THEN '四级' ELSE '' END, " + _BOOL.format(c="o.direct_supervision") + ","
        " coalesce(o.risk_class, ''), o.status, o.licence_no, coalesce(to_char(o.licence_expiry, 'YYYY-MM-DD'), '')"
        " FROM registry_objects o JOIN departments d ON d.id = o.tenant_id"
    ),
    "inspectors": (
        "SELECT i.licence_no, i.name, coalesce(s.name, ''), coalesce(to_char(i.licence_expiry, 'YYYY-MM-DD'), ''),"
        " array_to_string(i.specialties, '；'), array_to_string(i.qualifications, '；'), "
        + _BOOL.format(c="i.is_expert")
        + ", "
        + _BOOL.format(c="i.is_team_leader")
        + ", i.phone,"
        " array_to_string(ARRAY(SELECT c.uscc::text FROM inspector_conflicts c WHERE c.inspector_id = i.id"
        " ORDER BY c.uscc), '；'), CASE WHEN i.active THEN '在岗' ELSE '停用' END"
        " FROM inspectors i JOIN departments d ON d.id = i.tenant_id LEFT JOIN sections s ON s.id = i.section_id"
    ),
    "items": (
        "SELECT t.code, t.name, t.category, t.item_type, t.object_type,"
        " array_to_string(ARRAY(SELECT p.content FROM check_points p WHERE p.item_id = t.id ORDER BY p.seq), E'\\n'),"
        " array_to_string(t.check_methods, '；'), t.legal_basis, t.subject, t.ratio_frequency,"
        " array_to_string(t.specialties, '；') FROM inspection_items t JOIN departments d ON d.id = t.tenant_id"
    ),
}
ORDER = {"objects": "o.uscc", "inspectors": "i.licence_no", "items": "t.code"}
ExportFilter = ObjectFilter | InspectorFilter | ItemFilter


def _filters(f: ExportFilter) -> tuple[list[str], Params]:
    if isinstance(f, ObjectFilter):
        return object_filters(f)
    if isinstance(f, InspectorFilter):
        return inspector_filters(f)
    # The item export filters by state and category only (not by search text or department).
    where: list[str] = []
    params: Params = {}
    if f.active is not None:
        where.append("t.active = :active")
        params["active"] = f.active
    if f.category:
        where.append("t.category = :category")
        params["category"] = f.category
    return where, params


async def export_rows(
    session: AsyncSession, kind: Kind, f: ExportFilter
) -> AsyncIterator[list[tuple[str, ...]]]:
    where, params = _filters(f)
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    result = await session.stream(text(f"{EXPORT_SQL[kind]}{clause} ORDER BY {ORDER[kind]}"), params)
    async for part in result.partitions(2000):
        yield [tuple(r) for r in part]
