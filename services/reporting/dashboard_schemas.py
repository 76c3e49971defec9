"""What the oversight dashboard answers (GET /api/oversight/dashboard, the /oversight page) and the rows of the
queries behind it (``dashboard_repository``)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import msgspec

from services.reporting.schemas import MonthlyReportStatus


class DepartmentCounts(msgspec.Struct):
    """A department of the scope with its year's counts (``dashboard_repository.DASHBOARD_SQL``)."""

    id: uuid.UUID
    code: str
    name: str
    short_name: str
    registry_size: int
    objects_checked: int
    hazards: int
    major_hazards: int
    rectified: int
    overdue_hazards: int
    internal_joint: int
    joint_led: int
    joint_joined: int
    reports_submitted: int


class MonthCounts(msgspec.Struct):
    tenant_id: uuid.UUID
    month: int
    results: int
    published: int
    on_time: int
    overdue_results: int


class JointTaskCounts(msgspec.Struct):
    tenant_id: uuid.UUID
    plan_id: uuid.UUID
    plan_number: str
    task_id: uuid.UUID
    task_number: str
    task_name: str
    eligible_count: int | None
    selected_count: int | None
    checked: int
    published: int


class OverdueRow(msgspec.Struct):
    tenant_id: uuid.UUID
    id: uuid.UUID
    name: str
    status: str
    due_on: dt.date


class ReportOfYear(msgspec.Struct):
    id: uuid.UUID
    tenant_id: uuid.UUID
    month: int
    status: MonthlyReportStatus
    submitted_at: dt.datetime | None


class DashboardRows(msgspec.Struct):
    departments: list[DepartmentCounts]
    monthly: list[MonthCounts]
    joint_tasks: list[JointTaskCounts]
    overdue: list[OverdueRow]
    reports: list[ReportOfYear]


class JointShare(msgspec.Struct):
    plan_number: str
    task_number: str
    task_name: str
    task_id: str
    eligible: int | None
    selected: int | None
    share: Decimal | None
    meets_target: bool
    # Progress: drawn enterprises with a check entered (any department's part the reader may see: the overseer
    # every department's, a department its own) and unified records published.
    checked: int = 0
    published: int = 0
    plan_id: str = ""


class MonthSummary(msgspec.Struct):
    month: int
    results: int
    published: int
    on_time: int


class DepartmentView(msgspec.Struct):
    """A department on the dashboard; rates are exact decimals (strings in JSON)."""

    code: str
    name: str
    short_name: str
    registry_size: int
    objects_checked: int
    hazards: int
    major_hazards: int
    rectified: int
    overdue_hazards: int
    internal_joint: int
    joint_led: int
    joint_joined: int
    reports_submitted: int
    results: int
    published: int
    on_time: int
    overdue_results: int
    registry_share: Decimal | None
    registry_meets: bool
    disclosure_rate: Decimal | None
    disclosure_meets: bool
    on_time_rate: Decimal | None
    internal_joint_meets: bool
    joint_tasks: list[JointShare]
    months: list[MonthSummary]
    reports: dict[int, str]
    report_ids: dict[int, str]
    reports_overdue: int


class Targets(msgspec.Struct):
    registry_share: str
    joint_share: str
    disclosure_rate: str
    internal_joint: int


class Totals(msgspec.Struct):
    registry_size: int
    objects_checked: int
    results: int
    published: int
    on_time: int
    overdue_results: int
    hazards: int
    rectified: int
    overdue_hazards: int
    internal_joint: int
    joint_led: int
    joint_joined: int
    reports_submitted: int


class OverdueResult(msgspec.Struct):
    department_code: str
    result_id: str
    name: str
    status: str
    due_on: str


class Dashboard(msgspec.Struct):
    year: int
    today: str
    county_view: bool
    targets: Targets
    departments: list[DepartmentView]
    totals: Totals
    overdue: list[OverdueResult]


# ---- the overseer's read-only view of a plan (GET /api/oversight/plans/{plan_id}) ----------------------------------


class PlanTaskProgress(msgspec.Struct):
    id: uuid.UUID
    number: str
    name: str
    status: str
    start_month: dt.date
    end_month: dt.date
    eligible: int | None
    drawn: int | None
    checked: int
    published: int


class PlanParticipant(msgspec.Struct):
    department: str
    status: str


class OversightPlanRow(msgspec.Struct):
    id: uuid.UUID
    number: str
    name: str
    year: int
    kind: str
    status: str
    back_entry: bool
    table_date: dt.date
    department: str


class OversightPlan(msgspec.Struct):
    """A plan as the county overseer reads it (read-only): its lead, partners, and each task's progress."""

    id: uuid.UUID
    number: str
    name: str
    year: int
    kind: str
    status: str
    back_entry: bool
    table_date: dt.date
    department: str
    participants: list[PlanParticipant]
    tasks: list[PlanTaskProgress]


# ---- the drill-down: a department, its plans, a task and its enterprises (GET /api/oversight/departments/…) ------


class DepartmentPlan(msgspec.Struct):
    """A plan of the year the department leads or takes part in, with its progress."""

    id: uuid.UUID
    number: str
    name: str
    kind: str
    status: str
    back_entry: bool
    role: str  # 本部门, 牵头 or 参与
    department: str
    tasks: int
    drawn: int
    checked: int
    published: int


class OversightDepartment(msgspec.Struct):
    """A department's year as the overseer drills down to it: its figures against the targets, its plans, its
    overdue results."""

    year: int
    today: str
    department: DepartmentView
    plans: list[DepartmentPlan]
    overdue: list[OverdueResult]


class TaskHead(msgspec.Struct):
    id: uuid.UUID
    number: str
    name: str
    status: str
    start_month: dt.date
    end_month: dt.date
    plan_id: uuid.UUID
    plan_number: str
    plan_name: str
    plan_year: int
    kind: str
    department: str
    department_code: str
    draw_id: uuid.UUID | None
    eligible: int | None
    drawn: int | None


class TaskResultRow(msgspec.Struct):
    uscc: str
    department: str
    status: str
    check_date: dt.date | None
    due_on: dt.date
    result_id: uuid.UUID


class TaskEnterprise(msgspec.Struct):
    """A drawn enterprise of the task with where its check stands (未录入 before any entry)."""

    rank: int
    stratum: str
    uscc: str
    name: str
    status: str
    check_date: dt.date | None
    due_on: dt.date | None
    overdue: bool
    departments: list[str]
    public_id: uuid.UUID | None


class OversightTask(msgspec.Struct):
    """A task read-only with every drawn enterprise and its progress: the end of the drill-down."""

    task: TaskHead
    enterprises: list[TaskEnterprise]
    counts: dict[str, int]  # enterprises per status
