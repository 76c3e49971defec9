"""Shapes of joint checks (部门联合抽查): states (the values are the words users see and the database stores),
requests and responses."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from services.disclosure.schemas import DepartmentPart
from services.inspection.schemas import FollowUpStatus, HazardRow
from services.planning.schemas import PlanOut, TaskStatus
from shared.boundary import Code, Input, Note, Reason, Text40, Uscc, Year


class ParticipationStatus(StrEnum):
    INVITED = "邀请中"
    ACCEPTED = "已接受"
    DECLINED = "已拒绝"
    WITHDRAWN = "已退出"


class ReferralStatus(StrEnum):
    RECEIVED = "待受理"
    ACCEPTED = "已受理"
    HANDLING = "处理中"
    CLOSED = "已办结"


class VisitStatus(StrEnum):
    PROPOSED = "待确认"
    CONFIRMED = "已确认"


# ---- requests ---------------------------------------------------------------------------------------------------


class JointPlanCreate(Input):
    year: Year
    partners: list[Code]
    table_date: dt.date | None = None
    back_entry: bool | None = None  # 补录 (see planning.service.back_entry_for)


class Respond(Input):
    action: Text40
    reason: Reason | None = None


class PartnerItems(Input):
    item_codes: Annotated[list[Code], msgspec.Meta(max_length=200)]


class PartnerChange(Input):
    """The lead corrects its partners before the draw: ``invite`` a department (a new one, or again after it
    declined or left), ``remove`` one, or ``replace`` ``department`` by ``replacement``."""

    action: Literal["invite", "remove", "replace"]
    department: Code
    replacement: Code | None = None
    reason: Reason = ""


class ReferralCreate(Input):
    result_id: uuid.UUID
    followup_id: uuid.UUID
    department: Code
    note: Note = ""


class ReferralHandle(Input):
    status: Text40
    note: Note = ""


class VisitCreate(Input):
    task_id: uuid.UUID
    partner_department: Code
    partner_task_id: uuid.UUID
    uscc: Uscc
    visit_date: dt.date


# ---- joint plans ------------------------------------------------------------------------------------------------
# Timestamps that the API has always given as Python's ISO 8601 (``+00:00``) are strings here; the others are
# datetimes (msgspec writes ``Z``), as before.


class ParticipantOut(msgspec.Struct):
    id: uuid.UUID
    plan_id: uuid.UUID
    lead_tenant_id: uuid.UUID
    tenant_id: uuid.UUID
    department_code: str
    department_name: str
    status: ParticipationStatus
    invited_at: str
    respond_by: dt.date
    responded_at: str | None
    responded_by: str | None
    reason: str | None
    item_names: list[str]


class PartnerChangeOut(msgspec.Struct):
    """One change of the partners as the lead's audit trail recorded it (the plan page shows them to the lead)."""

    at: str
    actor: str
    action: str  # Chinese: 邀请 / 重新邀请 / 撤回邀请 / 替换
    department: str
    replacement: str | None
    reason: str


class JointPlanView(msgspec.Struct):
    plan: PlanOut
    is_lead: bool
    my_status: str  # the participation status, or 牵头 for the lead
    lead_created_by: str
    participants: list[ParticipantOut]
    partner_changes: list[PartnerChangeOut] = []
    locked_by: str | None = None  # the announced task that locks partners and their items, if any


class ResponseOut(msgspec.Struct):
    """A department that declined or withdrew no longer sees the plan: only its own answer."""

    plan_id: uuid.UUID
    my_status: ParticipationStatus
    reason: str


class InvitationOut(msgspec.Struct):
    id: uuid.UUID
    plan_id: uuid.UUID
    lead_tenant_id: uuid.UUID
    tenant_id: uuid.UUID
    department_code: str
    department_name: str
    status: ParticipationStatus
    invited_at: dt.datetime
    respond_by: dt.date
    responded_at: dt.datetime | None
    responded_by: str | None
    reason: str | None
    item_names: list[str]
    plan_number: str
    plan_name: str
    lead_name: str


