"""SQL of the findings statistics other services read through ``records.py`` (the county's findings by risk class)."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.inspection.schemas import CLEAN_CATEGORIES, ClassFindingsRow


async def findings_by_class(session: AsyncSession, year: int) -> list[ClassFindingsRow]:
    """Published checks of the year per department and credit-risk class of the checked enterprise (in the checking
    department's registry), and how many found problems; whatever rows the scope shows (a department its own, the
    county overseer the county's)."""
    found = await session.execute(
        text(
            "SELECT r.tenant_id AS department_id, coalesce(o.risk_class, '-') AS risk_class, count(*) AS checks,"
            " count(*) FILTER (WHERE NOT r.categories <@ CAST(:clean AS text[])) AS with_problems"
            " FROM inspection_results r JOIN registry_objects o ON o.tenant_id = r.tenant_id AND o.id = r.object_id"
            " WHERE r.status = '已公示' AND r.check_date >= make_date(:year, 1, 1)"
            " AND r.check_date < make_date(:year + 1, 1, 1) AND cardinality(r.categories) > 0"
            " GROUP BY 1, 2 ORDER BY 1, 2"
        ),
        {"year": year, "clean": list(CLEAN_CATEGORIES)},
    )
    return [ClassFindingsRow(**r._mapping) for r in found]
