"""Exclusions are applied before freezing and shown: recently checked enterprises and the annual cap."""

from __future__ import annotations

import datetime as dt
from typing import Any

import asyncpg

from services.draw.proof import load_proof
from services.identity.provisioning import department_id
from shared.db import asyncpg_dsn
from tests.planning.conftest import SEED_TASK_2023001
from tests.support.services import run

YJJ = department_id("130528-yjj")


def _published_task(planner: Any, year: int, **task: Any) -> dict[str, Any]:
    plan = planner.post("/api/plans", {"year": year, "kind": "本部门", "initiating_section": "zfjdg"}).json()
    body = {**SEED_TASK_2023001, "start_month": f"{year}-05", "end_month": f"{year}-06", **task}
    created = planner.post(f"/api/plans/{plan['id']}/tasks", body)
    assert created.status_code == 201, created.text
    planner.post(f"/api/plans/{plan['id']}/publish")
    return created.json()


async def _recently_checked_in_scope(admin_url: str, since: dt.date) -> int:
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM registry_objects WHERE tenant_id = $1 AND industry = '危化' AND status = '在营'"
                " AND active AND direct_supervision AND last_checked_on >= $2",
                YJJ,
                since,
            )
        )
    finally:
        await conn.close()


async def _mark_checked(admin_url: str, count: int, when: dt.date) -> dict[str, dt.date | None]:
    """Record a check on ``count`` enterprises; returns their previous last-checked dates (for ``_restore``)."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        rows = await conn.fetch(
            "UPDATE registry_objects o SET last_checked_on = $3 FROM (SELECT id, last_checked_on FROM registry_objects"
            " WHERE tenant_id = $1 AND industry = '危化' AND status = '在营' ORDER BY uscc LIMIT $2 FOR UPDATE) old"
            " WHERE o.id = old.id RETURNING o.uscc, old.last_checked_on",
            YJJ,
            count,
            when,
        )
        return {r["uscc"]: r["last_checked_on"] for r in rows}
    finally:
        await conn.close()


async def _restore(admin_url: str, previous: dict[str, dt.date | None]) -> None:
    """Put the last-checked dates back: later tests draw from the same registry."""
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.executemany(
            "UPDATE registry_objects SET last_checked_on = $3 WHERE tenant_id = $1 AND uscc = $2",
            [(YJJ, uscc, day) for uscc, day in previous.items()],
        )
    finally:
        await conn.close()


def test_recently_checked_are_excluded_and_counted(as_user: Any, http: Any, db_urls: dict[str, str]) -> None:
    planner = as_user("yjj-planner")
    checked = run(_mark_checked, db_urls["admin"], 15, dt.date(2024, 11, 20))
    try:
        task = _published_task(planner, 2025, exclude_checked_within_months=12)
        announced = planner.post(f"/api/tasks/{task['id']}/announce", {}).json()
        # Other tests may have recorded checks too: compare with an independent count of the same window.
        expected = run(_recently_checked_in_scope, db_urls["admin"], dt.date(2024, 5, 1))
        assert announced["excluded"]["recently_checked"] == expected >= 15
        planner.post(f"/api/tasks/{task['id']}/draw", {})
        proof = load_proof(http.get(f"/public/draws/{announced['id']}/proof.json").content)
        assert not {e.uscc for e in proof.eligible} & set(checked)
        # A window that ends before the checks does not exclude them.
        other = _published_task(planner, 2025, exclude_checked_within_months=1)
        expected = run(_recently_checked_in_scope, db_urls["admin"], dt.date(2025, 4, 1))
        announced = planner.post(f"/api/tasks/{other['id']}/announce", {}).json()
        assert announced["excluded"]["recently_checked"] == expected
    finally:
        run(_restore, db_urls["admin"], checked)


def test_annual_cap_excludes_enterprises_already_drawn_this_year(as_user: Any, http: Any) -> None:
    planner = as_user("yjj-planner")
    first = _published_task(planner, 2027, class_ratios={"A": "50%", "B": "50%", "C": "50%", "D": "50%"})
    planner.post(f"/api/tasks/{first['id']}/announce", {})
    drawn = planner.post(f"/api/tasks/{first['id']}/draw", {}).json()
    drawn_usccs = {s["uscc"] for s in planner.get(f"/api/draws/{drawn['id']}").json()["selected"]}

    second = _published_task(planner, 2027, annual_cap=1)
    announced = planner.post(f"/api/tasks/{second['id']}/announce", {}).json()
    assert announced["excluded"]["at_annual_cap"] == len(drawn_usccs)
    planner.post(f"/api/tasks/{second['id']}/draw", {})
    proof = load_proof(http.get(f"/public/draws/{announced['id']}/proof.json").content)
    assert not {e.uscc for e in proof.eligible} & drawn_usccs
    assert announced["eligible_count"] + len(drawn_usccs) == drawn["eligible_count"]