# ---- one record per enterprise (一企一表) ---------------------------------------------------------------------------


class PointOut(msgspec.Struct):
    item_name: str
    seq: int
    content: str
    outcome: str
    note: str


class AttachmentOut(msgspec.Struct):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str


class PartFollowUpOut(msgspec.Struct):
    """A follow-up of a part: inspection's ``FollowUpRow`` with ``closed_at`` as the unified record has always given
    it, Python's ISO 8601 (``+00:00``)."""

    id: uuid.UUID
    action: str
    target: str
    note: str
    status: FollowUpStatus
    closed_at: str | None
    closed_by: str | None


class PartOut(msgspec.Struct):
    """One department's part of the unified record; without a result only the first five fields."""

    department_code: str
    department_name: str
    items: list[str]
    status: str  # the result's status, or 未提交
    result_id: uuid.UUID | None
    check_date: dt.date | UnsetType | None = UNSET
    categories: list[str] | UnsetType = UNSET
    summary: str | UnsetType = UNSET
    entered_by: str | UnsetType = UNSET
    reviewed_by: str | UnsetType | None = UNSET
    points: list[PointOut] | UnsetType = UNSET
    hazards: list[HazardRow] | UnsetType = UNSET
    follow_ups: list[PartFollowUpOut] | UnsetType = UNSET
    attachments: list[AttachmentOut] | UnsetType = UNSET


class PublicJointRecordOut(msgspec.Struct):
    id: uuid.UUID
    department_name: str
    items: str
    check_date: dt.date
    categories: list[str]
    hazard_count: int
    follow_up: str
    departments: list[DepartmentPart]
    published_at: str


class RecordOut(msgspec.Struct):
    task_id: uuid.UUID
    uscc: str
    is_lead: bool
    departments: list[str] | None
    parts: list[PartOut]
    ready_to_publish: bool
    public_record: PublicJointRecordOut | None


class JointAssignmentOut(msgspec.Struct):
    task_id: uuid.UUID
    uscc: str
    object_name: str
    plan_number: str
    task_number: str
    task_name: str
    status: TaskStatus
    start_month: dt.date
    end_month: dt.date
    result_status: str | None


# ---- referrals (抄告 / 移送) -----------------------------------------------------------------------------------------


class HistoryEntry(msgspec.Struct):
    status: str
    note: str
    by: str
    at: str


class ReferralOut(msgspec.Struct):
    id: uuid.UUID
    from_department_name: str
    to_department_name: str
    result_id: uuid.UUID
    followup_id: uuid.UUID
    task_id: uuid.UUID
    uscc: str
    enterprise_name: str
    action: str
    evidence: str
    attachments: list[AttachmentOut]
    status: ReferralStatus
    history: list[HistoryEntry]
    created_by: str
    created_at: str
    updated_at: str
    direction: Literal["in", "out"]


# ---- fewer visits -----------------------------------------------------------------------------------------------


class OverlapCheck(msgspec.Struct):
    uscc: str
    enterprise_name: str
    department_code: str
    department_name: str
    task_id: uuid.UUID
    plan_number: str
    task_number: str
    task_name: str
    start_month: str  # as the database's JSON gives a date: YYYY-MM-DD
    end_month: str


class OverlapOut(msgspec.Struct):
    uscc: str
    enterprise_name: str
    checks: list[OverlapCheck]
    merged: bool


class VisitOut(msgspec.Struct):
    id: uuid.UUID
    task_id: uuid.UUID
    partner_task_id: uuid.UUID
    uscc: str
    visit_date: dt.date
    status: VisitStatus
    proposed_by: str
    confirmed_by: str | None
    created_at: str
    department_code: str
    department_name: str
    partner_department_code: str
    partner_department_name: str
