"""The dashboard's numbers equal numbers computed independently (in Python) from the raw records."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.inspection.conftest import admin_fetch
from tests.planning.conftest import SEED_TASK_2023001
from tests.support.services import run

YEAR = 2033  # a year no other test writes, so the planted records below are the whole year


def _plant(as_user: Any, db_urls: dict[str, str]) -> None:
    """A published plan of YEAR, and inspection records written straight into the tables (as the owner): published on
    time, published late, overdue drafts, a second check of one enterprise, hazards in every state."""
    planner = as_user("yjj-planner")
    plan = planner.post(
        "/api/plans",
        {
            "year": YEAR,
            "kind": "内部联合",
            "initiating_section": "zfjdg",
            "joint_sections": ["whjgg", "whjcg"],
            "table_date": f"{YEAR}-01-10",
        },
    ).json()
    task = planner.post(
        f"/api/plans/{plan['id']}/tasks",
        {**SEED_TASK_2023001, "start_month": f"{YEAR}-03", "end_month": f"{YEAR}-04"},
    ).json()
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    objects = admin_fetch(
        db_urls,
        "SELECT o.id, o.uscc, o.tenant_id FROM registry_objects o JOIN departments d"
        " ON d.id = o.tenant_id WHERE d.code = '130528-yjj' AND o.active ORDER BY o.uscc"
        " LIMIT 12",
    )
    statuses = ["已公示"] * 6 + ["草稿", "待审核", "退回", "草稿", "已公示", "已公示"]
    rows, hazards = [], []
    for i, (obj, status) in enumerate(zip(objects, statuses, strict=True)):
        check = dt.date(YEAR, 3, 1 + i)
        due = check + dt.timedelta(days=28)
        published = (
            (
                dt.datetime(YEAR, 3, 20 + i % 3, 12, tzinfo=dt.UTC)
                if i % 4
                else dt.datetime(YEAR, 5, 2, 12, tzinfo=dt.UTC)
            )
            if status == "已公示"
            else None
        )
        rows.append(
            (
                uuid.uuid4(),
                obj["tenant_id"],
                uuid.UUID(task["id"]),
                obj["uscc"],
                obj["id"],
                status,
                check if i % 5 else None,
                check,
                due,
                published,
            )
        )
    for i, row in enumerate(rows[:5]):
        hazards.append(
            (
                uuid.uuid4(),
                row[1],
                row[0],
                f"隐患{i}",
                "重大隐患" if i == 0 else "一般隐患",
                dt.date(YEAR, 4, 1),
                ["已整改", "整改中", "逾期未整改", "已整改", "整改中"][i],
            )
        )
    import asyncpg

    from shared.db import asyncpg_dsn

    async def insert() -> None:
        conn = await asyncpg.connect(asyncpg_dsn(db_urls["admin"]))
        try:
            await conn.executemany(
                "INSERT INTO inspection_results (id, tenant_id, task_id, uscc, object_id, status, check_date,"
                " check_end, due_on, entered_by, entered_by_name, published_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'test', '测试', $10)",
                rows,
            )
            await conn.executemany(
                "INSERT INTO result_hazards (id, tenant_id, result_id, description, severity, rectify_by, status)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7)",
                hazards,
            )
        finally:
            await conn.close()

    run(insert)


async def _admin_execute(url: str, statements: list[str]) -> None:
    import asyncpg

    from shared.db import asyncpg_dsn

    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for statement in statements:
            await conn.execute(statement)
    finally:
        await conn.close()


def _independent(db_urls: dict[str, str], year: int, today: dt.date) -> dict[str, dict[str, Any]]:
    departments = {r["id"]: r["code"] for r in admin_fetch(db_urls, "SELECT id, code FROM departments")}
    out: dict[str, dict[str, Any]] = {code: defaultdict(int) for code in departments.values()}
    for r in admin_fetch(db_urls, "SELECT tenant_id FROM registry_objects WHERE active"):
        out[departments[r["tenant_id"]]]["registry_size"] += 1
    results = admin_fetch(
        db_urls,
        "SELECT id, tenant_id, object_id, status, check_date, check_end, due_on,"
        " published_at FROM inspection_results",
    )
    in_year = {}
    checked: dict[str, set] = defaultdict(set)
    for r in results:
        day = r["check_date"] or r["check_end"]
        if day.year != year:
            continue
        in_year[r["id"]] = r
        d = out[departments[r["tenant_id"]]]
        d["results"] += 1
        checked[departments[r["tenant_id"]]].add(r["object_id"])
        d["months", day.month] += 1
        if r["status"] == "已公示":
            d["published"] += 1
            d["on_time"] += r["published_at"].astimezone(ZoneInfo("Asia/Shanghai")).date() <= r["due_on"]
        else:
            d["overdue_results"] += r["due_on"] < today
    for code, objects in checked.items():
        out[code]["objects_checked"] = len(objects)
    for h in admin_fetch(
        db_urls, "SELECT tenant_id, result_id, severity, status, rectify_by FROM result_hazards"
    ):
        if h["result_id"] not in in_year:
            continue
        d = out[departments[h["tenant_id"]]]
        d["hazards"] += 1
        d["major_hazards"] += h["severity"] == "重大隐患"
        d["rectified"] += h["status"] == "已整改"
        d["overdue_hazards"] += h["status"] == "逾期未整改" or (
            h["status"] == "整改中" and h["rectify_by"] < today
        )
    for p in admin_fetch(
        db_urls, "SELECT tenant_id, kind FROM plans WHERE year = $1 AND status IN ('已发布', '已完成')", year
    ):
        d = out[departments[p["tenant_id"]]]
        d["internal_joint"] += p["kind"] == "内部联合"
        d["joint_led"] += p["kind"] == "部门联合"
    return out


def _compare(view: dict[str, Any], expected: dict[str, dict[str, Any]]) -> None:
    for d in view["departments"]:
        e = expected[d["code"]]
        for key in (
            "registry_size",
            "objects_checked",
            "results",
            "published",
            "on_time",
            "overdue_results",
            "hazards",
            "major_hazards",
            "rectified",
            "overdue_hazards",
            "internal_joint",
            "joint_led",
        ):
            assert d[key] == e[key], (d["code"], key, d[key], e[key])
        if e["registry_size"]:
            share = (Decimal(e["objects_checked"]) / Decimal(e["registry_size"])).quantize(Decimal("0.0001"))
            assert Decimal(d["registry_share"]) == share
        if e["results"]:
            disclosure = (Decimal(e["published"]) / Decimal(e["results"])).quantize(Decimal("0.0001"))
            assert Decimal(d["disclosure_rate"]) == disclosure
        assert [m["results"] for m in d["months"]] == [e["months", m] for m in range(1, 13)]


def test_dashboard_equals_independent_counts(
    as_user: Any, db_urls: dict[str, str], http: httpx.Client
) -> None:
    _plant(as_user, db_urls)
    today = dt.date.today()
    overseer = as_user("county-overseer")
    for year in (YEAR, 2023, today.year):
        view = overseer.get("/api/oversight/dashboard", params={"year": year})
        assert view.status_code == 200, view.text
        assert len(view.json()["departments"]) >= 3
        _compare(view.json(), _independent(db_urls, year, today))
    # The rollups follow every kind of change: publication, a moved check day (hazards move with it), deletions.
    run(
        _admin_execute,
        db_urls["admin"],
        [
            f"UPDATE inspection_results SET status = '已公示', published_at = '{YEAR}-03-30 10:00+08' WHERE status = '草稿'"
            f" AND check_end >= '{YEAR}-01-01' AND check_end < '{YEAR + 1}-01-01' AND check_date IS NOT NULL",
            f"UPDATE inspection_results SET check_date = '{YEAR}-07-09' WHERE id = (SELECT result_id FROM result_hazards"
            f" WHERE description = '隐患1' AND rectify_by = '{YEAR}-04-01')",
            f"DELETE FROM result_hazards WHERE description = '隐患3' AND rectify_by = '{YEAR}-04-01'",
            f"UPDATE result_hazards SET status = '已整改' WHERE description = '隐患4' AND rectify_by = '{YEAR}-04-01'",
        ],
    )
    for year in (YEAR, 2023):
        _compare(
            overseer.get("/api/oversight/dashboard", params={"year": year}).json(),
            _independent(db_urls, year, today),
        )
    yjj = overseer.get("/api/oversight/dashboard", params={"year": YEAR}).json()["departments"]
    planted = next(d for d in yjj if d["code"] == "130528-yjj")
    assert planted["results"] == 12 and planted["published"] == 10 and planted["hazards"] == 4
    assert (
        planted["rectified"] == 2
        and planted["months"][6]["results"] == 1
        and planted["internal_joint"] >= 1
        and planted["internal_joint_meets"]
    )

    # The department's own view has the same numbers for itself and nothing else.
    own = as_user("yjj-planner").get("/api/oversight/dashboard", params={"year": YEAR}).json()
    assert [d["code"] for d in own["departments"]] == ["130528-yjj"]
    assert own["departments"][0]["results"] == 12
