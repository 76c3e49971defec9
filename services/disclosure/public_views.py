"""What the public pages show beyond a search: an enterprise's checks across departments (published, and drawn but
not yet published), a task before and after its results are published, the departments to filter by."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
import uuid

import msgspec

from services.disclosure import repository as repo
from services.disclosure import repository_public as browse
from services.disclosure import search
from services.disclosure.reader import PublicReader
from services.disclosure.schemas import DepartmentOption, EnterpriseView, ListRow, TaskDraw

DEPARTMENTS_SECONDS = 300.0
FIRST_YEAR = 2019  # the year filter offers the years from here to the current one
_departments: tuple[float, list[DepartmentOption]] | None = None
_lock = asyncio.Lock()


def years(today: dt.date | None = None) -> list[int]:
    this = (today or dt.date.today()).year
    return list(range(this, FIRST_YEAR - 1, -1))


async def departments(reader: PublicReader) -> list[DepartmentOption]:
    """The departments that have published anything, by name (cached a few minutes per process)."""
    global _departments
    if _departments is not None and _departments[0] > time.monotonic():
        return _departments[1]
    async with _lock:
        if _departments is None or _departments[0] <= time.monotonic():
            found = sorted(await browse.departments(reader), key=lambda d: d.code)
            _departments = (time.monotonic() + DEPARTMENTS_SECONDS, found)
        return _departments[1]


def clear_cache() -> None:
    global _departments
    _departments = None


def clean_uscc(value: str) -> str | None:
    """The USCC as stored (upper case), None when the text is not one."""
    value = value.strip().upper()
    return value if search.is_uscc(value) else None


async def enterprise(reader: PublicReader, uscc: str) -> EnterpriseView | None:
    """Every published check of the enterprise, newest first, and the draws that drew it whose task has no published
    record of it yet; None when the public register knows nothing of it."""
    published = await browse.enterprise_records(reader, uscc)
    drawn = await browse.drawn_checks(reader, uscc)
    done = {r.task_id for r in published}
    in_progress = [d for d in drawn if d.task_id not in done]
    if not published and not in_progress:
        return None
    name = published[0].enterprise_name if published else (in_progress[0].enterprise_name or uscc)
    return EnterpriseView(uscc=uscc, name=name, published=published, in_progress=in_progress)


class TaskView(msgspec.Struct, frozen=True):
    """A task on the public site: its published records and, when the register has it, its draw."""

    task_id: uuid.UUID
    rows: list[ListRow]
    draw: TaskDraw | None

    @property
    def title(self) -> str:
        return self.rows[0].task_name if self.rows else (self.draw.task_name if self.draw else "")


async def task(reader: PublicReader, task_id: uuid.UUID) -> TaskView | None:
    """None when neither the published records nor the draw register know the task."""
    rows = await repo.task_results(reader, task_id)
    draw = await browse.task_draw(reader, task_id)
    if not rows and draw is None:
        return None
    return TaskView(task_id=task_id, rows=rows, draw=draw)
