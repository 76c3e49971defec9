"""States of reports (the values are the words users see and the database stores), the editable fields of the monthly
report, what the reports API and pages answer, and the rows of the queries behind them."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

import msgspec

from shared.boundary import Input, Text40, Text200, Text1000


class MonthlyReportStatus(StrEnum):
    DRAFT = "草稿"
    SUBMITTED = "已提交"


NOT_FILED = "未填报"  # a month with no stored report (shown, never stored)
TASK_REPORTED = "已报送"  # the one state of a stored task report
TASK_NOT_REPORTED = "未报送"


class MonthlyFields(Input):
    meetings: Text1000 = ""
    documents: Text1000 = ""
    trainings: Text1000 = ""
    contact_person: Text200 = ""
    contact_phone: Text40 = ""
    mobile: Text40 = ""


# ---- monthly report (附件1) -------------------------------------------------------------------------------------


class OwnTask(msgspec.Struct):
    """Section 二.4: a task of the department's own plans it checked enterprises of in the month (``subjects``: the
    enterprises checked that month, by each result's check date, so each check counts once)."""

    department: str
    items: int
    subjects: int
    disclosure: str
    published: int
    document: str
    task_id: str
    back_entry: bool = False  # the plan was entered afterwards (补录)


class JointTask(msgspec.Struct):
    """Section 二.5: a task of a cross-department plan the department leads or joined, with the department's own
    part of the month: the enterprises its inspectors checked that month (not the drawn ones, not per window)."""

    lead: str
    partners: str
    subjects: int
    disclosure: str
    published: int
    document: str
    task_id: str
    back_entry: bool = False


class MonthlyData(msgspec.Struct):
    """The numbers of sections 二.4 and 二.5 (stored as the snapshot of a submitted report)."""

    own: list[OwnTask]
    joint: list[JointTask]


class MonthlyReport(msgspec.Struct):
    id: str | None
    department: str
    department_code: str
    year: int
    month: int
    status: str  # a MonthlyReportStatus, or NOT_FILED
    fields: MonthlyFields
    own: list[OwnTask]
    joint: list[JointTask]
    due_on: str
    overdue: bool
    submitted_at: str | None
    submitted_by: str | None
    filled_on: str


class MonthlyReportRow(msgspec.Struct):
    id: uuid.UUID
    year: int
    month: int
    status: MonthlyReportStatus
    meetings: str
    documents: str
    trainings: str
    contact_person: str
    contact_phone: str
    mobile: str
    snapshot: MonthlyData | None
    submitted_at: dt.datetime | None
    submitted_by_name: str | None
    updated_at: dt.datetime


class DepartmentReportRow(MonthlyReportRow):
    department: str
    department_code: str


class OwnPlanRow(msgspec.Struct):
    plan_number: str
    plan_name: str
    task_id: uuid.UUID
    task_number: str
    task_name: str
    items: int
    section_ids: list[uuid.UUID] | None
    initiating_id: uuid.UUID | None
    subjects: int
    published: int
    back_entry: bool


class JointPlanRow(msgspec.Struct):
    plan_number: str
    plan_name: str
    task_id: uuid.UUID
    task_number: str
    task_name: str
    lead_name: str
    partners: str | None
    subjects: int
    published: int
    back_entry: bool


# ---- post-implementation (task) report ---------------------------------------------------------------------------


class TaskHazard(msgspec.Struct):
    description: str
    severity: str
    rectify_by: str | None
    status: str


class TaskFollowUp(msgspec.Struct):
    action: str
    target: str
    status: str


class TaskEnterprise(msgspec.Struct):
    """One enterprise checked in the task (stored in the snapshot of a submitted report)."""

    uscc: str
    name: str
    status: str
    check_date: str | None
    categories: list[str]
    summary: str
    hazards: list[TaskHazard]
    followups: list[TaskFollowUp]
    result_id: str


class TaskSnapshot(msgspec.Struct):
    enterprises: list[TaskEnterprise]


class TaskReport(msgspec.Struct):
    task_id: str
    department: str
    plan_number: str
    plan_name: str
    task_number: str
    task_name: str
    period: str
    enterprises: list[TaskEnterprise]
    checked: int
    hazards: int
    with_problems: int
    due_on: str
    overdue: bool
    status: str  # TASK_REPORTED or TASK_NOT_REPORTED
    recipient: str
    id: str | None
    submitted_at: str | None
    submitted_by: str | None
    # A joint task's partner reports its own part: the lead department's name (None for the department's own task).
    lead: str | None = None
    back_entry: bool = False


class TaskHeader(msgspec.Struct):
    id: uuid.UUID
    task_number: str
    task_name: str
    status: str
    start_month: dt.date
    end_month: dt.date
    plan_number: str
    plan_name: str
    kind: str
    back_entry: bool
    lead_name: str | None
    last_check: dt.date | None
    last_entered: dt.datetime | None


class TaskResultRow(msgspec.Struct):
    id: uuid.UUID
    uscc: str
    name: str
    status: str
    check_date: dt.date | None
    categories: list[str]
    summary: str
    hazards: list[TaskHazard]
    followups: list[TaskFollowUp]


class TaskReportRow(msgspec.Struct):
    id: uuid.UUID
    task_id: uuid.UUID
    status: str
    recipient_section: str
    due_on: dt.date
    snapshot: TaskSnapshot
    submitted_at: dt.datetime
    submitted_by_name: str


class ImplementedTask(msgspec.Struct):
    """A task with results, and when its report was sent (GET /api/reports/tasks)."""

    id: uuid.UUID
    plan_number: str
    task_number: str
    task_name: str
    status: str
    results: int
    reported_at: dt.datetime | None
    back_entry: bool = False


# ---- annual plan tables (附件2 / 附件3) ----------------------------------------------------------------------------


class PlanItem(msgspec.Struct):
    """An item of a task with its check points (the plan tables' 抽查事项 column is derived from them)."""

    name: str
    points: list[str]


class PlanTableRow(msgspec.Struct):
    plan_id: uuid.UUID
    plan_number: str
    plan_name: str
    table_date: dt.date
    task_number: str
    task_name: str
    draw_type: str
    ratio_mode: str
    ratios: dict[str, str | int | float]
    ratio_note: str
    item_note: str
    scope_note: str
    start_month: dt.date
    end_month: dt.date
    initiating_id: uuid.UUID | None
    section_ids: list[uuid.UUID] | None
    scope: dict[str, object]
    year: int
    back_entry: bool
    items: list[PlanItem]
    partners: str | None


class PlanTable(msgspec.Struct):
    year: int
    annex: int
    department: str
    table_date: str
    rows: list[list[str]]
    back_entry: list[str] = []  # numbers of the plans entered afterwards (补录), named below the table
