"""Correcting a joint plan before the draw: partners invited again, added, replaced or removed (audited, on the plan
page); partner items locked at announcement; partners' registry gaps shown from the announcement and filled by the
partner in one step; the public draw register names every department."""

from __future__ import annotations

from typing import Any

import httpx

from tests.federation.test_joint_plan import LIAN_TASK, _joint_plan
from tests.federation.test_joint_results import XF, fetch

NOT_INTERSECTED = {**LIAN_TASK, "scope": {**LIAN_TASK["scope"], "intersect_partners": False}}
YJJ_NAME, XF_NAME, SCJG_NAME = "宁晋县应急管理局", "宁晋县消防救援大队", "宁晋县市场监督管理局"


def _partners(lead: Any, plan_id: str, body: dict[str, Any]) -> httpx.Response:
    response: httpx.Response = lead.post(f"/api/federation/plans/{plan_id}/partners", body)
    return response


def _statuses(view: dict[str, Any]) -> dict[str, str]:
    return {p["department_code"]: p["status"] for p in view["participants"]}


def test_partners_reinvited_replaced_removed_before_announcement(as_user: Any) -> None:
    lead, fire, market = as_user("yjj-planner"), as_user("xf-planner"), as_user("scjg-admin")
    plan_id = _joint_plan(as_user, ["130528-xfjy"])["plan"]["id"]
    assert fire.post(
        f"/api/federation/plans/{plan_id}/respond", {"action": "decline", "reason": "本月无执法力量"}
    )
    assert fire.get(f"/api/plans/{plan_id}").status_code == 404

    # Bad requests change nothing.
    for body, status, field in [
        ({"action": "invite", "department": "130528-yjj"}, 422, "department"),
        ({"action": "invite", "department": "999999-x"}, 422, "department"),
        ({"action": "remove", "department": "130528-xfjy", "reason": "撤回"}, 422, "department"),
        ({"action": "replace", "department": "130528-xfjy", "replacement": "130528-scjg"}, 422, "reason"),
        ({"action": "fire", "department": "130528-xfjy"}, 422, "action"),
    ]:
        refused = _partners(lead, plan_id, body)
        assert refused.status_code == status, refused.text
        if field:
            assert refused.json()["error"]["field"] == field
    assert _statuses(lead.get(f"/api/federation/plans/{plan_id}").json()) == {"130528-xfjy": "已拒绝"}

    # The declined partner is invited again, sees the plan again and accepts.
    again = _partners(
        lead, plan_id, {"action": "invite", "department": "130528-xfjy", "reason": "已协调人员"}
    )
    assert again.status_code == 200, again.text
    assert _statuses(again.json()) == {"130528-xfjy": "邀请中"}
    assert fire.post(f"/api/federation/plans/{plan_id}/respond", {"action": "accept"}).status_code == 200
    duplicate = _partners(lead, plan_id, {"action": "invite", "department": "130528-xfjy"})
    assert duplicate.status_code == 409 and duplicate.json()["error"]["field"] == "department"
    # A partner cannot change the partners; a department outside the plan does not see it.
    assert _partners(fire, plan_id, {"action": "invite", "department": "130528-scjg"}).status_code == 403
    assert _partners(market, plan_id, {"action": "invite", "department": "130528-scjg"}).status_code == 404

    replaced = _partners(
        lead,
        plan_id,
        {
            "action": "replace",
            "department": "130528-xfjy",
            "replacement": "130528-scjg",
            "reason": "检查事项调整",
        },
    )
    assert replaced.status_code == 200, replaced.text
    assert _statuses(replaced.json()) == {"130528-xfjy": "已退出", "130528-scjg": "邀请中"}
    assert fire.get(f"/api/plans/{plan_id}").status_code == 404
    assert market.get(f"/api/federation/plans/{plan_id}").status_code == 200
    added = _partners(lead, plan_id, {"action": "invite", "department": "130528-xfjy"})
    removed = _partners(
        lead, plan_id, {"action": "remove", "department": "130528-scjg", "reason": "不再参加"}
    )
    assert added.status_code == 200 and removed.status_code == 200, removed.text
    view = removed.json()
    assert _statuses(view) == {"130528-xfjy": "邀请中", "130528-scjg": "已退出"}
    # Every change is on the lead's plan page (from its audit trail), with the reason.
    assert [
        (c["action"], c["department"], c["replacement"], c["reason"]) for c in view["partner_changes"]
    ] == [
        ("重新邀请", XF_NAME, None, "已协调人员"),
        ("替换", XF_NAME, SCJG_NAME, "检查事项调整"),
        ("重新邀请", XF_NAME, None, ""),
        ("撤回邀请", SCJG_NAME, None, "不再参加"),
    ]
    assert fire.get(f"/api/federation/plans/{plan_id}").json()["partner_changes"] == []

    # From the announcement on, partners and their items are locked.
    assert fire.post(f"/api/federation/plans/{plan_id}/respond", {"action": "accept"}).status_code == 200
    empty = fire.post(f"/api/federation/plans/{plan_id}/items", {"item_codes": []})
    assert empty.status_code == 422 and empty.json()["error"]["field"] == "item_codes"
    assert fire.post(f"/api/federation/plans/{plan_id}/items", {"item_codes": ["XF-001"]}).status_code == 200
    task = lead.post(f"/api/plans/{plan_id}/tasks", NOT_INTERSECTED).json()
    assert lead.post(f"/api/plans/{plan_id}/publish").status_code == 200
    assert lead.post(f"/api/tasks/{task['id']}/announce", {}).status_code == 201
    for items in ([], ["XF-001"]):
        locked = fire.post(f"/api/federation/plans/{plan_id}/items", {"item_codes": items})
        assert locked.status_code == 409 and "已锁定" in locked.json()["error"]["message"], locked.text
    locked = _partners(lead, plan_id, {"action": "invite", "department": "130528-scjg"})
    assert locked.status_code == 409 and "已锁定" in locked.json()["error"]["message"]
    view = lead.get(f"/api/federation/plans/{plan_id}").json()
    assert view["locked_by"] and view["participants"][1]["item_names"] == [
        "对单位履行法定消防安全职责情况的监督检查"
    ]


