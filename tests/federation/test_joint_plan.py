"""The seed's 联2023001: 县应急管理局 leads, 县消防救援大队 joins; one shared draw, merged teams; isolation."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import httpx
import pytest

from services.draw.proof import load_proof
from services.draw.verify import standard_checks, verify_proof
from services.identity.provisioning import department_id
from shared.db import asyncpg_dsn
from tests.support.services import run

LIAN_TASK = {
    "name": "2023年宁晋县危化行业重大危险源企业部门联合随机抽查",
    "draw_type": "定向",
    "class_ratios": {"A": "10%", "B": "10%", "C": "10%", "D": "10%"},
    "ratio_note": "10% (运用企业信用风险分级分类开展)",
    "item_codes": ["YJ-001"],
    "item_note": "1、人员和资质管理情况。 2、工艺管理情况。 3、设备设施管理情况。 4、重大危险源安全管理情况。",
    "scope": {
        "industries": ["危化"],
        "tags_all": ["重大危险源"],
        "direct_supervision_only": True,
        "intersect_partners": True,
    },
    "scope_note": "2023年直接监管危化行业企业",
    "start_month": "2023-05",
    "end_month": "2023-07",
    "min_inspectors": 2,
}


def _joint_plan(as_user: Any, partners: list[str]) -> dict[str, Any]:
    created = as_user("yjj-planner").post(
        "/api/federation/plans", {"year": 2023, "partners": partners, "table_date": "2023-01-13"}
    )
    assert created.status_code == 201, created.text
    return created.json()


async def _partner_reads_secret(runtime_url: str, draw_id: str) -> bytes | None:
    conn = await asyncpg.connect(asyncpg_dsn(runtime_url))
    try:
        async with conn.transaction():
            await conn.execute(
                "SELECT set_config('app.tenant_id', $1, true)", str(department_id("130528-xfjy"))
            )
            assert await conn.fetchval("SELECT count(*) FROM draws WHERE id = $1", uuid.UUID(draw_id)) == 1
            with pytest.raises(asyncpg.InsufficientPrivilegeError):
                async with conn.transaction():
                    await conn.fetchval("SELECT secret FROM draws WHERE id = $1", uuid.UUID(draw_id))
            return await conn.fetchval("SELECT draw_secret($1)", uuid.UUID(draw_id))
    finally:
        await conn.close()


def test_lian2023001_end_to_end(as_user: Any, http: httpx.Client, db_urls: dict[str, str]) -> None:
    lead, fire = as_user("yjj-planner"), as_user("xf-planner")
    joint = _joint_plan(as_user, ["130528-xfjy"])
    plan = joint["plan"]
    assert plan["number"].startswith("联2023") and plan["name"].startswith("2023年宁晋县部门联合抽查")
    assert [p["department_name"] for p in joint["participants"]] == ["宁晋县消防救援大队"]
    assert joint["participants"][0]["status"] == "邀请中" and joint["participants"][0]["respond_by"]

    # The invited partner sees the plan and its invitation; a department outside it sees nothing.
    assert fire.get(f"/api/plans/{plan['id']}").status_code == 200
    assert any(i["plan_id"] == plan["id"] for i in fire.get("/api/federation/invitations").json())
    assert as_user("scjg-admin").get(f"/api/plans/{plan['id']}").status_code == 404
    assert as_user("scjg-admin").get(f"/api/federation/plans/{plan['id']}").status_code == 404

    task = lead.post(f"/api/plans/{plan['id']}/tasks", LIAN_TASK)
    assert task.status_code == 201, task.text
    task = task.json()
    assert re.fullmatch(r"联\d{3}", task["number"])
    assert lead.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    pending = lead.post(f"/api/tasks/{task['id']}/announce", {})
    assert pending.status_code == 409 and "未确认" in pending.json()["error"]["message"]

    accepted = fire.post(f"/api/federation/plans/{plan['id']}/respond", {"action": "accept"})
    assert accepted.status_code == 200 and accepted.json()["my_status"] == "已接受"
    items = fire.post(f"/api/federation/plans/{plan['id']}/items", {"item_codes": ["XF-001"]})
    assert items.status_code == 200
    assert items.json()["participants"][0]["item_names"] == ["对单位履行法定消防安全职责情况的监督检查"]
    # The partner cannot change the lead's plan.
    assert fire.post(f"/api/plans/{plan['id']}/tasks", LIAN_TASK).status_code in (403, 404)
    assert fire.post(f"/api/tasks/{task['id']}/announce", {}).status_code in (403, 404)

    announced = lead.post(f"/api/tasks/{task['id']}/announce", {})
    assert announced.status_code == 201, announced.text
    # Between announcement and draw the partner sees the draw but never its secret, not even with raw SQL.
    assert run(_partner_reads_secret, db_urls["runtime"], announced.json()["id"]) is None
    drawn = lead.post(f"/api/tasks/{task['id']}/draw", {}).json()
    assert drawn["status"] == "已抽取"
    # Both departments see the same draw and can verify it.
    assert fire.get(f"/api/draws/{drawn['id']}").json()["population_hash"] == drawn["population_hash"]
    fire_view = fire.get(f"/api/draws/{drawn['id']}").json()
    selected = {s["uscc"] for s in lead.get(f"/api/draws/{drawn['id']}").json()["selected"]}
    assert {s["uscc"] for s in fire_view["selected"]} == selected

    matched = lead.post(f"/api/tasks/{task['id']}/match", {})
    assert matched.status_code == 200, matched.text
    teams = matched.json()["teams"]
    assert {t["uscc"] for t in teams} == selected
    for team in teams:
        assert [m["department_code"] for m in team["members"]] == ["130528-yjj", "130528-xfjy"]
    fire_teams = fire.get(f"/api/tasks/{task['id']}/teams").json()["teams"]
    assert all(m["department_code"] == "130528-xfjy" for t in fire_teams for m in t["members"])
    assert {t["uscc"] for t in fire_teams} == selected

    proof = load_proof(http.get(f"/public/draws/{drawn['id']}/proof.json").content)
    assert verify_proof(proof, standard_checks()).ok
    # Intersected with the fire brigade's registry: every drawn enterprise is in both registries.
    assert all(e.uscc for e in proof.eligible)


def test_decline_and_withdraw(as_user: Any) -> None:
    lead, fire = as_user("yjj-planner"), as_user("xf-planner")
    joint = _joint_plan(as_user, ["130528-xfjy", "130528-scjg"])
    plan_id = joint["plan"]["id"]
    no_reason = fire.post(f"/api/federation/plans/{plan_id}/respond", {"action": "decline"})
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"
    declined = fire.post(
        f"/api/federation/plans/{plan_id}/respond", {"action": "decline", "reason": "本月无执法力量"}
    )
    assert declined.status_code == 200
    # Having declined, the partner no longer sees the plan.
    assert fire.get(f"/api/plans/{plan_id}").status_code == 404
    market = as_user("scjg-admin")
    assert market.post(f"/api/federation/plans/{plan_id}/respond", {"action": "accept"}).status_code == 200
    assert market.post(f"/api/federation/plans/{plan_id}/respond", {"action": "accept"}).status_code == 409
    withdrawn = market.post(
        f"/api/federation/plans/{plan_id}/respond", {"action": "withdraw", "reason": "职责调整"}
    )
    assert withdrawn.status_code == 200
    statuses = {
        p["department_code"]: p["status"]
        for p in lead.get(f"/api/federation/plans/{plan_id}").json()["participants"]
    }
    assert statuses == {"130528-xfjy": "已拒绝", "130528-scjg": "已退出"}


def test_bad_joint_plans_are_refused(as_user: Any) -> None:
    lead = as_user("yjj-planner")
    for body, field in [
        ({"year": 2023, "partners": []}, "partners"),
        ({"year": 2023, "partners": ["130528-yjj"]}, "partners[0]"),
        ({"year": 2023, "partners": ["999999-x"]}, "partners[0]"),
        ({"year": 2023, "partners": ["130528-xfjy", "130528-xfjy"]}, "partners"),
    ]:
        response = lead.post("/api/federation/plans", body)
        assert response.status_code == 422 and response.json()["error"]["field"] == field, response.text
    assert (
        as_user("yjj-insp-whjg")
        .post("/api/federation/plans", {"year": 2023, "partners": ["130528-xfjy"]})
        .status_code
        == 403
    )
