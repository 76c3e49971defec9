"""States of joint checks (部门联合抽查); the values are the words users see and the database stores."""

from __future__ import annotations

from enum import StrEnum


class ParticipationStatus(StrEnum):
    INVITED = "邀请中"
    ACCEPTED = "已接受"
    DECLINED = "已拒绝"
    WITHDRAWN = "已退出"


class ReferralStatus(StrEnum):
    RECEIVED = "待受理"
    ACCEPTED = "已受理"
    HANDLING = "处理中"
    CLOSED = "已办结"


class VisitStatus(StrEnum):
    PROPOSED = "待确认"
    CONFIRMED = "已确认"
