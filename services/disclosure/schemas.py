"""What other services hand to disclosure (the public record of one enterprise's check, 一企一表) and what disclosure
answers: rows of the public register, the official calendar of a year."""

from __future__ import annotations

import datetime as dt
import uuid

import msgspec


class DepartmentPart(msgspec.Struct, frozen=True):
    """One department's part of a joint record (部门联合抽查): its own items and findings."""

    department_code: str
    department_name: str
    items: list[str]
    check_date: str
    categories: list[str]
    hazard_count: int
    follow_up: str


class PublicRecord(msgspec.Struct, frozen=True):
    """A published result as the public sees it; ``id`` is the (lead's) result id, written once."""

    id: uuid.UUID
    task_id: uuid.UUID
    draw_id: uuid.UUID | None
    department_code: str
    department_name: str
    region_code: str
    plan_number: str
    plan_name: str
    task_number: str
    task_name: str
    uscc: str
    enterprise_name: str
    address: str | None
    items: str
    check_date: dt.date
    categories: list[str]
    hazard_count: int
    follow_up: str
    published_at: dt.datetime
    departments: list[DepartmentPart] = msgspec.field(default_factory=list)
    back_entry: bool = False  # entered afterwards (补录), shown on the record


class SearchRow(msgspec.Struct, frozen=True):
    """One search result or recent record, as the public pages show it (``repository.SEARCH_COLUMNS``)."""

    id: uuid.UUID
    task_id: uuid.UUID
    department_name: str
    task_name: str
    uscc: str
    enterprise_name: str
    check_date: dt.date
    categories: list[str]
    published_at: dt.datetime


class SearchAnswer(msgspec.Struct, frozen=True):
    """``GET /api/public/results``: the normalised query and its page of results (newest first); ``more``: a next
    page exists (only answered when a filter or a page is given)."""

    q: str
    results: list[SearchRow]
    more: bool = False


class ListRow(msgspec.Struct, frozen=True):
    """A published result in a task's list (``repository.LIST_COLUMNS``)."""

    id: uuid.UUID
    task_id: uuid.UUID
    draw_id: uuid.UUID | None
    department_name: str
    plan_number: str
    task_number: str
    task_name: str
    uscc: str
    enterprise_name: str
    check_date: dt.date
    categories: list[str]
    hazard_count: int
    follow_up: str
    published_at: dt.datetime


class RecordRow(ListRow, frozen=True):
    """A published result with all it shows (``repository.RECORD_COLUMNS``): the record page and the export."""

    department_code: str
    region_code: str
    plan_name: str
    address: str
    items: str
    departments: list[DepartmentPart]
    back_entry: bool = False


class CalendarView(msgspec.Struct):
    """One year of the official calendar as loaded (GET /api/calendar/{year})."""

    year: int
    loaded: bool
    library_knows: bool
    loaded_by: str | None
    loaded_at: dt.datetime | None
    holidays: list[dt.date]
    workdays: list[dt.date]


# The result categories of the national platform (the public vocabulary; inspection records them, the public filters
# by them; tests/inspection/test_public_site.py keeps the two lists equal).
RESULT_CATEGORIES = (
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


class DepartmentOption(msgspec.Struct, frozen=True):
    """A department that has published results (the department filter)."""

    code: str
    name: str


class PublishedDay(msgspec.Struct, frozen=True):
    """Published records of a department by check day and publication day (``repository_public.published_days``)."""

    code: str
    name: str
    check_date: dt.date
    published_on: dt.date
    back_entry: bool
    n: int


class DepartmentStats(msgspec.Struct, frozen=True):
    """A department's year on the public site (only what is public: the draw register and published records).

    ``drawn``: enterprises drawn by its draws of the year; ``checked``: published records whose check was in the year;
    ``published``: records published in the year; ``on_time``: of those (back-entered records aside), published within
    20 working days of the check; ``on_time_of``: how many were judged."""

    code: str
    name: str
    draws: int
    drawn: int
    checked: int
    published: int
    on_time: int
    on_time_of: int
    back_entry: int


class PublicStatistics(msgspec.Struct, frozen=True):
    """``GET /api/public/statistics``: a year's statistics per department, and the county's totals."""

    year: int
    departments: list[DepartmentStats]
    total: DepartmentStats


class DrawnCheck(msgspec.Struct, frozen=True):
    """A draw that drew the enterprise (public draw register)."""

    draw_id: uuid.UUID
    task_id: uuid.UUID
    department_name: str
    plan_number: str
    plan_name: str
    task_number: str
    task_name: str
    drawn_at: dt.datetime
    departments: list[str]
    enterprise_name: str | None


class EnterpriseView(msgspec.Struct, frozen=True):
    """``GET /api/public/enterprises/{uscc}``: every published check of the enterprise, across departments, and the
    draws that drew it whose results are not published yet (已抽中，检查中)."""

    uscc: str
    name: str
    published: list[ListRow]
    in_progress: list[DrawnCheck]


class TaskDraw(msgspec.Struct, frozen=True):
    """A task's current public draw (for a task page before any result is published)."""

    draw_id: uuid.UUID
    task_id: uuid.UUID
    department_name: str
    plan_number: str
    plan_name: str
    task_number: str
    task_name: str
    status: str
    drawn_at: dt.datetime | None
    selected_count: int | None
