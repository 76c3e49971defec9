"""Shared set-up for results tests: a drawn, matched task whose first team includes 张伟 (yjj-insp-whjg)."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from shared.db import asyncpg_dsn
from tests.planning.conftest import SEED_TASK_2023001, as_user, http  # noqa: F401 (fixtures)
from tests.support.services import run

ZHANG_WEI = uuid.UUID("00000000-0000-4000-8000-000000000104")
INSPECTOR = "yjj-insp-whjg"


async def _admin_fetch(url: str, sql: str, *args: Any) -> list[Any]:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def admin_fetch(db_urls: dict[str, str], sql: str, *args: Any) -> list[Any]:
    return run(_admin_fetch, db_urls["admin"], sql, *args)


def matched_task_with_inspector(
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
    live: bool = False,
    task: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Plan → task → announce → draw → match, then make sure 张伟 is on one team (by a recorded adjustment).

    The plan is of 2023, so it is entered as 补录 (back-entry). ``live``: as if it had been entered in its own
    time (the flag cleared as the owner), for the rules of live deadlines and daily reminders."""
    planner = as_user("yjj-planner")
    plan = planner.post(
        "/api/plans",
        {
            "year": 2023,
            "kind": "内部联合",
            "initiating_section": "zfjdg",
            "joint_sections": ["whjgg", "whjcg"],
        },
    ).json()
    assert plan["back_entry"] is True
    created = planner.post(f"/api/plans/{plan['id']}/tasks", task or SEED_TASK_2023001)
    assert created.status_code == 201, created.text
    task = created.json()
    if live:
        admin_fetch(db_urls, "UPDATE plans SET back_entry = false WHERE id = $1", uuid.UUID(plan["id"]))
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    assert planner.post(f"/api/tasks/{task['id']}/announce", {}).status_code == 201
    assert planner.post(f"/api/tasks/{task['id']}/draw", {}).status_code == 200
    teams = planner.post(f"/api/tasks/{task['id']}/match", {})
    assert teams.status_code == 200, teams.text
    zhang = str(admin_fetch(db_urls, "SELECT id FROM inspectors WHERE user_id = $1", ZHANG_WEI)[0]["id"])
    team = next(
        (t for t in teams.json()["teams"] if zhang in {m["inspector_id"] for m in t["members"]}), None
    )
    # An enterprise 张伟 checked last time is not his to check again (回避): take the first team he may join.
    for candidate in [] if team is not None else teams.json()["teams"]:
        adjusted = planner.post(
            f"/api/tasks/{task['id']}/teams/adjust",
            {
                "uscc": candidate["uscc"],
                "slot": 0,
                "inspector_id": zhang,
                "reason": "测试：指定张伟负责该企业的检查",
            },
        )
        if adjusted.status_code == 200:
            team = candidate
            break
        assert adjusted.status_code == 409 and "上次检查" in adjusted.text, adjusted.text
    assert team is not None
    others = [t["uscc"] for t in teams.json()["teams"] if t["uscc"] != team["uscc"]]
    return {
        "task_id": task["id"],
        "uscc": team["uscc"],
        "name": team["name"],
        "plan_id": plan["id"],
        "other_usccs": others,
    }


def complete_draft(points: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        # Inside the task's window (June 2023): a check dated today would count as "recently checked" for the
        # exclusion tests of later plans that share this session's database.
        "check_date": "2023-06-15",
        "points": [{"check_point_id": p["id"], "outcome": "符合"} for p in points],
        "categories": ["未发现问题"],
        "follow_ups": [{"action": "无需后续处置"}],
        "summary": "现场检查未发现问题",
        **extra,
    }
