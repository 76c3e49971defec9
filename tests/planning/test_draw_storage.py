"""How a draw is stored (migration 0051): the frozen list once, the result checked against its draw per statement."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest

from services.identity.provisioning import department_id
from shared.db import asyncpg_dsn
from tests.planning.test_plans_api import _create_published_task
from tests.support.services import run

YJJ = department_id("130528-yjj")
XF = department_id("130528-xfjy")


async def _as_department(url: str, tenant: uuid.UUID | None, sql: str, *args: Any) -> Any:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant) if tenant else "")
            return await conn.fetch(sql, *args)
    finally:
        await conn.close()


def _insert_selected(url: str, tenant: uuid.UUID, draw_id: uuid.UUID) -> None:
    run(
        _as_department,
        url,
        tenant,
        "INSERT INTO draw_selected (tenant_id, draw_id, stratum, rank, uscc, object_id)"
        " VALUES ($1, $2, 'Z', 1, '91130528MA0000000X', $3)",
        tenant,
        draw_id,
        uuid.uuid4(),
    )


def test_result_rows_need_a_draw_of_their_department(as_user: Any, db_urls: dict[str, str]) -> None:
    planner = as_user("yjj-planner")
    _, task = _create_published_task(as_user)
    announced = planner.post(f"/api/tasks/{task['id']}/announce", {}).json()
    draw_id = uuid.UUID(announced["id"])
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        _insert_selected(db_urls["runtime"], YJJ, uuid.uuid4())
    # Another department cannot attach rows to this draw, even under its own tenant id.
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        _insert_selected(db_urls["runtime"], XF, draw_id)
    _insert_selected(
        db_urls["runtime"], YJJ, draw_id
    )  # its own draw: accepted (set-based check, one row here)
    # Like the foreign key it replaces: a draw with a result cannot change its key.
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        run(
            _as_department,
            db_urls["admin"],
            YJJ,
            "UPDATE draws SET id = $1 WHERE id = $2",
            uuid.uuid4(),
            draw_id,
        )


def test_frozen_list_is_stored_once_and_public_only_after_the_draw(
    as_user: Any, db_urls: dict[str, str]
) -> None:
    planner = as_user("yjj-planner")
    _, task = _create_published_task(as_user)
    announced = planner.post(f"/api/tasks/{task['id']}/announce", {}).json()
    draw_id = uuid.UUID(announced["id"])
    public_list = "SELECT public_eligible_list($1) AS l"
    assert run(_as_department, db_urls["runtime"], None, public_list, draw_id)[0]["l"] is None
    assert planner.post(f"/api/tasks/{task['id']}/draw", {"public_entropy": "5"}).status_code == 200

    frozen = run(
        _as_department,
        db_urls["admin"],
        YJJ,
        "SELECT d.eligible_list, p.eligible_list AS copy FROM draws d JOIN public_draws p ON p.draw_id = d.id"
        " WHERE d.id = $1",
        draw_id,
    )[0]
    assert frozen["copy"] is None and len(frozen["eligible_list"]) == 21 * announced["eligible_count"]
    # No tenant scope (the public path): the drawn list comes back byte for byte, nothing else is readable.
    assert (
        run(_as_department, db_urls["runtime"], None, public_list, draw_id)[0]["l"] == frozen["eligible_list"]
    )
    assert run(_as_department, db_urls["runtime"], None, "SELECT count(*) AS n FROM draws")[0]["n"] == 0
