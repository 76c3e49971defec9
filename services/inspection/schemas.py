"""Request bodies of the results API (the pages convert their forms into the same structs)."""

from __future__ import annotations

import datetime as dt
import uuid
from enum import StrEnum

import msgspec

OUTCOMES = ("符合", "不符合", "不涉及")
SEVERITIES = ("重大隐患", "一般隐患")
ACTIONS = ("无需后续处置", "责令改正并跟踪", "抄告相关部门", "移送办案机构", "移送司法机关")
CATEGORIES = (
    "未发现问题",
    "发现问题已责令改正",
    "发现问题待后续处理",
    "未按规定公示应当公示的信息",
    "公示信息隐瞒真实情况弄虚作假",
    "通过登记的住所（经营场所）无法联系",
    "不配合检查情节严重",
    "未发现开展本次抽查涉及的经营活动",
    "已关闭停业或正在组织清算",
    "已注销",
    "违反其他部门相关规定",
)


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


class PointIn(msgspec.Struct, forbid_unknown_fields=True):
    check_point_id: uuid.UUID
    outcome: str
    note: str = ""


class HazardIn(msgspec.Struct, forbid_unknown_fields=True):
    description: str
    severity: str
    rectify_by: dt.date | None = None
    id: uuid.UUID | None = None


class FollowUpIn(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    target: str = ""
    note: str = ""
    id: uuid.UUID | None = None


class ResultDraft(msgspec.Struct, forbid_unknown_fields=True):
    check_date: dt.date | None = None
    points: list[PointIn] = msgspec.field(default_factory=list)
    categories: list[str] = msgspec.field(default_factory=list)
    summary: str = ""
    hazards: list[HazardIn] = msgspec.field(default_factory=list)
    follow_ups: list[FollowUpIn] = msgspec.field(default_factory=list)


class ReturnRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: str


class RecheckRequest(msgspec.Struct, forbid_unknown_fields=True):
    rechecked_on: dt.date
    rectified: bool
    note: str = ""


class CloseRequest(msgspec.Struct, forbid_unknown_fields=True):
    note: str = ""
