"""Rules of reports and county oversight (no SQL here; see repository.py and dashboard_repository.py).

* Monthly report (附件1, ``monthly``): per department and month, filled from the data; the fields the data cannot
  know are editable while it is a draft; due by the 23rd of the following month (the reminder job runs on the 20th).
* Post-implementation report (``tasks``): per task, due 2 days after the task's implementation (its last check
  date); sending it stores it as submitted to 执法监督股 and notifies the department.
* Annual plan tables (附件2 内部联合, 附件3 部门联合, ``plan_tables``) in the seed's columns.
* Dashboard (``dashboard``): the county's departments (overseer) or the active department only, against the seed's
  targets; a joint task's progress, and any plan read-only with its tasks' progress (``oversight_plan``).
"""

from __future__ import annotations

from services.reporting.dashboard import (
    INTERNAL_JOINT_TARGET,
    JOINT_TARGET,
    REGISTRY_TARGET,
    dashboard,
    oversight_plan,
    pct,
    rate,
)
from services.reporting.monthly import (
    EDITABLE,
    REMIND_DAY,
    REPORT_DUE_DAY,
    check_period,
    cn_date,
    last_month,
    month_bounds,
    monthly_data,
    monthly_due,
    monthly_report,
    monthly_report_by_id,
    remind_monthly,
    save_monthly,
    stored_report,
    submit_monthly,
)
from services.reporting.plan_tables import ANNEX_KIND, plan_table, ratio_text
from services.reporting.schemas import MonthlyFields
from services.reporting.tasks import (
    REPORT_SECTION,
    TASK_REPORT_DAYS,
    implemented_tasks,
    submit_task_report,
    task_report,
)

__all__ = [
    "ANNEX_KIND",
    "EDITABLE",
    "INTERNAL_JOINT_TARGET",
    "JOINT_TARGET",
    "REGISTRY_TARGET",
    "REMIND_DAY",
    "REPORT_DUE_DAY",
    "REPORT_SECTION",
    "TASK_REPORT_DAYS",
    "MonthlyFields",
    "check_period",
    "cn_date",
    "dashboard",
    "implemented_tasks",
    "last_month",
    "month_bounds",
    "monthly_data",
    "monthly_due",
    "monthly_report",
    "monthly_report_by_id",
    "oversight_plan",
    "pct",
    "plan_table",
    "rate",
    "ratio_text",
    "remind_monthly",
    "save_monthly",
    "stored_report",
    "submit_monthly",
    "submit_task_report",
    "task_report",
]
