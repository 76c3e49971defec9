"""Running an import: in the request (small files), as a background job (large files) or from the CLI.

Every path ends in ``import_file``: one transaction, all-or-nothing, one audit event with the counts (an import of a
million rows is one decision by one person; per-row audit events would drown the trail).
"""

from __future__ import annotations

import uuid
from typing import IO, Any, cast

import asyncpg
import structlog
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository_imports as batches_repo
from services.registry.columns import KIND_LABELS, Kind
from services.registry.imports.annotate import annotated_copy
from services.registry.imports.bulk import ImportReport, RowError, run_import
from services.registry.imports.source import Table, open_table
from services.registry.imports.staging import Progress
from services.registry.schemas import ImportErrorDetail, ImportErrorOut
from shared import audit
from shared.errors import InvalidInput

log = structlog.get_logger()
# Files larger than this are imported by a background job with progress shown in the UI.
JOB_THRESHOLD_BYTES = 4 * 1024 * 1024


class ImportRejected(InvalidInput):
    """Bad rows: 422 with every reported row (row number, column, reason); nothing was stored. ``annotated`` is the
    copy of the file with the bad cells marked (XLSX), when there are bad cells."""

    code = "import_invalid"

    def __init__(self, report: ImportReport, annotated: IO[bytes] | None = None) -> None:
        self.annotated = annotated
        if report.message:
            message = report.message
        else:
            message = f"导入失败：共{report.error_count}处错误，未导入任何数据。请修改后重新导入"
        super().__init__(message, field="file")
        self.report = report

    def out(self, batch_id: uuid.UUID | None = None) -> ImportErrorOut:
        """The 422 body: the error, every reported row and the batch that records the attempt."""
        return ImportErrorOut(
            ImportErrorDetail(
                code=self.code,
                message=self.message,
                field=self.field,
                rows=self.report.errors,
                error_count=self.report.error_count,
                total_rows=self.report.total_rows,
                batch_id=str(batch_id) if batch_id else None,
            )
        )

    def body(self) -> dict[str, Any]:  # the shared error contract (DomainError.body), as JSON builtins
        body = super().body()
        body["error"]["rows"] = [
            {"row": e.row, "column": e.column, "reason": e.reason, "value": e.value}
            for e in self.report.errors
        ]
        body["error"]["error_count"] = self.report.error_count
        body["error"]["total_rows"] = self.report.total_rows
        return body


async def raw_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under the session's transaction (COPY is not available through SQLAlchemy)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return cast("asyncpg.Connection", raw.driver_connection)  # the asyncpg dialect's driver connection


async def import_file(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    actor: audit.Actor,
    kind: Kind,
    file: IO[bytes],
    size: int,
    *,
    filename: str = "",
    replace: bool = False,
    progress: Progress | None = None,
    batch_id: uuid.UUID | None = None,
    ignore_unknown: bool = False,
) -> ImportReport:
    """Import ``file`` into the scope's department. Raises ``ImportRejected`` (and the caller's transaction rolls
    back) when any row is bad or a column with data matches nothing (unless ``ignore_unknown``); the file itself
    being unreadable raises ``FileRejected``."""
    # One import per registry and department at a time: two concurrent full replacements would each deactivate
    # the other's rows.
    await batches_repo.lock_registry(session, tenant_id, kind)
    table = await open_table(kind, file, size)
    try:
        conn = await raw_connection(session)
        report = await run_import(
            conn, kind, table, replace=replace, progress=progress, ignore_unknown=ignore_unknown
        )
        if not report.ok:
            raise ImportRejected(report, _annotated(kind, table, report))
    finally:
        table.close()
    await audit.record(
        session,
        tenant_id,
        actor,
        "registry.import",
        f"registry.{kind}",
        str(batch_id or kind),
        {
            "file": filename,
            "format": table.format,
            "replace": replace,
            "rows": report.total_rows,
            "added": report.added,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "deactivated": report.deactivated,
            "ignored_columns": report.ignored,
        },
    )
    return report


def _annotated(kind: Kind, table: Table, report: ImportReport) -> IO[bytes] | None:
    """The annotated copy, or none: failing to build it must not hide the report itself."""
    try:
        return annotated_copy(kind, table, report.marked)
    except Exception as exc:
        log.error("registry.annotated_copy_failed", exc_info=exc)
        return None


def summary(report: ImportReport) -> str:
    ignored = f"（按确认忽略了无法识别的列：{report.ignored}）" if report.ignored else ""
    return (
        f"{KIND_LABELS[report.kind]}导入成功：共{report.total_rows}行，新增{report.added}，更新{report.updated}，"
        f"未变{report.unchanged}，停用{report.deactivated}{ignored}"
    )


__all__ = ["JOB_THRESHOLD_BYTES", "ImportRejected", "RowError", "import_file", "summary"]
