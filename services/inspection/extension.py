"""How joint checks (``services.federation``) extend result entry without inspection importing federation.

A joint task's team rows, its participants and the partners' items live in federation; inspection asks through
``JointParts``, which federation registers when it is imported (by every composition root). The answers are
inspection's own Structs (``services.inspection.schemas``) and planning's ``TaskAssignment``: federation builds them
from its rows, so no federation type (and no dict) crosses the boundary.
"""

from __future__ import annotations

import uuid
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from services.inspection.schemas import JointFacts, MemberRow, ObjectRow
from services.planning.schemas import TaskAssignment
from shared.context import Ctx


class JointParts(Protocol):
    async def joint_task(self, session: AsyncSession, task_id: uuid.UUID) -> JointFacts | None:
        """The joint facts of a task (lead or not, this department's status and items), None if not joint."""

    async def my_members(self, session: AsyncSession, task_id: uuid.UUID, uscc: str) -> list[MemberRow]:
        """This department's members of the joint team for one enterprise."""

    async def own_object(self, session: AsyncSession, uscc: str) -> ObjectRow | None:
        """The enterprise in this department's own registry (a joint team row carries no object of ours)."""

    async def my_assignments(self, ctx: Ctx) -> list[TaskAssignment]:
        """The signed-in inspector's enterprises in joint tasks."""


_registered: JointParts | None = None


def register_joint_parts(implementation: JointParts) -> None:
    global _registered
    _registered = implementation


def joint_parts() -> JointParts:
    if _registered is None:
        raise RuntimeError(
            "services.federation is not loaded: joint tasks need it (import it in the composition root)"
        )
    return _registered
