"""Where a task stands in the ceremony 公告 → 抽取 → 匹配 → 实施 → 公示, and the task's terms in words people read.

A task is stored as 草稿 until its announcement; under a published plan that means "waiting to be announced", and
the pages say so (never a bare 草稿 under a published plan). Internal codes never reach a page: the stratum "ALL"
is 全部, a numbered slot "检查人员2" is 第2名检查人员, and a scope without a note is described from its filters.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from services.planning.schemas import PlanStatus, TaskStatus

STEPS = ("公告", "抽取", "匹配", "实施", "公示")

# For each state: how many steps are done, the current step's note.
_PROGRESS: dict[TaskStatus, tuple[int, str]] = {
    TaskStatus.DRAFT: (0, "待冻结名单并公告"),
    TaskStatus.ANNOUNCING: (0, "正在冻结名单并公告…"),
    TaskStatus.ANNOUNCED: (1, "待执行抽取"),
    TaskStatus.DRAWING: (1, "正在抽取…"),
    TaskStatus.DRAWN: (2, "待匹配检查人员"),
    TaskStatus.MATCHED: (3, "待检查人员录入结果"),
    TaskStatus.IN_PROGRESS: (3, "检查结果录入、审核中"),
    TaskStatus.COMPLETED: (5, ""),
    TaskStatus.VOIDED: (1, "本次抽取已作废"),
}


class Step(msgspec.Struct, frozen=True):
    label: str
    state: str  # done | current | todo
    note: str = ""


def state_label(task_status: TaskStatus | str, plan_status: PlanStatus | str) -> str:
    """The task's state as shown: 草稿 says why it waits."""
    if task_status == TaskStatus.DRAFT:
        return "待公告抽取" if plan_status == PlanStatus.PUBLISHED else "草稿（计划未发布）"
    return str(task_status)


def steps(task_status: TaskStatus | str, plan_status: PlanStatus | str) -> list[Step]:
    done, note = _PROGRESS.get(TaskStatus(task_status), (0, ""))
    if task_status == TaskStatus.DRAFT and plan_status != PlanStatus.PUBLISHED:
        note = "计划发布后才能公告抽取"
    shown = []
    for i, label in enumerate(STEPS):
        if i < done:
            shown.append(Step(label, "done"))
        elif i == done:
            shown.append(Step(label, "current", note))
        else:
            shown.append(Step(label, "todo"))
    return shown


STRATA = {"ALL": "全部", "A": "A类", "B": "B类", "C": "C类", "D": "D类", "-": "未标注"}


def stratum_word(stratum: str) -> str:
    return STRATA.get(stratum, stratum)


def slot_word(label: str) -> str:
    numbered = re.fullmatch(r"检查人员(\d+)", label)
    return f"第{numbered.group(1)}名检查人员" if numbered else label


def scope_words(task: Any) -> str:
    """The object scope as written in the plan (its note), else described from the filters the task set."""
    if task.scope_note:
        return str(task.scope_note)
    scope = task.scope or {}
    parts = []
    if scope.get("industries"):
        parts.append("行业：" + "、".join(scope["industries"]))
    if scope.get("tags_all"):
        parts.append("标签：" + "、".join(scope["tags_all"]))
    if scope.get("risk_classes"):
        parts.append("信用风险" + "、".join(f"{c}类" for c in scope["risk_classes"]))
    if scope.get("major_hazard_only"):
        parts.append("仅重大危险源企业")
    if scope.get("direct_supervision_only"):
        parts.append("仅直接监管")
    if scope.get("intersect_partners"):
        parts.append("各联合部门名录库共有的企业")
    return "；".join(parts) if parts else "本部门名录库全部在营企业"