def test_registry_gaps_surface_at_announcement_and_partner_adds_them(
    as_user: Any, http: httpx.Client, db_urls: dict[str, str]
) -> None:
    lead, fire = as_user("yjj-planner"), as_user("xf-planner")
    plan_id = _joint_plan(as_user, ["130528-xfjy"])["plan"]["id"]
    assert fire.post(f"/api/federation/plans/{plan_id}/respond", {"action": "accept"}).status_code == 200
    task_id = lead.post(f"/api/plans/{plan_id}/tasks", NOT_INTERSECTED).json()["id"]
    assert lead.post(f"/api/plans/{plan_id}/publish").status_code == 200
    announced = lead.post(f"/api/tasks/{task_id}/announce", {})
    assert announced.status_code == 201, announced.text
    (gap,) = announced.json()["partner_gaps"]
    assert gap["department_name"] == XF_NAME and gap["eligible_missing"] == len(gap["usccs"]) > 0
    assert gap["drawn_missing"] == []
    fire_has = {
        r["uscc"]
        for r in fetch(
            db_urls["admin"], "SELECT uscc FROM registry_objects WHERE tenant_id = $1 AND active", XF
        )
    }
    assert not set(gap["usccs"]) & fire_has

    # The public register names both departments of the joint draw, before and after the draw.
    draw_id = announced.json()["id"]
    assert http.get(f"/api/public/draws/{draw_id}").json()["departments"] == [YJJ_NAME, XF_NAME]
    assert lead.post(f"/api/tasks/{task_id}/draw", {}).status_code == 200
    page = http.get(f"/public/draws/{draw_id}")
    assert f"部门联合抽查：{YJJ_NAME}、{XF_NAME}" in page.text
    listed = http.get("/public/draws").text
    assert f"{YJJ_NAME}、{XF_NAME}" in listed

    drawn = {s["uscc"] for s in lead.get(f"/api/draws/{draw_id}").json()["selected"]}
    (after,) = lead.get(f"/api/federation/tasks/{task_id}/registry-gaps").json()
    assert set(after["drawn_missing"]) == drawn - fire_has
    assert after["usccs"][: len(after["drawn_missing"])] == after["drawn_missing"]
    # The partner sees its own gap; others cannot add, see or act.
    assert fire.get(f"/api/federation/tasks/{task_id}/registry-gaps").json() == [after]
    assert as_user("scjg-admin").get(f"/api/federation/tasks/{task_id}/registry-gaps").status_code == 404
    assert as_user("scjg-admin").post(f"/api/federation/tasks/{task_id}/registry-gaps/add").status_code == 404
    assert lead.post(f"/api/federation/tasks/{task_id}/registry-gaps/add").status_code == 403
    assert (
        as_user("xf-inspector").post(f"/api/federation/tasks/{task_id}/registry-gaps/add").status_code == 403
    )

    added: list[str] = []
    try:
        done = fire.post(f"/api/federation/tasks/{task_id}/registry-gaps/add")
        assert done.status_code == 200, done.text
        added = done.json()["added"]
        assert sorted(added) == sorted(after["usccs"]) and done.json()["skipped"] == []
        assert done.json()["gaps"][0]["eligible_missing"] == 0
        names = {
            r["uscc"]: r["name"]
            for r in fetch(
                db_urls["admin"],
                "SELECT uscc, name FROM registry_objects WHERE uscc = ANY($1) AND tenant_id = $2",
                added,
                XF,
            )
        }
        lead_names = {s["uscc"]: s["name"] for s in lead.get(f"/api/draws/{draw_id}").json()["selected"]}
        assert all(names[u] == lead_names[u] for u in after["drawn_missing"])
        again = fire.post(f"/api/federation/tasks/{task_id}/registry-gaps/add")
        assert again.status_code == 200 and again.json()["added"] == []
    finally:  # the fire brigade's registry is shared seed data: leave it as it was
        fetch(
            db_urls["admin"],
            "DELETE FROM registry_objects WHERE tenant_id = $1 AND uscc = ANY($2)",
            XF,
            added,
        )
