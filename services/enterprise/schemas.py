"""Contracts of the enterprise's side: visits and their codes, the public scan, evaluations, the burden ledger."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum
from typing import Annotated

import msgspec

from shared.boundary import Code, Input, Name, Note, Reason, Text200, Uscc


class VisitKind(StrEnum):
    RANDOM = "随机抽查"
    JOINT = "部门联合"
    COMPLAINT = "投诉举报"
    REFERRED = "转办交办"
    OTHER = "其他"


OTHER_KINDS = (VisitKind.COMPLAINT, VisitKind.REFERRED, VisitKind.OTHER)


class VisitStatus(StrEnum):
    ACTIVE = "有效"
    CANCELLED = "已取消"


class Period(StrEnum):
    DAY = "日"
    WEEK = "周"
    MONTH = "月"


Rating = Annotated[int, msgspec.Meta(ge=1, le=5, description="评分（1–5）")]
Months = Annotated[int, msgspec.Meta(ge=1, le=36, description="月数")]


# ---- requests -----------------------------------------------------------------------------------------------------


class OtherVisitCreate(Input):
    """A check outside a random plan (投诉举报, 转办交办 …), registered with its reason; it gets a code too."""

    uscc: Uscc
    enterprise_name: Name
    kind: VisitKind
    reason: Reason
    visit_date: dt.date
    legal_basis: Text200 = ""
    inspector_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )


class VisitCancel(Input):
    reason: Reason


class VisitDateSet(Input):
    visit_date: dt.date


class EvaluationIn(Input):
    """The enterprise's evaluation of one visit, with the secret part printed on its notice."""

    secret: Code
    conduct: Rating
    credentials_shown: bool
    burden: Rating
    improper: bool
    comment: Note = ""


class EnterpriseLookup(Input):
    """Self-service: the enterprise's USCC and a code it holds (the public part of any of its notices)."""

    uscc: Uscc
    code: Code


class JointProposal(Input):
    """The overseer proposes that the departments with pending visits to one enterprise merge them."""

    uscc: Uscc
    note: Reason = ""


# ---- the department's view ----------------------------------------------------------------------------------------


class VisitOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    kind: VisitKind
    task_id: uuid.UUID | None
    uscc: str
    enterprise_name: str
    reason: str
    window_start: dt.date
    window_end: dt.date
    visit_date: dt.date | None
    status: VisitStatus
    cancel_reason: str | None
    created_by: str
    created_at: dt.datetime


class BurdenWarning(msgspec.Struct):
    """A threshold an enterprise's visits reach or cross in one period (shown to whoever plans another visit)."""

    uscc: str
    period: Period
    period_start: dt.date
    visits: int
    threshold: int
    new_alert: bool  # this visit crossed it (the alert is raised once per crossing)


class VisitRegistered(msgspec.Struct):
    visit: VisitOut
    warnings: list[BurdenWarning]


# ---- the public scan ----------------------------------------------------------------------------------------------


class CardItem(msgspec.Struct):
    name: str
    legal_basis: str


class CardInspector(msgspec.Struct):
    name: str
    licence: str  # masked
    department: str
    licence_expiry: dt.date | None


class Card(msgspec.Struct):
    """What a scan shows about the visit (``public_visits.card``); never the secret part, never a complaint's
    reason."""

    enterprise_name: str
    departments: list[str]
    notice_no: str
    plan_number: str = ""
    plan_name: str = ""
    task_number: str = ""
    task_name: str = ""
    draw_id: uuid.UUID | None = None
    window_label: str = ""
    items: list[CardItem] = []
    legal_basis: str = ""
    inspectors: list[CardInspector] = []


class PublicVisitRow(msgspec.Struct):
    code: str
    visit_id: uuid.UUID
    department_id: uuid.UUID
    region_code: str
    task_id: uuid.UUID | None
    uscc: str
    kind: VisitKind
    window_start: dt.date
    window_end: dt.date
    visit_date: dt.date | None
    status: VisitStatus
    card: Card
    evaluated: bool


