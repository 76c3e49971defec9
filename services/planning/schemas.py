"""Request and response shapes for plans, tasks and draws (msgspec: validated at the edge)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated, Literal

import msgspec

Kind = Literal["本部门", "内部联合", "部门联合"]
DrawType = Literal["定向", "不定向"]
RiskClass = Literal["A", "B", "C", "D"]
Month = Annotated[str, msgspec.Meta(pattern=r"^\d{4}-(0[1-9]|1[0-2])$", description="月份，如 2023-05")]
SectionCode = Annotated[str, msgspec.Meta(pattern=r"^[a-z0-9]{2,20}$")]


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


class PlanCreate(msgspec.Struct, forbid_unknown_fields=True):
    year: Annotated[int, msgspec.Meta(ge=2000, le=2100)]
    kind: Kind
    initiating_section: SectionCode
    joint_sections: list[SectionCode] = []
    table_date: dt.date | None = None


class Scope(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Object scope of a 定向 task; every filter narrows the registry (AND)."""

    industries: list[Annotated[str, msgspec.Meta(min_length=1, max_length=20)]] = []
    tags_all: list[Annotated[str, msgspec.Meta(min_length=1, max_length=40)]] = []
    risk_classes: list[RiskClass] = []
    major_hazard_only: bool = False
    direct_supervision_only: bool = False
    # Joint plans only: keep enterprises that are also in every accepted partner's registry (matched by USCC).
    intersect_partners: bool = False


class TaskCreate(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=2, max_length=120)]
    draw_type: DrawType
    start_month: Month
    end_month: Month
    item_codes: Annotated[list[str], msgspec.Meta(min_length=1)]
    ratio: str | None = None
    class_ratios: dict[RiskClass, str] | None = None
    ratio_note: Annotated[str, msgspec.Meta(max_length=200)] = ""
    item_note: Annotated[str, msgspec.Meta(max_length=500)] = ""
    scope: Scope = msgspec.field(default_factory=Scope)
    scope_note: Annotated[str, msgspec.Meta(max_length=200)] = ""
    initiating_section: SectionCode | None = None
    joint_sections: list[SectionCode] | None = None
    min_inspectors: Annotated[int, msgspec.Meta(ge=2, le=10)] = 2
    exclude_checked_within_months: Annotated[int, msgspec.Meta(ge=1, le=60)] | None = None
    annual_cap: Annotated[int, msgspec.Meta(ge=1, le=50)] | None = None


class AnnounceRequest(msgspec.Struct, forbid_unknown_fields=True):
    entropy_source: Annotated[str, msgspec.Meta(min_length=1, max_length=300)] = "无（仅使用系统密钥）"


class DrawRequest(msgspec.Struct, forbid_unknown_fields=True):
    public_entropy: Annotated[str, msgspec.Meta(max_length=300)] = ""


class VoidRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=5, max_length=500)]


class SectionRef(msgspec.Struct):
    code: str
    name: str


class TaskOut(msgspec.Struct):
    id: uuid.UUID
    plan_id: uuid.UUID
    number: str
    name: str
    draw_type: str
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
    status: str
    draw_id: uuid.UUID | None = None


class PlanOut(msgspec.Struct):
    id: uuid.UUID
    number: str
    name: str
    year: int
    kind: str
    initiating_section: SectionRef | None
    joint_sections: list[SectionRef]
    table_date: dt.date
    status: str
    created_by: str
    tasks: list[TaskOut] = []


class DrawOut(msgspec.Struct):
    id: uuid.UUID
    task_id: uuid.UUID
    status: str
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
    selected: list[dict[str, object]] = []


class QueuedOut(msgspec.Struct):
    """A large announce or draw handed to a background job."""

    task_id: uuid.UUID
    status: str
    job_id: uuid.UUID
    message: str
    queued: bool = True
