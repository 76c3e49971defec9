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
    """``GET /api/public/results``: the normalised query and its page of results (newest first)."""

    q: str
    results: list[SearchRow]


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
