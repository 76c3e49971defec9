"""Department-side disclosure: publishing a public record, and the export of a department's published results."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession

from services.disclosure import export, public_search, public_stats, public_views, search
from services.disclosure import repository as repo
from services.disclosure.schemas import PublicRecord, RecordRow
from shared.context import Ctx
from shared.errors import InvalidInput


async def export_results(ctx: Ctx, fmt: str) -> tuple[bytes, str, str]:
    # Read from the tenant's own published rows: exactly what the public sees, in the platform's columns.
    rows = await repo.department_export(ctx.session, ctx.department.code)
    stamp = dt.date.today().strftime("%Y%m%d")
    if fmt == "csv":
        return export.to_csv(rows), "text/csv; charset=utf-8", f"{ctx.department.code}-抽查结果-{stamp}.csv"
    if fmt == "xlsx":
        return (
            export.to_xlsx(rows),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            f"{ctx.department.code}-抽查结果-{stamp}.xlsx",
        )
    raise InvalidInput("导出格式应为 csv 或 xlsx", field="format")


async def enterprise_records(session: AsyncSession, region_code: str, uscc: str) -> list[RecordRow]:
    """Every published record of one enterprise in a county, newest check first (any department; public data)."""
    return await repo.enterprise_records(session, region_code, uscc)


async def county_year_records(session: AsyncSession, region_code: str, year: int) -> list[RecordRow]:
    """The county's published records of checks in ``year``, in publication order (the open-data export)."""
    return await repo.county_year_records(session, region_code, year)


async def publish(session: AsyncSession, record: PublicRecord) -> None:
    """Write the public record of one enterprise's check (the only writer of ``public_results``): internal results
    on approval, joint records when the lead publishes the unified record. Search keys are derived here."""
    await repo.insert_public_result(
        session, record, search.normalise(record.enterprise_name), search.name_grams(record.enterprise_name)
    )
    # Once this transaction commits, this process forgets its cached public answers (other processes within
    # ``public_search.CACHE_SECONDS``).
    if not session.info.get(_CLEAR_ON_COMMIT):
        session.info[_CLEAR_ON_COMMIT] = True
        event.listen(session.sync_session, "after_commit", _published, once=True)


_CLEAR_ON_COMMIT = "disclosure.clear_public_cache"


def _published(sync_session: Any) -> None:
    sync_session.info.pop(_CLEAR_ON_COMMIT, None)
    public_search.clear_cache()
    public_stats.clear_cache()
    public_views.clear_cache()
