"""In-app notifications (站内消息): the delivery end of reminders and cross-department messages."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared.jobs import tenant_job


@tenant_job("shared.notify")
async def notify_job(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    kind: str,
    title: str,
    body: str = "",
    link: str | None = None,
    recipient_id: str | None = None,
    dedupe_key: str | None = None,
) -> None:
    await create(session, tenant_id, kind, title, body, link, recipient_id, dedupe_key)


async def create(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    kind: str,
    title: str,
    body: str = "",
    link: str | None = None,
    recipient_id: str | None = None,
    dedupe_key: str | None = None,
) -> None:
    await session.execute(
        text(
            "INSERT INTO notifications (id, tenant_id, recipient_id, kind, title, body, link, dedupe_key) "
            "VALUES (:id, :t, :r, :kind, :title, :body, :link, :dedupe) ON CONFLICT (tenant_id, dedupe_key) DO NOTHING"
        ),
        {
            "id": uuid.uuid4(),
            "t": tenant_id,
            "r": recipient_id,
            "kind": kind,
            "title": title,
            "body": body,
            "link": link,
            "dedupe": dedupe_key,
        },
    )


class Notification(msgspec.Struct, frozen=True):
    id: uuid.UUID
    kind: str
    title: str
    body: str
    link: str | None
    created_at: dt.datetime
    read_at: dt.datetime | None


async def for_user(session: AsyncSession, user_id: uuid.UUID, limit: int = 50) -> list[Notification]:
    rows = await session.execute(
        text(
            "SELECT id, kind, title, body, link, created_at, read_at FROM notifications "
            "WHERE recipient_id IS NULL OR recipient_id = :u ORDER BY created_at DESC LIMIT :limit"
        ),
        {"u": user_id, "limit": limit},
    )
    return [Notification(**r._mapping) for r in rows]
