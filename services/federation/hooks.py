"""Federation's implementations of the extension points of planning and inspection (joint checks).

Installed when ``services.federation`` is imported, so that planning and inspection, which sit below federation,
never import it.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.federation import repository as frepo
from services.federation import results, service
from services.inspection.extension import register_joint_parts
from services.planning.extension import register_joint_plans
from services.planning.schemas import JointTeamsOut
from shared.context import Ctx


class _JointPlans:
    async def require_partners(self, ctx: Ctx, plan_id: uuid.UUID) -> None:
        await service.accepted_partners(ctx, plan_id)

    async def shared_population(
        self, ctx: Ctx, plan_id: uuid.UUID, scope: dict[str, object], lines: bytes
    ) -> bytes:
        return await service.shared_population(ctx, plan_id, scope, lines)

    async def match(self, ctx: Ctx, task_id: uuid.UUID, load_slack: int) -> JointTeamsOut:
        return await service.match_joint_task(ctx, task_id, load_slack)

    async def teams(self, ctx: Ctx, task_id: uuid.UUID) -> JointTeamsOut:
        return await service.joint_teams(ctx, task_id)


class _JointParts:
    """Inspection's ``JointParts`` protocol is a frozen interface that speaks dicts: the typed rows are turned into
    dicts of the same keys and Python values here, at that boundary."""

    async def joint_task(self, session: AsyncSession, task_id: uuid.UUID) -> dict[str, Any] | None:
        joint = await frepo.joint_task(session, task_id)
        return msgspec.structs.asdict(joint) if joint else None

    async def my_members(self, session: AsyncSession, task_id: uuid.UUID, uscc: str) -> list[dict[str, Any]]:
        return [msgspec.structs.asdict(m) for m in await frepo.my_joint_members(session, task_id, uscc)]

    async def own_object(self, session: AsyncSession, uscc: str) -> dict[str, Any] | None:
        found = await frepo.own_object(session, uscc)
        return msgspec.structs.asdict(found) if found else None

    async def my_assignments(self, ctx: Ctx) -> list[dict[str, Any]]:
        # As before: plain JSON values (dates as ISO strings, UUIDs as strings), merged with planning's own rows.
        return [msgspec.to_builtins(a) for a in await results.my_joint_assignments(ctx)]


def install() -> None:
    register_joint_plans(_JointPlans())
    register_joint_parts(_JointParts())
