"""Request and response shapes for plans, tasks and draws (msgspec: validated at the edge)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, UnsetType

from shared.boundary import Code, Entropy, Input, Label, Reason, Slot, Text40, Text200, Uscc, text

Kind = Literal["本部门", "内部联合", "部门联合"]
DrawType = Literal["定向", "不定向"]
RiskClass = Literal["A", "B", "C", "D"]
Month = Annotated[
    str, msgspec.Meta(max_length=7, pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="月份，如 2023-05")
]
SectionCode = Annotated[str, msgspec.Meta(max_length=20, pattern=r"^[a-z0-9]{2,20}$", description="科室代码")]


class PlanStatus(StrEnum):
    """States of a plan; the values are the words users see and the database stores."""

    DRAFT = "草稿"
    PUBLISHED = "已发布"
    COMPLETED = "已完成"
    CANCELLED = "已撤销"


class TaskStatus(StrEnum):
    """States of a task through the draw ceremony and its implementation."""

    DRAFT = "草稿"
    ANNOUNCING = "公告中"  # a large announcement running as a job
    ANNOUNCED = "已公告"
    DRAWING = "抽取中"  # a large draw running as a job
    DRAWN = "已抽取"
    MATCHED = "已匹配"
    IN_PROGRESS = "实施中"
    COMPLETED = "已完成"
    VOIDED = "已作废"


class DrawStatus(StrEnum):
    ANNOUNCED = "已公告"
    DRAWN = "已抽取"
    VOIDED = "已作废"


class PlanCreate(Input):
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    kind: Kind
    initiating_section: SectionCode
    joint_sections: list[SectionCode] = msgspec.field(default_factory=list)
    table_date: dt.date | None = None
    # 补录: a plan of a past period entered afterwards. Unset: a plan of a past year is entered as 补录.
    back_entry: bool | None = None


class Scope(Input, omit_defaults=True):
    """Object scope of a 定向 task; every filter narrows the registry (AND)."""

    industries: list[Label] = msgspec.field(default_factory=list)
    tags_all: list[Label] = msgspec.field(default_factory=list)
    risk_classes: list[RiskClass] = msgspec.field(default_factory=list)
    major_hazard_only: bool = False
    direct_supervision_only: bool = False
    # Joint plans only: keep enterprises that are also in every accepted partner's registry (matched by USCC).
    intersect_partners: bool = False


class TaskCreate(Input):
    name: Annotated[str, text(120, min_length=2)]
    draw_type: DrawType
    start_month: Month
    end_month: Month
    item_codes: Annotated[list[Code], msgspec.Meta(min_length=1, max_length=200)]
    ratio: Text40 | None = None
    class_ratios: dict[RiskClass, Text40] | None = None
    ratio_note: Text200 = ""
    item_note: Annotated[str, text(500)] = ""
    scope: Scope = msgspec.field(default_factory=Scope)
    scope_note: Text200 = ""
    initiating_section: SectionCode | None = None
    joint_sections: list[SectionCode] | None = None
    min_inspectors: Annotated[int, msgspec.Meta(ge=2, le=10)] = 2
    exclude_checked_within_months: Annotated[int, msgspec.Meta(ge=1, le=60)] | None = None
    annual_cap: Annotated[int, msgspec.Meta(ge=1, le=50)] | None = None
    # A subset of the items' check points (None or empty: all of them), e.g. the four topics of 联2023001.
    check_point_ids: list[uuid.UUID] | None = None


class AnnounceRequest(Input):
    entropy_source: Annotated[str, text(300, min_length=1)] = "无（仅使用系统密钥）"


class DrawRequest(Input):
    public_entropy: Entropy = ""


class VoidRequest(Input):
    reason: Annotated[str, text(500, min_length=5, lines=True)]


class SectionRef(msgspec.Struct):
    code: str
    name: str


class TaskOut(msgspec.Struct):
    id: uuid.UUID
    plan_id: uuid.UUID
    number: str
    name: str
    draw_type: DrawType
    ratio_mode: str
    ratios: dict[str, str]
    ratio_note: str
    items: list[str]
    item_note: str
    scope: dict[str, object]
    scope_note: str
    initiating_section: SectionRef | None
    joint_sections: list[SectionRef]
    start_month: str
    end_month: str
    period_label: str
    min_inspectors: int
    exclude_checked_within_months: int | None
    annual_cap: int | None
    status: TaskStatus
    draw_id: uuid.UUID | None = None
    check_point_ids: list[uuid.UUID] | None = None


class PlanOut(msgspec.Struct):
    id: uuid.UUID
    number: str
    name: str
    year: int
    kind: Kind
    initiating_section: SectionRef | None
    joint_sections: list[SectionRef]
    table_date: dt.date
    status: PlanStatus
    created_by: str
    tasks: list[TaskOut] = []
    back_entry: bool = False


class DrawnObject(msgspec.Struct):
    """One drawn enterprise; the registry columns are null when the reader's registry does not hold it."""

    stratum: str
    rank: int
    uscc: str
    object_id: uuid.UUID
    name: str | None
    address: str | None
    industry: str | None
    risk_class: str | None


class PartnerGap(msgspec.Struct):
    """Enterprises of a joint draw (not intersected with the partners' registries) that a partner's registry lacks:
    its inspectors could not enter results for them until the partner adds them."""

    department_code: str
    department_name: str
    eligible_missing: int
    usccs: list[str]  # the eligible enterprises it lacks (the first 500), drawn ones first
    drawn_missing: list[str]  # the drawn enterprises it lacks (after the draw)


