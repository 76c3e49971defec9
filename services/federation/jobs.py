"""Reminders for joint-plan invitations: partners before their 2-working-day deadline, leads once it has passed."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from shared import notifications
from shared.jobs import tenant_job


@tenant_job("federation.remind_invitations")
async def remind_invitations(session: AsyncSession, tenant_id: uuid.UUID, *, day: str) -> None:
    today = dt.date.fromisoformat(day)
    # Invitations this department still has to answer (its own participation rows), due today or tomorrow or late.
    pending = await session.execute(
        text(
            "SELECT jp.id, jp.plan_id, jp.respond_by, p.number FROM joint_participants jp JOIN plans p ON p.id = jp.plan_id"
            " WHERE jp.tenant_id = :t AND jp.status = '邀请中' AND jp.respond_by <= :soon"
        ),
        {"t": tenant_id, "soon": today + dt.timedelta(days=1)},
    )
    for row in pending:
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
    overdue = await session.execute(
        text(
            "SELECT jp.id, jp.plan_id, d.name FROM joint_participants jp JOIN departments d ON d.id = jp.tenant_id"
            " WHERE jp.lead_tenant_id = :t AND jp.status = '邀请中' AND jp.respond_by < :today"
        ),
        {"t": tenant_id, "today": today},
    )
    for row in overdue:
        await notifications.create(
            session,
            tenant_id,
            "federation",
            f"{row.name}逾期未确认部门联合抽查邀请",
            link=f"/federation/plans/{row.plan_id}",
            dedupe_key=f"overdue-{row.id}-{today}",
        )