class InspectorOnDay(msgspec.Struct):
    name: str
    licence: str
    department: str
    licence_valid: bool | None  # None: not known to the register (checked when the team was matched)


class WhyUs(msgspec.Struct):
    """Why this enterprise was drawn, recomputed from the published proof (``spotcheck-draw-v1``)."""

    draw_id: uuid.UUID
    stratum: str
    rank: int  # 1-based position within its stratum, ordered by (score, USCC)
    score: str  # hex SHA-256(seed || USCC)
    stratum_size: int
    stratum_drawn: int
    ratio: str
    drawn_total: int
    eligible_total: int
    proof_url: str
    verify_url: str


class ScanOut(msgspec.Struct):
    code: str
    status: VisitStatus
    kind: VisitKind
    uscc: str
    card: Card
    window_start: dt.date
    window_end: dt.date
    visit_date: dt.date | None
    inspectors: list[InspectorOnDay]
    why_us: WhyUs | None
    evaluated: bool


class EvaluationDone(msgspec.Struct):
    code: str
    recorded_at: dt.datetime


class EnterpriseVisit(msgspec.Struct):
    code: str
    kind: VisitKind
    departments: list[str]
    task_name: str
    window_start: dt.date
    window_end: dt.date
    visit_date: dt.date | None
    status: VisitStatus


class EnterpriseRecord(msgspec.Struct):
    id: uuid.UUID
    department_name: str
    task_name: str
    check_date: dt.date
    categories: list[str]
    negative: bool


class CreditRepair(msgspec.Struct):
    region_code: str
    office: str
    steps: list[str]
    contact: str


class EnterpriseView(msgspec.Struct):
    uscc: str
    enterprise_name: str
    records: list[EnterpriseRecord]
    pending: list[EnterpriseVisit]
    credit_repair: CreditRepair | None  # shown when a record found problems


# ---- the county overseer ------------------------------------------------------------------------------------------


class CountySettings(msgspec.Struct):
    region_code: str
    day_limit: int = 1
    week_limit: int = 2
    month_limit: int = 3
    cooldown_months: int | None = None
    repair_office: str = ""
    repair_steps: str = ""
    repair_contact: str = ""
    supervision_phone: str = ""


class EvaluationRow(msgspec.Struct):
    department_id: uuid.UUID
    team: str
    conduct: int
    credentials_shown: bool
    burden: int
    improper: bool
    comment: str
    created_at: dt.datetime


class EvaluationGroup(msgspec.Struct):
    """Evaluations of one department, or of one inspector group of it: counts and averages, never an enterprise."""

    department: str
    team: str | None
    count: int
    conduct: float
    burden: float
    credentials_not_shown: int
    improper: int
    comments: list[str]


class EvaluationsOut(msgspec.Struct):
    by_department: list[EvaluationGroup]
    by_team: list[EvaluationGroup]


class BurdenRow(msgspec.Struct):
    uscc: str
    enterprise_name: str
    visits: int
    departments: list[str]
    pending: int
    last_visit: dt.date | None


class AlertOut(msgspec.Struct):
    uscc: str
    enterprise_name: str
    period: Period
    period_start: dt.date
    visits: int
    threshold: int
    created_at: dt.datetime


class BurdenOut(msgspec.Struct):
    year: int
    settings: CountySettings
    most_visited: list[BurdenRow]
    alerts: list[AlertOut]


class ClassFindings(msgspec.Struct):
    department: str
    risk_class: str
    checks: int
    with_problems: int
    share: float  # with_problems / checks


class FindingsOut(msgspec.Struct):
    year: int
    rows: list[ClassFindings]
    totals: list[ClassFindings]  # all departments together, per class ("全县")


class ProposalOut(msgspec.Struct):
    uscc: str
    notified: list[str]
