"""Rows of federation's tables (and of the joins it still reads) as its repository returns them: typed Structs,
converted once from the SQL result."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec

from services.federation.schemas import ParticipationStatus, ReferralStatus, VisitStatus
from services.planning.schemas import TaskStatus


class DepartmentRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    code: str
    name: str
    short_name: str


class ParticipantRow(msgspec.Struct, frozen=True):
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


class JointTask(msgspec.Struct, frozen=True):
    """The joint facts of a task as the current department sees them (inspection gets them as its ``JointFacts``)."""

    task_id: uuid.UUID
    lead_tenant_id: uuid.UUID
    plan_id: uuid.UUID
    lead_item_ids: list[uuid.UUID]
    task_status: TaskStatus
    is_lead: bool
    my_status: ParticipationStatus | None
    my_item_ids: list[uuid.UUID] | None


class SharedObject(msgspec.Struct, frozen=True):
    """The facts of one of the lead's registry objects a joint check shares with a partner adding it."""

    uscc: str
    name: str
    address: str
    region_code: str | None
    industry: str
    object_type: str


class OwnObject(msgspec.Struct, frozen=True):
    object_id: uuid.UUID
    name: str
    address: str
    uscc: str


class PartResult(msgspec.Struct, frozen=True):
    """One department's own result for a joint task's enterprise."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    status: str
    check_date: dt.date | None
    categories: list[str]
    summary: str
    entered_by_name: str
    reviewed_by_name: str | None
    reviewed_at: dt.datetime | None
    object_id: uuid.UUID
    published_at: dt.datetime | None


class PublicJointRecord(msgspec.Struct, frozen=True):
    id: uuid.UUID
    department_name: str
    items: str
    check_date: dt.date
    categories: list[str]
    hazard_count: int
    follow_up: str
    departments: list[dict[str, object]]  # jsonb: the published departments' parts
    published_at: dt.datetime


class ReferralRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    from_tenant_id: uuid.UUID
    from_department_name: str
    to_department_name: str
    result_id: uuid.UUID
    followup_id: uuid.UUID
    task_id: uuid.UUID
    uscc: str
    enterprise_name: str
    action: str
    evidence: str
    attachments: list[dict[str, object]]  # jsonb, as written by create_referral
    status: ReferralStatus
    history: list[dict[str, object]]  # jsonb, as appended by handle_referral
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime


class NewReferral(msgspec.Struct, frozen=True):
    id: uuid.UUID
    tenant_id: uuid.UUID
    from_tenant_id: uuid.UUID
    from_department_name: str
    to_department_name: str
    result_id: uuid.UUID
    followup_id: uuid.UUID
    task_id: uuid.UUID
    uscc: str
    enterprise_name: str
    action: str
    evidence: str
    attachments: str  # JSON text of the attachment list
    created_by: str


class VisitRow(msgspec.Struct, frozen=True):
    id: uuid.UUID
    task_id: uuid.UUID
    partner_task_id: uuid.UUID
    uscc: str
    visit_date: dt.date
    status: VisitStatus
    proposed_by: str
    confirmed_by: str | None
    created_at: dt.datetime
    department_code: str
    department_name: str
    partner_department_code: str
    partner_department_name: str


class VisitLock(msgspec.Struct, frozen=True):
    id: uuid.UUID
    status: VisitStatus
    tenant_id: uuid.UUID
    task_id: uuid.UUID
    partner_tenant_id: uuid.UUID


class PendingInvitation(msgspec.Struct, frozen=True):
    id: uuid.UUID
    plan_id: uuid.UUID
    respond_by: dt.date
    number: str


class OverdueInvitation(msgspec.Struct, frozen=True):
    id: uuid.UUID
    plan_id: uuid.UUID
    name: str
