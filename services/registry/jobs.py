"""Import batches: the history and progress of every import, and the background job for large files.

A large upload is stored in ``import_chunks`` (1 MiB rows) in the request's transaction together with its batch and
the outbox row of the job, so the job exists exactly when the file does. The job runs the import in a savepoint of
its own transaction: a rejected or crashed import rolls back to the savepoint and the batch is marked failed in the
same commit that completes the outbox row. Progress is written through a separate short transaction so the page can
show it while the import's own transaction is still open.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from typing import IO, Any

import msgspec
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.registry.columns import Kind
from services.registry.importer import ImportReport
from services.registry.imports import ImportRejected, import_file
from shared import audit
from shared.errors import DomainError
from shared.jobs import defer, tenant_job
from shared.tenancy import apply_scope, system_scope

log = structlog.get_logger()
JOB = "registry.import"
CHUNK = 1 << 20
PHASES = {"读取文件": (0.0, 0.6), "校验数据": (0.6, 0.15), "写入名录库": (0.75, 0.23)}
BATCH_COLUMNS = (
    "id, kind, status, phase, progress, filename, replace_all, total_rows, added, updated, unchanged, deactivated,"
    " error_count, errors, message, created_by_name, created_at, finished_at"
)


async def create_batch(
    session: AsyncSession,
    actor: audit.Actor,
    kind: Kind,
    filename: str,
    size: int,
    replace: bool,
    status: str,
) -> uuid.UUID:
    batch_id = uuid.uuid4()
    await session.execute(
        text(
            "INSERT INTO import_batches (id, tenant_id, kind, replace_all, status, filename, size_bytes, created_by,"
            " created_by_name) VALUES (:id, app_tenant(), :kind, :replace, :status, :filename, :size, :by, :by_name)"
        ),
        {
            "id": batch_id,
            "kind": kind,
            "replace": replace,
            "status": status,
            "filename": filename[:200],
            "size": size,
            "by": actor.id,
            "by_name": actor.name,
        },
    )
    return batch_id


async def finish_batch(
    session: AsyncSession, batch_id: uuid.UUID, report: ImportReport | None, message: str = ""
) -> None:
    ok = report is not None and report.ok and not message
    errors = [
        msgspec.structs.asdict(e) if isinstance(e, msgspec.Struct) else e.__dict__
        for e in (report.errors if report else [])
    ]
    await session.execute(
        text(
            "UPDATE import_batches SET status = :status, phase = '', progress = 1, total_rows = :total, added = :added,"
            " updated = :updated, unchanged = :unchanged, deactivated = :deactivated, error_count = :error_count,"
            " errors = CAST(:errors AS jsonb), message = :message, finished_at = now() WHERE id = :id"
        ),
        {
            "id": batch_id,
            "status": "succeeded" if ok else "failed",
            "total": report.total_rows if report else 0,
            "added": report.added if ok and report else 0,
            "updated": report.updated if ok and report else 0,
            "unchanged": report.unchanged if ok and report else 0,
            "deactivated": report.deactivated if ok and report else 0,
            "error_count": report.error_count if report else 0,
            "errors": msgspec.json.encode(errors).decode(),
            "message": message or (report.message if report else ""),
        },
    )


async def get_batch(session: AsyncSession, batch_id: uuid.UUID) -> dict[str, Any] | None:
    row = (
        await session.execute(
            text(f"SELECT {BATCH_COLUMNS} FROM import_batches WHERE id = :id"), {"id": batch_id}
        )
    ).first()
    return dict(row._mapping) if row else None


async def recent_batches(
    session: AsyncSession, kind: str | None = None, limit: int = 20
) -> list[dict[str, Any]]:
    where = "WHERE kind = :kind" if kind else ""
    rows = await session.execute(
        text(f"SELECT {BATCH_COLUMNS} FROM import_batches {where} ORDER BY created_at DESC LIMIT :limit"),
        {"kind": kind, "limit": limit},
    )
    return [dict(r._mapping) for r in rows]


async def enqueue_import(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    actor: audit.Actor,
    kind: Kind,
    file: IO[bytes],
    size: int,
    filename: str,
    replace: bool,
) -> uuid.UUID:
    batch_id = await create_batch(session, actor, kind, filename, size, replace, "queued")
    file.seek(0)
    seq = 0
    while chunk := file.read(CHUNK):
        await session.execute(
            text(
                "INSERT INTO import_chunks (tenant_id, batch_id, seq, data) VALUES (app_tenant(), :b, :s, :d)"
            ),
            {"b": batch_id, "s": seq, "d": chunk},
        )
        seq += 1
    await defer(session, JOB, tenant_id, batch_id=str(batch_id))
    return batch_id


class _ProgressWriter:
    def __init__(self, engine: AsyncEngine, tenant_id: uuid.UUID, batch_id: uuid.UUID) -> None:
        self.engine, self.tenant_id, self.batch_id = engine, tenant_id, batch_id
        self.last = 0.0

    async def __call__(self, phase: str, fraction: float, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last < 0.5:
            return
        self.last = now
        start, span = PHASES.get(phase, (0.0, 0.0))
        async with AsyncSession(self.engine) as session, session.begin():
            await apply_scope(session, system_scope(self.tenant_id))
            await session.execute(
                text(
                    "UPDATE import_batches SET status = 'running', phase = :p, progress = :f WHERE id = :id"
                ),
                {"p": phase, "f": min(start + span * fraction, 0.99), "id": self.batch_id},
            )


async def give_up_import(session: AsyncSession, tenant_id: uuid.UUID, *, batch_id: str) -> None:
    """The job was stopped again and again (a timeout or a killed worker each time): nothing was imported."""
    batch_uuid = uuid.UUID(batch_id)
    status = (
        await session.execute(text("SELECT status FROM import_batches WHERE id = :id"), {"id": batch_uuid})
    ).scalar_one_or_none()
    if status in (None, "succeeded", "failed"):
        return
    await finish_batch(
        session,
        batch_uuid,
        None,
        "导入多次未能完成（超时或服务中断），未导入任何数据，请稍后重试或联系运维人员",
    )
    await session.execute(text("DELETE FROM import_chunks WHERE batch_id = :b"), {"b": batch_uuid})


@tenant_job(JOB, give_up=give_up_import)
async def import_job(session: AsyncSession, tenant_id: uuid.UUID, *, batch_id: str) -> None:
    batch_uuid = uuid.UUID(batch_id)
    batch = (
        await session.execute(
            text(
                "SELECT kind, replace_all, filename, size_bytes, status, created_by, created_by_name "
                "FROM import_batches WHERE id = :id"
            ),
            {"id": batch_uuid},
        )
    ).first()
    if batch is None or batch.status in ("succeeded", "failed"):
        return
    # Job sessions come from the engine's sessionmaker; progress is written through the engine in its own
    # transactions, so it is visible while the import's transaction is still open.
    assert isinstance(session.bind, AsyncEngine)
    progress = _ProgressWriter(session.bind, tenant_id, batch_uuid)
    await progress("读取文件", 0.0, force=True)
    report: ImportReport | None = None
    message = ""
    with tempfile.TemporaryFile() as file:
        result = await session.stream(
            text("SELECT data FROM import_chunks WHERE batch_id = :b ORDER BY seq"), {"b": batch_uuid}
        )
        async for row in result:
            file.write(row[0])
        size = file.tell()
        try:
            async with session.begin_nested():
                report = await import_file(
                    session,
                    tenant_id,
                    audit.Actor(batch.created_by, batch.created_by_name),
                    batch.kind,
                    file,
                    size,
                    filename=batch.filename,
                    replace=batch.replace_all,
                    progress=progress,
                    batch_id=batch_uuid,
                )
        except ImportRejected as exc:
            report = exc.report
        except DomainError as exc:
            message = exc.message
        except Exception as exc:  # the savepoint rolled back; record the failure instead of retrying forever
            log.error("registry.import_failed", batch_id=batch_id, exc_info=exc)
            message = "导入失败：服务器内部错误，未导入任何数据，请稍后重试"
    await finish_batch(session, batch_uuid, report, message)
    await session.execute(text("DELETE FROM import_chunks WHERE batch_id = :b"), {"b": batch_uuid})
