"""Request bodies and answers of the results API (the pages convert their forms into the same structs and render
the same answers); the rows of inspection's tables as the repository returns them."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

import msgspec
from msgspec import UNSET, UnsetType

from services.disclosure.schemas import RESULT_CATEGORIES
from services.planning.schemas import TaskStatus
from shared.audit import AuditEvent
from shared.boundary import Input, Note, Reason, Summary, Text40, Text200

OUTCOMES = ("符合", "不符合", "不涉及")
SEVERITIES = ("重大隐患", "一般隐患")
ACTIONS = ("无需后续处置", "责令改正并跟踪", "抄告相关部门", "移送办案机构", "移送司法机关")
CATEGORIES = RESULT_CATEGORIES  # the national platform's vocabulary, as the public site filters by it
# Categories that find no problem with the enterprise (the rest count as "finding problems" in the statistics).
CLEAN_CATEGORIES = ("未发现问题", "未发现开展本次抽查涉及的经营活动", "已关闭停业或正在组织清算", "已注销")


class ClassFindingsRow(msgspec.Struct, frozen=True):
    """Published checks of one department and credit-risk class in a year, and how many found problems."""

    department_id: uuid.UUID
    risk_class: str  # A–D, or "-" when the registry does not classify the enterprise
    checks: int
    with_problems: int


class ResultStatus(StrEnum):
    """States of a result (谁检查、谁录入 → review → publication); 已通过 only for a joint part awaiting the lead."""

    DRAFT = "草稿"
    SUBMITTED = "待审核"
    RETURNED = "退回"
    APPROVED = "已通过"
    PUBLISHED = "已公示"


class HazardStatus(StrEnum):
    OPEN = "整改中"
    RECTIFIED = "已整改"
    OVERDUE = "逾期未整改"


class FollowUpStatus(StrEnum):
    OPEN = "办理中"
    CLOSED = "已办结"


class PointIn(Input):
    check_point_id: uuid.UUID
    outcome: Text40
    note: Note = ""


class HazardIn(Input):
    description: Note
    severity: Text40
    rectify_by: dt.date | None = None
    id: uuid.UUID | None = None


class FollowUpIn(Input):
    action: Text40
    target: Text200 = ""
    note: Note = ""
    id: uuid.UUID | None = None


class ResultDraft(Input):
    check_date: dt.date | None = None
    points: list[PointIn] = msgspec.field(default_factory=list)
    categories: list[Text40] = msgspec.field(default_factory=list)
    summary: Summary = ""
    hazards: list[HazardIn] = msgspec.field(default_factory=list)
    follow_ups: list[FollowUpIn] = msgspec.field(default_factory=list)


class ReturnRequest(Input):
    reason: Reason


class RecheckRequest(Input):
    rechecked_on: dt.date
    rectified: bool
    note: Note = ""


class CloseRequest(Input):
    note: Note = ""


# ---- rows (repository) ----------------------------------------------------------------------------------------


class TaskRow(msgspec.Struct):
    """A task as result entry sees it: numbers, names, items, window and its current (not voided) draw."""

    id: uuid.UUID
    name: str
    number: str
    status: TaskStatus
    item_ids: list[uuid.UUID]
    end_month: dt.date
    plan_number: str
    plan_name: str
    draw_id: uuid.UUID | None
    back_entry: bool = False  # the plan is a back-entry (补录)
    check_point_ids: list[uuid.UUID] | None = None  # the task's chosen check points (None: all of its items')


class ObjectRow(msgspec.Struct):
    """The enterprise in the department's own registry (of a joint team's enterprise, federation's
    ``JointParts.own_object`` gives it)."""

    object_id: uuid.UUID
    name: str
    address: str
    uscc: str


class MemberRow(msgspec.Struct):
    """An inspector of the team that checks one enterprise (of a joint team, this department's members as
    federation's ``JointParts.my_members`` gives them)."""

    id: uuid.UUID
    name: str
    user_id: uuid.UUID | None
    licence_no: str


class JointFacts(msgspec.Struct):
    """The joint facts of a task (部门联合抽查) as the current department sees them, as federation's
    ``JointParts.joint_task`` gives them: the lead's task and items, and this department's participation (None
    where it has none, e.g. the lead's own)."""

    task_id: uuid.UUID
    lead_tenant_id: uuid.UUID
    plan_id: uuid.UUID
    lead_item_ids: list[uuid.UUID]
    task_status: TaskStatus
    is_lead: bool
    my_status: str | None  # federation's ParticipationStatus: inspection sits below federation, not its enum
    my_item_ids: list[uuid.UUID] | None


class CheckPointRow(msgspec.Struct):
    id: uuid.UUID
    seq: int
    content: str
    method: str
    item_code: str
    item_name: str


class Answer(msgspec.Struct):
    """The conclusion entered for one check point."""

    outcome: str
    note: str


class ResultRow(msgspec.Struct):
    id: uuid.UUID
    task_id: uuid.UUID
    uscc: str
    object_id: uuid.UUID
    status: ResultStatus
    check_date: dt.date | None
    check_end: dt.date
    due_on: dt.date
    due_uncertain: bool
    categories: list[str]
    summary: str
    entered_by: str
    entered_by_name: str
    submitted_at: dt.datetime | None
    reviewed_by: str | None
    reviewed_by_name: str | None
    reviewed_at: dt.datetime | None
    return_reason: str | None
    published_at: dt.datetime | None
    created_at: dt.datetime
    updated_at: dt.datetime
    object_name: str
    address: str
    task_name: str
    task_number: str
    plan_number: str
    plan_name: str
    back_entry: bool  # of a back-entered plan (补录): its deadline counts from the day it was entered


class NewResult(msgspec.Struct):
    """The row of a first entry (the rest is written by the draft that follows in the same transaction)."""

    id: uuid.UUID
    tenant_id: uuid.UUID
    task_id: uuid.UUID
    uscc: str
    object_id: uuid.UUID
    check_end: dt.date
    due_on: dt.date
    due_uncertain: bool
    entered_by: str
    entered_by_name: str


class HazardRow(msgspec.Struct):
    id: uuid.UUID
    description: str
    severity: str
    rectify_by: dt.date | None
    status: HazardStatus
    rechecked_on: dt.date | None
    recheck_note: str
    rechecked_by: str | None


class HazardState(msgspec.Struct):
    id: uuid.UUID
    status: HazardStatus
    rectify_by: dt.date | None


class FollowUpRow(msgspec.Struct):
    id: uuid.UUID
    action: str
    target: str
    note: str
    status: FollowUpStatus
    closed_at: dt.datetime | None
    closed_by: str | None


class FollowUpState(msgspec.Struct):
    id: uuid.UUID
    action: str
    status: FollowUpStatus


class AttachmentRow(msgspec.Struct):
    id: uuid.UUID
    followup_id: uuid.UUID | None
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: dt.datetime
    # Where a photo was taken (the field app's camera at a check point or a hazard); neither for the whole check.
    check_point_id: uuid.UUID | None
    hazard_id: uuid.UUID | None


class AttachmentMeta(msgspec.Struct):
    id: uuid.UUID
    followup_id: uuid.UUID | None
    filename: str
    content_type: str
    size: int
    sha256: str
    followup_status: FollowUpStatus | None


class NewAttachment(msgspec.Struct):
    id: uuid.UUID
    tenant_id: uuid.UUID
    result_id: uuid.UUID
    followup_id: uuid.UUID | None
    filename: str
    content_type: str
    size: int
    sha256: str
    data: bytes
    uploaded_by: str
    check_point_id: uuid.UUID | None = None
    hazard_id: uuid.UUID | None = None


class AttachmentFile(msgspec.Struct):
    """An attachment with its bytes (served as a file, never as JSON)."""

    id: uuid.UUID
    result_id: uuid.UUID
    filename: str
    content_type: str
    data: bytes


class DueResult(msgspec.Struct):
    """An unpublished result near or past its deadline (reminders)."""

    id: uuid.UUID
    due_on: dt.date
    status: ResultStatus
    entered_by: str
    name: str
    back_entry: bool


# ---- answers (API and pages) ------------------------------------------------------------------------------------


class TaskView(TaskRow):
    # Only for a joint task (部门联合): absent otherwise.
    joint: JointFacts | UnsetType = UNSET


class TeamMember(msgspec.Struct):
    name: str
    licence_no: str


class PointView(CheckPointRow):
    outcome: str | None
    note: str


class ResultOut(ResultRow):
    overdue: bool
    workdays_left: int | None
    # Only when the year of the deadline has no official holiday calendar yet.
    warning: str | UnsetType = UNSET


class AttachmentView(AttachmentRow):
    removable: bool


class EntryView(msgspec.Struct):
    """The entry page of one enterprise of a task (GET /api/tasks/{task_id}/results/{uscc})."""

    task: TaskView
    object: ObjectRow | None
    team: list[TeamMember]
    on_team: bool
    result: ResultOut | None
    points: list[PointView]
    due_on: dt.date
    hazards: list[HazardRow]
    follow_ups: list[FollowUpRow]
    attachments: list[AttachmentView]
    can_attach: bool
    attachment_max_bytes: int


class ResultDetail(EntryView):
    """A result with its review state and audit history (GET /api/results/{result_id})."""

    can_review: bool
    history: list[AuditEvent]


class AttachmentAdded(msgspec.Struct):
    id: uuid.UUID
    filename: str
    content_type: str
    size: int
    sha256: str
    check_point_id: uuid.UUID | None = None
    hazard_id: uuid.UUID | None = None


class AttachmentRemoved(msgspec.Struct):
    id: uuid.UUID
    deleted: bool