class DrawOut(msgspec.Struct):
    id: uuid.UUID
    task_id: uuid.UUID
    status: DrawStatus
    task_number: str
    ratios: dict[str, str]
    population_hash: str
    eligible_count: int
    excluded: dict[str, int]
    commitment: str
    entropy_source: str
    announced_at: dt.datetime
    public_entropy: str | None = None
    seed: str | None = None
    selected_count: int | None = None
    drawn_at: dt.datetime | None = None
    void_reason: str | None = None
    selected: list[DrawnObject] = []
    partner_gaps: list[PartnerGap] = []  # joint draws not intersected with the partners' registries


class QueuedOut(msgspec.Struct):
    """A large announce or draw handed to a background job."""

    task_id: uuid.UUID
    status: TaskStatus
    job_id: uuid.UUID
    message: str
    queued: bool = True


# ---- teams ----------------------------------------------------------------------------------------------------


class MatchRequest(Input):
    load_slack: Annotated[int, msgspec.Meta(ge=0, le=5)] = 1


class AdjustRequest(Input):
    uscc: Uscc
    slot: Slot
    inspector_id: uuid.UUID
    reason: Reason


class TeamMemberOut(msgspec.Struct):
    slot: int
    slot_label: str
    inspector_id: uuid.UUID
    name: str
    licence_no: str
    section: str | None
    adjusted: bool


class TeamOut(msgspec.Struct):
    """One drawn enterprise and its inspectors, slot by slot."""

    uscc: str
    name: str
    address: str
    members: list[TeamMemberOut]


class AdjustmentOut(msgspec.Struct):
    uscc: str
    slot: int
    reason: str
    adjusted_by: str
    adjusted_at: str  # ISO 8601 with its UTC offset, as first published
    old_name: str | None
    new_name: str
    department_name: str | None = None  # the department whose slot it was (joint teams)


class TeamsOut(msgspec.Struct):
    """The teams of an internal task; before the matching only ``matched``, ``teams`` and ``adjustments``."""

    matched: bool
    matched_at: dt.datetime | UnsetType = UNSET
    matched_by: str | UnsetType = UNSET
    load_slack: int | UnsetType = UNSET
    caps: dict[str, int] | UnsetType = UNSET
    slot_labels: list[str] | UnsetType = UNSET
    teams: list[TeamOut] = []
    adjustments: list[AdjustmentOut] = []


class JointMemberOut(msgspec.Struct):
    """A member of a merged team of a 部门联合 task (each department's member is that department's row)."""

    uscc: str
    slot: int
    inspector_id: uuid.UUID
    inspector_name: str
    licence_no: str
    department_code: str
    slot_label: str
    adjusted: bool = False


class JointTeamOut(msgspec.Struct):
    uscc: str
    members: list[JointMemberOut]


class JointTeamsOut(msgspec.Struct):
    """The teams of a 部门联合 task as the current department may see them (a partner sees its own members)."""

    matched: bool
    teams: list[JointTeamOut]
    adjustments: list[AdjustmentOut] = []


class TaskAssignment(msgspec.Struct):
    """An enterprise the signed-in inspector checks and enters the result of (谁检查、谁录入): on an internal team
    (``Assignment``) or, built by federation, as one of the department's members of a joint team. Result entry's
    task list shows both."""

    task_id: uuid.UUID
    task_name: str
    task_number: str
    plan_number: str
    start_month: dt.date
    end_month: dt.date
    status: TaskStatus
    uscc: str
    object_name: str


class Assignment(TaskAssignment):
    """An enterprise on whose (internal) team the signed-in inspector sits (GET /api/my/assignments)."""

    address: str
    slot: int


# ---- the public draw register ----------------------------------------------------------------------------------


class PublicSelected(msgspec.Struct, frozen=True):
    """One entry of the public list of drawn enterprises (公示抽取对象名单)."""

    stratum: str
    rank: int
    uscc: str
    name: str


class PublicAdjustment(msgspec.Struct, frozen=True):
    """One entry of the public list of manual team changes."""

    uscc: str
    slot: int
    old: str
    new: str
    reason: str
    at: str  # ISO 8601 with its UTC offset, to the second
    department_name: str | None = None  # whose slot (joint draws name every department)


class PublicDrawOut(msgspec.Struct):
    """A draw as the public register shows it: the announcement, and after the draw whether a proof exists."""

    draw_id: uuid.UUID
    task_id: uuid.UUID
    department_code: str
    department_name: str
    region_code: str
    plan_number: str
    plan_name: str
    task_number: str
    task_name: str
    status: DrawStatus
    ratios: dict[str, str]
    population_hash: str
    eligible_count: int
    commitment: str
    entropy_source: str
    announced_at: dt.datetime
    drawn_at: dt.datetime | None
    selected_count: int | None
    voided_at: dt.datetime | None
    void_reason: str | None
    has_proof: bool
    has_matching: bool
    adjustments: list[PublicAdjustment]
    departments: list[str] = []  # every department of a joint draw, lead first (empty: the department's own)
    # Exclusions stated with the announcement: ``cooldown_months`` and ``county_cooldown`` (enterprises checked by any
    # department of the county within those months, left out before the list was frozen).
    exclusions: dict[str, int] = {}
