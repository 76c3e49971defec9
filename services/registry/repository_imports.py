"""SQL of import batches: their state and history, the stored file of a queued import, the per-registry lock.

The bulk load itself (staging tables, COPY, the set-based merge) runs on the raw asyncpg connection and keeps its
statements in the ``imports`` package; everything here goes through the session like the rest of the registry.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.columns import Kind
from services.registry.repository import convert
from services.registry.schemas import ImportBatchOut, ImportStatus, RowErrorOut

BATCH_COLUMNS = (
    "id, kind, status, phase, progress, filename, replace_all, total_rows, added, updated, unchanged, deactivated,"
    " error_count, errors, message, created_by_name, created_at, finished_at,"
    # A failed batch keeps no input file: its stored chunks are the annotated copy of the rejected file.
    " status = 'failed' AND EXISTS (SELECT 1 FROM import_chunks c WHERE c.batch_id = import_batches.id) AS annotated"
)


class QueuedBatch(msgspec.Struct):
    """What the background job needs of its batch."""

    kind: Kind
    replace_all: bool
    filename: str
    size_bytes: int
    status: ImportStatus
    created_by: str
    created_by_name: str


class BatchResult(msgspec.Struct, kw_only=True):
    """The final state of a batch: counts stay 0 unless the import succeeded."""

    status: ImportStatus
    total_rows: int = 0
    added: int = 0
    updated: int = 0
    unchanged: int = 0
    deactivated: int = 0
    error_count: int = 0
    errors: list[RowErrorOut] = msgspec.field(default_factory=list)
    message: str = ""


async def lock_registry(session: AsyncSession, tenant_id: uuid.UUID, kind: Kind) -> None:
    """One import per registry and department at a time (until the transaction ends)."""
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 11))"), {"k": f"{tenant_id}:{kind}"}
    )


async def create_batch(
    session: AsyncSession,
    created_by: str,
    created_by_name: str,
    kind: Kind,
    filename: str,
    size: int,
    replace: bool,
    status: ImportStatus,
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
            "by": created_by,
            "by_name": created_by_name,
        },
    )
    return batch_id


async def finish_batch(session: AsyncSession, batch_id: uuid.UUID, result: BatchResult) -> None:
    await session.execute(
        text(
            "UPDATE import_batches SET status = :status, phase = '', progress = 1, total_rows = :total, added = :added,"
            " updated = :updated, unchanged = :unchanged, deactivated = :deactivated, error_count = :error_count,"
            " errors = CAST(:errors AS jsonb), message = :message, finished_at = now() WHERE id = :id"
        ),
        {
            "id": batch_id,
            "status": result.status,
            "total": result.total_rows,
            "added": result.added,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "deactivated": result.deactivated,
            "error_count": result.error_count,
            "errors": msgspec.json.encode(result.errors).decode(),
            "message": result.message,
        },
    )


async def set_progress(session: AsyncSession, batch_id: uuid.UUID, phase: str, progress: float) -> None:
    await session.execute(
        text("UPDATE import_batches SET status = 'running', phase = :p, progress = :f WHERE id = :id"),
        {"p": phase, "f": progress, "id": batch_id},
    )


async def get_batch(session: AsyncSession, batch_id: uuid.UUID) -> ImportBatchOut | None:
    row = (
        await session.execute(
            text(f"SELECT {BATCH_COLUMNS} FROM import_batches WHERE id = :id"), {"id": batch_id}
        )
    ).first()
    return convert(row._mapping, ImportBatchOut) if row else None


async def recent_batches(
    session: AsyncSession, kind: str | None = None, limit: int = 20
) -> list[ImportBatchOut]:
    where = "WHERE kind = :kind" if kind else ""
    rows = await session.execute(
        text(f"SELECT {BATCH_COLUMNS} FROM import_batches {where} ORDER BY created_at DESC LIMIT :limit"),
        {"kind": kind, "limit": limit},
    )
    return [convert(r._mapping, ImportBatchOut) for r in rows]


async def batch_status(session: AsyncSession, batch_id: uuid.UUID) -> ImportStatus | None:
    status: str | None = (
        await session.execute(text("SELECT status FROM import_batches WHERE id = :id"), {"id": batch_id})
    ).scalar_one_or_none()
    return None if status is None else ImportStatus(status)


async def queued_batch(session: AsyncSession, batch_id: uuid.UUID) -> QueuedBatch | None:
    row = (
        await session.execute(
            text(
                "SELECT kind, replace_all, filename, size_bytes, status, created_by, created_by_name "
                "FROM import_batches WHERE id = :id"
            ),
            {"id": batch_id},
        )
    ).first()
    return convert(row._mapping, QueuedBatch) if row else None


async def store_chunk(session: AsyncSession, batch_id: uuid.UUID, seq: int, data: bytes) -> None:
    await session.execute(
        text("INSERT INTO import_chunks (tenant_id, batch_id, seq, data) VALUES (app_tenant(), :b, :s, :d)"),
        {"b": batch_id, "s": seq, "d": data},
    )


async def chunks(session: AsyncSession, batch_id: uuid.UUID) -> AsyncIterator[bytes]:
    """The stored file of a queued import, in order (streamed: it may be large)."""
    result = await session.stream(
        text("SELECT data FROM import_chunks WHERE batch_id = :b ORDER BY seq"), {"b": batch_id}
    )
    async for row in result:
        yield row[0]


async def drop_chunks(session: AsyncSession, batch_id: uuid.UUID) -> None:
    await session.execute(text("DELETE FROM import_chunks WHERE batch_id = :b"), {"b": batch_id})


async def active_department_id(session: AsyncSession, code: str) -> uuid.UUID | None:
    """For ``spotcheck import --department CODE`` (read before any tenant scope is set)."""
    found: uuid.UUID | None = (
        await session.execute(text("SELECT id FROM departments WHERE code = :c AND active"), {"c": code})
    ).scalar_one_or_none()
    return found
