"""States of reports; the values are the words users see and the database stores."""

from __future__ import annotations

from enum import StrEnum


class MonthlyReportStatus(StrEnum):
    DRAFT = "草稿"
    SUBMITTED = "已提交"
