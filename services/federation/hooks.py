"""Federation's implementations of the extension points of planning and inspection (joint checks).

Installed when ``services.federation`` is imported, so that planning and inspection, which sit below federation,
never import it.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.federation import repository as frepo
from services.federation import results, service
from services.inspection.extension import register_joint_parts
from services.planning.extension import register_joint_plans
from shared.context import Ctx


class _JointPlans:
    async def require_partners(self, ctx: Ctx, plan_id: uuid.UUID) -> None:
        await service.accepted_partners(ctx, plan_id)

    async def shared_population(
        self, ctx: Ctx, plan_id: uuid.UUID, scope: dict[str, Any], lines: bytes
    ) -> bytes:
        return await service.shared_population(ctx, plan_id, scope, lines)

    async def match(self, ctx: Ctx, task_id: uuid.UUID, load_slack: int) -> dict[str, Any]:
        return await service.match_joint_task(ctx, task_id, load_slack)

    async def teams(self, ctx: Ctx, task_id: uuid.UUID) -> dict[str, Any]:
        return await service.joint_teams(ctx, task_id)


class _JointParts:
    async def joint_task(self, session: AsyncSession, task_id: uuid.UUID) -> dict[str, Any] | None:
        return await frepo.joint_task(session, task_id)

    async def my_members(self, session: AsyncSession, task_id: uuid.UUID, uscc: str) -> list[dict[str, Any]]:
        return await frepo.my_joint_members(session, task_id, uscc)

    async def own_object(self, session: AsyncSession, uscc: str) -> dict[str, Any] | None:
        return await frepo.own_object(session, uscc)

    async def my_assignments(self, ctx: Ctx) -> list[dict[str, Any]]:
        return await results.my_joint_assignments(ctx)


def install() -> None:
    register_joint_plans(_JointPlans())
    register_joint_parts(_JointParts())
