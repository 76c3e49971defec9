"""Import batches: the history and progress of every import, and the background job for large files.

An upload is imported in the request when it is small (200 with the batch, or 422 with the bad rows) and queued
when it is large (202). A queued upload is stored in ``import_chunks`` (1 MiB rows) in the request's transaction
together with its batch and the outbox row of the job, so the job exists exactly when the file does. The job runs
the import in a savepoint of its own transaction: a rejected or crashed import rolls back to the savepoint and the
batch is marked failed in the same commit that completes the outbox row. Progress is written through a separate
short transaction so the page can show it while the import's own transaction is still open.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from typing import IO

import msgspec
import structlog
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.registry import repository as repo
from services.registry import repository_imports as batches_repo
from services.registry.columns import Kind
from services.registry.imports.bulk import ImportReport
from services.registry.imports.pipeline import JOB_THRESHOLD_BYTES, ImportRejected, import_file
from services.registry.imports.source import open_table
from services.registry.repository_imports import BatchResult
from services.registry.schemas import ImportBatchOut, ImportErrorDetail, ImportErrorOut, ImportStatus
from shared import audit
from shared.errors import DomainError, Forbidden, InvalidInput
from shared.jobs import defer
from shared.tenancy import apply_scope, system_scope

log = structlog.get_logger()
JOB = "registry.import"
CHUNK = 1 << 20
PHASES = {"读取文件": (0.0, 0.6), "校验数据": (0.6, 0.15), "写入名录库": (0.75, 0.23)}
GAVE_UP = "导入多次未能完成（超时或服务中断），未导入任何数据，请稍后重试或联系运维人员"
CRASHED = "导入失败：服务器内部错误，未导入任何数据，请稍后重试"


class Upload(msgspec.Struct):
    """An uploaded spreadsheet as the web layer received it (``file`` is seekable: spooled to disk)."""

    file: IO[bytes]
    size: int
    filename: str
    replace: bool
    ignore_unknown: bool = False  # the user confirmed: columns that match nothing are left out


class ImportOutcome(msgspec.Struct):
    """What an upload led to: the HTTP status (200 imported, 202 queued, 422 rejected) and its batch."""

    status_code: int
    batch: ImportBatchOut
    rejected: ImportErrorOut | None = None


def result_of(report: ImportReport | None, message: str = "") -> BatchResult:
    ok = report is not None and report.ok and not message
    if report is None:
        return BatchResult(status=ImportStatus.FAILED, message=message)
    if ok and report.ignored:
        message = f"按确认忽略了无法识别的列：{report.ignored}"
    return BatchResult(
        status=ImportStatus.SUCCEEDED if ok else ImportStatus.FAILED,
        total_rows=report.total_rows,
        added=report.added if ok else 0,
        updated=report.updated if ok else 0,
        unchanged=report.unchanged if ok else 0,
        deactivated=report.deactivated if ok else 0,
        error_count=report.error_count,
        errors=report.errors,
        message=message or report.message,
    )


async def _batch(session: AsyncSession, batch_id: uuid.UUID) -> ImportBatchOut:
    batch = await batches_repo.get_batch(session, batch_id)
    assert batch is not None  # written by this transaction
    return batch


def _refused(exc: InvalidInput, batch_id: uuid.UUID) -> ImportErrorOut:
    """The 422 of a whole-file refusal, with the batch that records it in the history."""
    detail = ImportErrorDetail(exc.code, exc.message, exc.field, [], 0, 0, str(batch_id))
    return ImportErrorOut(detail)


async def _store_annotated(session: AsyncSession, batch_id: uuid.UUID, exc: ImportRejected) -> None:
    if exc.annotated is None:
        return
    with exc.annotated as file:
        seq = 0
        while chunk := file.read(CHUNK):
            await batches_repo.store_chunk(session, batch_id, seq, chunk)
            seq += 1


async def start_import(
    session: AsyncSession, actor: audit.Actor, kind: Kind, upload: Upload
) -> ImportOutcome:
    """Small files are imported now (200, or 422 with the bad rows); large ones are queued (202). Every attempt,
    a refused file included, is a batch in the history (a refusal answers 422 and keeps its batch)."""
    tenant = await repo.scope_tenant(session)
    if tenant is None:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")
    if upload.size > JOB_THRESHOLD_BYTES:
        try:  # refuses a non-spreadsheet or a wrong header before anything is stored
            (await open_table(kind, upload.file, upload.size)).close()
        except InvalidInput as exc:
            batch_id = await batches_repo.create_batch(
                session,
                actor.id,
                actor.name,
                kind,
                upload.filename,
                upload.size,
                upload.replace,
                ImportStatus.FAILED,
            )
            await batches_repo.finish_batch(session, batch_id, result_of(None, exc.message))
            return ImportOutcome(422, await _batch(session, batch_id), _refused(exc, batch_id))
        batch_id = await enqueue_import(
            session,
            tenant,
            actor,
            kind,
            upload.file,
            upload.size,
            upload.filename,
            upload.replace,
            ignore_unknown=upload.ignore_unknown,
        )
        return ImportOutcome(202, await _batch(session, batch_id))
    batch_id = await batches_repo.create_batch(
        session,
        actor.id,
        actor.name,
        kind,
        upload.filename,
        upload.size,
        upload.replace,
        ImportStatus.RUNNING,
    )
    rejected = None
    report = None
    try:
        async with session.begin_nested():
            report = await import_file(
                session,
                tenant,
                actor,
                kind,
                upload.file,
                upload.size,
                filename=upload.filename,
                replace=upload.replace,
                batch_id=batch_id,
                ignore_unknown=upload.ignore_unknown,
            )
    except ImportRejected as exc:
        rejected, report = exc, exc.report
        await _store_annotated(session, batch_id, exc)
    except InvalidInput as exc:
        await batches_repo.finish_batch(session, batch_id, result_of(None, exc.message))
        return ImportOutcome(422, await _batch(session, batch_id), _refused(exc, batch_id))
    await batches_repo.finish_batch(session, batch_id, result_of(report))
    batch = await _batch(session, batch_id)
    if rejected is not None:
        return ImportOutcome(422, batch, rejected.out(batch.id))
    return ImportOutcome(200, batch)


async def enqueue_import(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    actor: audit.Actor,
    kind: Kind,
    file: IO[bytes],
    size: int,
    filename: str,
    replace: bool,
    *,
    ignore_unknown: bool = False,
) -> uuid.UUID:
    batch_id = await batches_repo.create_batch(
        session, actor.id, actor.name, kind, filename, size, replace, ImportStatus.QUEUED
    )
    file.seek(0)
    seq = 0
    while chunk := file.read(CHUNK):
        await batches_repo.store_chunk(session, batch_id, seq, chunk)
        seq += 1
    if ignore_unknown:
        await defer(session, JOB, tenant_id, batch_id=str(batch_id), ignore_unknown=True)
    else:
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
            await batches_repo.set_progress(session, self.batch_id, phase, min(start + span * fraction, 0.99))


async def give_up(session: AsyncSession, batch_id: uuid.UUID) -> None:
    """The job was stopped again and again (a timeout or a killed worker each time): nothing was imported."""
    status = await batches_repo.batch_status(session, batch_id)
    if status in (None, ImportStatus.SUCCEEDED, ImportStatus.FAILED):
        return
    await batches_repo.finish_batch(session, batch_id, result_of(None, GAVE_UP))
    await batches_repo.drop_chunks(session, batch_id)


async def run_queued(
    session: AsyncSession, tenant_id: uuid.UUID, batch_id: uuid.UUID, *, ignore_unknown: bool = False
) -> None:
    """The background job's work: import the stored file, record the outcome, drop the file."""
    batch = await batches_repo.queued_batch(session, batch_id)
    if batch is None or batch.status in (ImportStatus.SUCCEEDED, ImportStatus.FAILED):
        return
    # Job sessions come from the engine's sessionmaker; progress is written through the engine in its own
    # transactions, so it is visible while the import's transaction is still open.
    assert isinstance(session.bind, AsyncEngine)
    progress = _ProgressWriter(session.bind, tenant_id, batch_id)
    await progress("读取文件", 0.0, force=True)
    report: ImportReport | None = None
    annotated: ImportRejected | None = None
    message = ""
    with tempfile.TemporaryFile() as file:
        async for chunk in batches_repo.chunks(session, batch_id):
            file.write(chunk)
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
                    batch_id=batch_id,
                    ignore_unknown=ignore_unknown,
                )
        except ImportRejected as exc:
            report = exc.report
            annotated = exc
        except DomainError as exc:
            message = exc.message
        except Exception as exc:  # the savepoint rolled back; record the failure instead of retrying forever
            log.error("registry.import_failed", batch_id=str(batch_id), exc_info=exc)
            message = CRASHED
    await batches_repo.finish_batch(session, batch_id, result_of(report, message))
    await batches_repo.drop_chunks(session, batch_id)
    if annotated is not None:
        await _store_annotated(session, batch_id, annotated)
