"""How cross-department joint checks (``services.federation``) extend planning without planning importing them.

Planning owns plans, tasks, draws and the draw ceremony; a 部门联合 plan additionally needs its partners (who must
have answered the invitation, whose registries may narrow the population, whose inspectors join the teams).
Federation sits above planning and registers an implementation of ``JointPlans`` when it is imported (every
composition root imports it: the app, the worker's job modules). Planning asks ``joint_plans()`` for it.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.planning.schemas import JointTeamsOut, PartnerGap
from shared.context import Ctx


class JointPlans(Protocol):
    async def require_partners(self, ctx: Ctx, plan_id: uuid.UUID) -> list[str]:
        """Refuse (409) while an invited department has not answered, or when none accepted; else the names of the
        departments that accepted."""

    async def shared_population(
        self, ctx: Ctx, plan_id: uuid.UUID, intersect_partners: bool, lines: bytes
    ) -> bytes:
        """The eligible lines narrowed to the enterprises in every accepted partner's registry, if asked to (the
        task's ``Scope.intersect_partners``)."""

    async def match(self, ctx: Ctx, task_id: uuid.UUID, load_slack: int) -> JointTeamsOut:
        """Merged teams for a joint task (one inspector of each department), saved and published."""

    async def teams(self, ctx: Ctx, task_id: uuid.UUID) -> JointTeamsOut:
        """The joint task's teams as the current department may see them."""

    async def registry_gaps(self, ctx: Ctx, task_id: uuid.UUID) -> list[PartnerGap]:
        """The enterprises of the task's frozen list each accepted partner's registry lacks, when the draw is not
        intersected with them (the lead sees every partner's, a partner its own)."""


_registered: JointPlans | None = None


def register_joint_plans(implementation: JointPlans) -> None:
    global _registered
    _registered = implementation


def joint_plans() -> JointPlans:
    if _registered is None:
        raise RuntimeError(
            "services.federation is not loaded: joint plans need it (import it in the composition root)"
        )
    return _registered


class TaskResults(Protocol):
    """What planning needs to know of a task's results (owned by inspection, which sits above planning and
    registers this when imported): a task with published results can no longer be cancelled."""

    async def published(self, session: AsyncSession, task_id: uuid.UUID) -> int:
        """How many of the task's results (of the current department) are published."""


_task_results: TaskResults | None = None


def register_task_results(implementation: TaskResults) -> None:
    global _task_results
    _task_results = implementation


def task_results() -> TaskResults:
    if _task_results is None:
        raise RuntimeError("services.inspection is not loaded: cancelling a task needs it")
    return _task_results
