"""Rows of planning's tables as its repositories return them: converted once, from the SQL result, to typed Structs.

These are the internal shapes the rules work with; the API's shapes are in ``schemas.py``. ``row()``/``rows()``
convert SQLAlchemy rows (``msgspec.convert`` keeps dates, datetimes and UUIDs as they are and turns status words
into their enums).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from typing import Any, TypeVar

import msgspec
from sqlalchemy.engine import Row

from services.planning.schemas import DrawStatus, DrawType, Kind, PlanStatus, TaskStatus

T = TypeVar("T", bound=msgspec.Struct)


def row(found: Row[Any] | None, kind: type[T]) -> T | None:
    return None if found is None else msgspec.convert(dict(found._mapping), kind)


def rows(found: Iterable[Row[Any]], kind: type[T]) -> list[T]:
    return [msgspec.convert(dict(r._mapping), kind) for r in found]


class SectionRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    code: str
    name: str


class ItemRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    code: str
    name: str
    category: str
    specialties: list[str]


class PlanRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    number: str
    seq: int
    name: str
    year: int
    kind: Kind
    initiating_section_id: uuid.UUID | None
    joint_section_ids: list[uuid.UUID]
    table_date: dt.date
    status: PlanStatus
    created_by: str
    back_entry: bool = False


class TaskRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    plan_id: uuid.UUID
    number: str
    seq: int
    name: str
    draw_type: DrawType
    ratio_mode: str
    ratios: dict[str, str]
    ratio_note: str
    item_ids: list[uuid.UUID]
    item_note: str
    # The stored jsonb object scope, passed through to the population SQL and shown as stored.
    scope: dict[str, object]
    scope_note: str
    initiating_section_id: uuid.UUID | None
    joint_section_ids: list[uuid.UUID]
    start_month: dt.date
    end_month: dt.date
    min_inspectors: int
    exclude_checked_within_months: int | None
    annual_cap: int | None
    status: TaskStatus
    draw_id: uuid.UUID | None
    check_point_ids: list[uuid.UUID] | None = None  # None: every check point of the items


class DrawRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    task_id: uuid.UUID
    status: DrawStatus
    task_number: str
    ratios: dict[str, str]
    population_hash: str
    eligible_count: int
    strata_sizes: dict[str, int]
    excluded: dict[str, int]
    commitment: str
    entropy_source: str
    public_entropy: str | None
    seed: str | None
    selected_count: int | None
    announced_at: dt.datetime
    drawn_at: dt.datetime | None
    void_reason: str | None


class InspectorRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    name: str
    licence_no: str
    licence_expiry: dt.date | None
    specialties: list[str]
    user_id: uuid.UUID | None
    section: str | None
    section_name: str | None


class MatchingRow(msgspec.Struct, frozen=True):
    task_id: uuid.UUID
    draw_id: uuid.UUID
    load_slack: int
    check_end: dt.date
    caps: dict[str, int]
    slot_labels: list[str]
    matched_at: dt.datetime
    matched_by: str


class TeamMemberRow(msgspec.Struct, frozen=True):
    uscc: str
    object_id: uuid.UUID
    slot: int
    adjusted: bool
    inspector_id: uuid.UUID
    inspector_name: str
    licence_no: str
    section_name: str | None
    object_name: str
    address: str
    stratum: str
    rank: int


class AdjustmentRow(msgspec.Struct, frozen=True):
    uscc: str
    slot: int
    reason: str
    adjusted_by: str
    adjusted_at: dt.datetime
    old_name: str | None
    new_name: str
    department_name: str | None = None


class NewAdjustment(msgspec.Struct, frozen=True):
    """A recorded adjustment of one slot of a team (internal or joint), with the names as they were."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    task_id: uuid.UUID
    uscc: str
    slot: int
    old_inspector_id: uuid.UUID | None
    new_inspector_id: uuid.UUID
    reason: str
    adjusted_by: str
    department_name: str
    old_name: str | None
    new_name: str


class NewPlan(msgspec.Struct, frozen=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    number: str
    seq: int
    name: str
    year: int
    kind: str
    initiating_section_id: uuid.UUID | None
    joint_section_ids: list[uuid.UUID]
    table_date: dt.date
    created_by: str
    back_entry: bool = False


class TaskValues(msgspec.Struct, frozen=True, kw_only=True):
    """A task's content once checked against its plan and the department's items and sections."""

    name: str
    draw_type: str
    ratio_mode: str
    ratios: dict[str, str]
    ratio_note: str
    item_ids: list[uuid.UUID]
    item_note: str
    # The object scope as stored (jsonb): the request's Scope without its defaults.
    scope: dict[str, object]
    scope_note: str
    initiating_section_id: uuid.UUID | None
    joint_section_ids: list[uuid.UUID]
    start_month: dt.date
    end_month: dt.date
    min_inspectors: int
    exclude_checked_within_months: int | None
    annual_cap: int | None
    check_point_ids: list[uuid.UUID] | None = None  # None: every check point of the items


class NewTask(TaskValues, frozen=True, kw_only=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    plan_id: uuid.UUID
    number: str
    seq: int
    created_by: str


class NewDraw(msgspec.Struct, frozen=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    task_id: uuid.UUID
    task_number: str
    ratios: dict[str, str]
    population_hash: str
    eligible_count: int
    strata_sizes: dict[str, int]
    eligible_list: bytes
    excluded: dict[str, int]
    commitment: str
    secret: bytes
    entropy_source: str
    announced_by: str


class NewPublicDraw(msgspec.Struct, frozen=True):
    """The announcement in the public draw register (before the draw: no secret, no result)."""

    draw_id: uuid.UUID
    task_id: uuid.UUID
    department_code: str
    department_name: str
    region_code: str
    plan_number: str
    plan_name: str
    task_number: str
    protocol_task_number: str
    task_name: str
    ratios: dict[str, str]
    population_hash: str
    eligible_count: int
    commitment: str
    entropy_source: str
    departments: list[str] = []  # a joint draw's departments, lead first
    exclusions: dict[str, int] = {}  # what the announcement states it excluded (e.g. the county's cool-down)


class DrawResult(msgspec.Struct, frozen=True):
    """What becomes public after the draw (everything needed to recompute it)."""

    drawn_at: dt.datetime
    selected_count: int
    secret: str
    seed: str
    public_entropy: str


class JointSlotRow(msgspec.Struct, frozen=True):
    """One slot of a joint team as the department sees it, with the department it belongs to."""

    tenant_id: uuid.UUID
    uscc: str
    slot: int
    inspector_id: uuid.UUID
    inspector_name: str
    department_code: str
    slot_label: str


class JointMemberInspector(msgspec.Struct, frozen=True):
    """One of the current department's own members of a joint team, with the inspector's account."""

    id: uuid.UUID
    name: str
    user_id: uuid.UUID | None
    licence_no: str
