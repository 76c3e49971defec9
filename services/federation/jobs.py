"""Reminders for joint-plan invitations: partners before their 2-working-day deadline, leads once it has passed."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.federation import repository as frepo
from shared import notifications
from shared.jobs import tenant_job


@tenant_job("federation.remind_invitations")
async def remind_invitations(session: AsyncSession, tenant_id: uuid.UUID, *, day: str) -> None:
    today = dt.date.fromisoformat(day)
    # Invitations this department still has to answer (its own participation rows), due today or tomorrow or late.
    for row in await frepo.pending_invitations(session, tenant_id, today + dt.timedelta(days=1)):
        late = "已逾期" if row.respond_by < today else f"请于{row.respond_by}前确认"
        await notifications.create(
            session,
            tenant_id,
            "federation",
            f"部门联合抽查 {row.number} 邀请待确认（{late}）",
            link=f"/federation/plans/{row.plan_id}",
            dedupe_key=f"invite-{row.id}-{today}",
        )
    # Partners of this department's joint plans that let the deadline pass.
    for overdue in await frepo.overdue_partners(session, tenant_id, today):
        await notifications.create(
            session,
            tenant_id,
            "federation",
            f"{overdue.name}逾期未确认部门联合抽查邀请",
            link=f"/federation/plans/{overdue.plan_id}",
            dedupe_key=f"overdue-{overdue.id}-{today}",
        )
