"""Federation's implementations of the extension points of planning and inspection (joint checks).

Installed when ``services.federation`` is imported, so that planning and inspection, which sit below federation,
never import it.
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.federation import gaps, results, service
from services.federation import repository as frepo
from services.inspection.extension import register_joint_parts
from services.inspection.schemas import JointFacts, MemberRow, ObjectRow
from services.planning import records as planning_records
from services.planning.extension import register_joint_plans
from services.planning.schemas import JointTeamsOut, PartnerGap, TaskAssignment
from shared.context import Ctx


class _JointPlans:
    async def require_partners(self, ctx: Ctx, plan_id: uuid.UUID) -> list[str]:
        return [p.department_name for p in await service.accepted_partners(ctx, plan_id)]

    async def shared_population(
        self, ctx: Ctx, plan_id: uuid.UUID, intersect_partners: bool, lines: bytes
    ) -> bytes:
        return await service.shared_population(ctx, plan_id, intersect_partners, lines)

    async def match(self, ctx: Ctx, task_id: uuid.UUID, load_slack: int) -> JointTeamsOut:
        return await service.match_joint_task(ctx, task_id, load_slack)

    async def teams(self, ctx: Ctx, task_id: uuid.UUID) -> JointTeamsOut:
        return await service.joint_teams(ctx, task_id)

    async def registry_gaps(self, ctx: Ctx, task_id: uuid.UUID) -> list[PartnerGap]:
        return await gaps.registry_gaps(ctx, task_id)


class _JointParts:
    """Inspection's ``JointParts``: federation's rows turned into the Structs inspection (and planning, for the
    assignments) declares, so that inspection never sees a federation type."""

    async def joint_task(self, session: AsyncSession, task_id: uuid.UUID) -> JointFacts | None:
        joint = await frepo.joint_task(session, task_id)
        if joint is None:
            return None
        return JointFacts(
            task_id=joint.task_id,
            lead_tenant_id=joint.lead_tenant_id,
            plan_id=joint.plan_id,
            lead_item_ids=list(joint.lead_item_ids),
            task_status=joint.task_status,
            is_lead=joint.is_lead,
            my_status=joint.my_status,
            my_item_ids=list(joint.my_item_ids) if joint.my_item_ids is not None else None,
        )

    async def my_members(self, session: AsyncSession, task_id: uuid.UUID, uscc: str) -> list[MemberRow]:
        return [
            MemberRow(id=m.id, name=m.name, user_id=m.user_id, licence_no=m.licence_no)
            for m in await planning_records.my_joint_members(session, task_id, uscc)
        ]

    async def own_object(self, session: AsyncSession, uscc: str) -> ObjectRow | None:
        found = await frepo.own_object(session, uscc)
        if found is None:
            return None
        return ObjectRow(object_id=found.object_id, name=found.name, address=found.address, uscc=found.uscc)

    async def my_assignments(self, ctx: Ctx) -> list[TaskAssignment]:
        return [
            TaskAssignment(
                task_id=a.task_id,
                task_name=a.task_name,
                task_number=a.task_number,
                plan_number=a.plan_number,
                start_month=a.start_month,
                end_month=a.end_month,
                status=a.status,
                uscc=a.uscc,
                object_name=a.object_name,
            )
            for a in await results.my_joint_assignments(ctx)
        ]


def install() -> None:
    register_joint_plans(_JointPlans())
    register_joint_parts(_JointParts())
