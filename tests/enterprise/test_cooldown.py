"""The county's cool-down: an enterprise checked recently by any department is left out before the list is frozen,
and the announcement says so."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import httpx

from services.draw.proof import load_proof
from services.enterprise.settings import configure
from tests.planning.conftest import SEED_TASK_2023001


def _announced(as_user: Any, draw: bool = True) -> dict[str, Any]:
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
    task = planner.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001).json()
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    announced = planner.post(f"/api/tasks/{task['id']}/announce", {})
    assert announced.status_code == 201, announced.text
    drawn = planner.post(f"/api/tasks/{task['id']}/draw", {})
    assert drawn.status_code == 200, drawn.text
    return {**task, "draw": drawn.json()}


def test_cooldown_changes_the_frozen_list_and_is_stated(
    as_user: Any, http: httpx.Client, db_urls: dict[str, str]
) -> None:
    before = _announced(as_user)
    proof = load_proof(http.get(f"/public/draws/{before['draw']['id']}/proof.json").content)
    enterprise = proof.eligible[len(proof.eligible) // 2].uscc
    public = http.get(f"/api/public/draws/{before['draw']['id']}").json()
    assert public["exclusions"] == {}

    xf = as_user("xf-planner")
    visit = xf.post(
        "/api/visits",
        {
            "uscc": enterprise,
            "enterprise_name": "冷却期测试企业",
            "kind": "转办交办",
            "reason": "县政府转办的消防隐患线索",
            "visit_date": dt.date.today().isoformat(),
        },
    )
    assert visit.status_code == 201, visit.text
    try:
        asyncio.run(configure(db_urls["admin"], "130528", {"cooldown": 6}))
        after = _announced(as_user)
        stated = http.get(f"/api/public/draws/{after['draw']['id']}").json()
        assert stated["exclusions"]["cooldown_months"] == 6
        excluded = stated["exclusions"]["county_cooldown"]
        assert excluded >= 1
        assert stated["eligible_count"] == public["eligible_count"] - excluded
        frozen = load_proof(http.get(f"/public/draws/{after['draw']['id']}/proof.json").content)
        assert enterprise not in {e.uscc for e in frozen.eligible}
        page = http.get(f"/public/draws/{after['draw']['id']}")
        assert (
            "县级冷却期" in page.text
            and f"已排除近 6 个月内被本县任一部门检查过的企业 {excluded} 家" in page.text
        )
        task_view = as_user("yjj-planner").get(f"/api/tasks/{after['id']}/draw")
        if task_view.status_code == 200:
            assert task_view.json()["excluded"]["county_cooldown"] == excluded
    finally:
        asyncio.run(configure(db_urls["admin"], "130528", {"no_cooldown": True}))
        xf.post(f"/api/visits/{visit.json()['visit']['id']}/cancel", {"reason": "测试结束，撤销登记"})
    # Without the cool-down the enterprise is eligible again.
    again = _announced(as_user)
    eligible = load_proof(http.get(f"/public/draws/{again['draw']['id']}/proof.json").content).eligible
    assert enterprise in {e.uscc for e in eligible}
