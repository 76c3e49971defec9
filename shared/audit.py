"""Append-only, hash-chained audit trail (全程留痕).

Each department has its own chain: ``hash = SHA-256(prev_hash || canonical JSON of the event)``, with ``seq``
counting from 1 and the genesis ``prev_hash`` being 64 zeros. The runtime role can only INSERT and SELECT, a trigger
refuses UPDATE/DELETE even for the owner, and ``verify_chain`` recomputes every link so that an edit made by someone
with owner rights (or on a restored backup) is detected.
"""

from __future__ import annotations

import hashlib
import uuid
from datetime import UTC, datetime
from typing import Any

import msgspec
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

GENESIS = "0" * 64


class Actor(msgspec.Struct, frozen=True):
    id: str
    name: str


SYSTEM = Actor(id="system", name="系统")


class AuditEvent(msgspec.Struct, frozen=True):
    seq: int
    at: str
    actor_id: str
    actor_name: str
    action: str
    entity_type: str
    entity_id: str
    data: dict[str, Any]
    prev_hash: str
    hash: str


def event_hash(tenant_id: uuid.UUID, prev_hash: str, body: dict[str, Any]) -> str:
    canonical = msgspec.json.encode({"tenant_id": str(tenant_id), **body}, order="sorted")
    return hashlib.sha256(prev_hash.encode() + canonical).hexdigest()


async def record(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    actor: Actor,
    action: str,
    entity_type: str,
    entity_id: str | uuid.UUID,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    # Serialise appends per department so that seq and prev_hash form a single chain.
    await session.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:t, 7))"), {"t": str(tenant_id)}
    )
    last = (
        await session.execute(
            text("SELECT seq, hash FROM audit_events WHERE tenant_id = :t ORDER BY seq DESC LIMIT 1"),
            {"t": tenant_id},
        )
    ).first()
    seq, prev_hash = (last[0] + 1, last[1]) if last else (1, GENESIS)
    now = datetime.now(UTC)
    body = {
        "seq": seq,
        "at": now.isoformat(timespec="microseconds"),
        "actor_id": actor.id,
        "actor_name": actor.name,
        "action": action,
        "entity_type": entity_type,
        "entity_id": str(entity_id),
        "data": msgspec.to_builtins(data or {}),
    }
    digest = event_hash(tenant_id, prev_hash, body)
    await session.execute(
        text(
            "INSERT INTO audit_events (tenant_id, seq, at, actor_id, actor_name, action, entity_type, entity_id,"
            " data, prev_hash, hash) VALUES (:tenant_id, :seq, :at_ts, :actor_id, :actor_name,"
            " :action, :entity_type, :entity_id, CAST(:data AS jsonb), :prev_hash, :hash)"
        ),
        {
            **body,
            "at_ts": now,
            "tenant_id": tenant_id,
            "data": msgspec.json.encode(body["data"]).decode(),
            "prev_hash": prev_hash,
            "hash": digest,
        },
    )
    return AuditEvent(prev_hash=prev_hash, hash=digest, **body)


async def events(
    session: AsyncSession,
    tenant_id: uuid.UUID,
    *,
    entity_type: str | None = None,
    entity_id: str | None = None,
) -> list[AuditEvent]:
    sql = (
        "SELECT seq, at, actor_id, actor_name, action, entity_type, entity_id, data, prev_hash, hash "
        "FROM audit_events WHERE tenant_id = :t"
    )
    params: dict[str, Any] = {"t": tenant_id}
    if entity_type is not None:
        sql += " AND entity_type = :et"
        params["et"] = entity_type
    if entity_id is not None:
        sql += " AND entity_id = :eid"
        params["eid"] = entity_id
    rows = (await session.execute(text(sql + " ORDER BY seq"), params)).all()
    return [
        AuditEvent(
            seq=r.seq,
            at=r.at.astimezone(UTC).isoformat(timespec="microseconds"),
            actor_id=r.actor_id,
            actor_name=r.actor_name,
            action=r.action,
            entity_type=r.entity_type,
            entity_id=r.entity_id,
            data=r.data,
            prev_hash=r.prev_hash,
            hash=r.hash,
        )
        for r in rows
    ]


def verify_events(tenant_id: uuid.UUID, chain: list[AuditEvent]) -> list[str]:
    """Every problem in the chain, in order (empty = intact)."""
    problems: list[str] = []
    prev = GENESIS
    for expected_seq, event in enumerate(chain, start=1):
        if event.seq != expected_seq:
            problems.append(f"seq {event.seq}: expected {expected_seq} (an event was removed or inserted)")
        if event.prev_hash != prev:
            problems.append(f"seq {event.seq}: prev_hash does not match the previous event")
        body = {
            k: getattr(event, k)
            for k in ("seq", "at", "actor_id", "actor_name", "action", "entity_type", "entity_id", "data")
        }
        if event_hash(tenant_id, event.prev_hash, body) != event.hash:
            problems.append(f"seq {event.seq}: hash does not match the event's content (altered)")
        prev = event.hash
    return problems


async def verify_chain(session: AsyncSession, tenant_id: uuid.UUID) -> list[str]:
    return verify_events(tenant_id, await events(session, tenant_id))
