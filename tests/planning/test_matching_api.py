"""Matching inspectors after the draw: rules hold, the proof verifies, infeasible teams are refused, adjustments
are recorded and public, inspectors see their own assignments."""

from __future__ import annotations

from typing import Any

import httpx

from services.draw.proof import load_proof
from services.draw.verify import standard_checks, verify_proof
from tests.planning.conftest import SEED_TASK_2023001


def _drawn_task(as_user: Any, joint: list[str], task: dict[str, Any] | None = None) -> dict[str, Any]:
    planner = as_user("yjj-planner")
    plan = planner.post(
        "/api/plans",
        {"year": 2023, "kind": "内部联合", "initiating_section": "zfjdg", "joint_sections": joint},
    ).json()
    created = planner.post(f"/api/plans/{plan['id']}/tasks", task or SEED_TASK_2023001).json()
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    assert planner.post(f"/api/tasks/{created['id']}/announce", {}).status_code == 201
    drawn = planner.post(f"/api/tasks/{created['id']}/draw", {})
    assert drawn.status_code == 200, drawn.text
    return {**created, "draw": drawn.json()}


def test_internal_joint_teams_mix_sections_and_verify(as_user: Any, http: httpx.Client) -> None:
    planner = as_user("yjj-planner")
    task = _drawn_task(as_user, ["whjgg", "whjcg"])
    matched = planner.post(f"/api/tasks/{task['id']}/match", {})
    assert matched.status_code == 200, matched.text
    body = matched.json()
    assert body["slot_labels"] == ["危化监管股", "危化监察股"]
    assert len(body["teams"]) == task["draw"]["selected_count"]
    for team in body["teams"]:
        sections = [m["section"] for m in team["members"]]
        assert sections == ["危化监管股", "危化监察股"], team
        assert len({m["inspector_id"] for m in team["members"]}) == 2
    assert planner.get(f"/api/tasks/{task['id']}").json()["status"] == "已匹配"

    proof = load_proof(http.get(f"/public/draws/{task['draw']['id']}/proof.json").content)
    assert proof.matching is not None
    report = verify_proof(proof, standard_checks())
    assert report.ok, report.findings
    # Matching again is refused: a task is matched once; changes go through recorded adjustments.
    assert planner.post(f"/api/tasks/{task['id']}/match", {}).status_code == 409


def test_infeasible_matching_names_objects_and_constraint(as_user: Any) -> None:
    planner = as_user("yjj-planner")
    # 应急指挥中心 has no inspectors, so its slot can never be filled.
    task = _drawn_task(as_user, ["whjgg", "yjzhzx"])
    response = planner.post(f"/api/tasks/{task['id']}/match", {})
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "match_infeasible"
    assert len(error["unfilled"]) == task["draw"]["selected_count"]
    assert {u["slot_label"] for u in error["unfilled"]} == {"应急指挥中心"}
    assert all(u["reason"] for u in error["unfilled"])
    # Nothing was saved and the task can still be matched later.
    assert planner.get(f"/api/tasks/{task['id']}/teams").json()["matched"] is False
    assert planner.get(f"/api/tasks/{task['id']}").json()["status"] == "已抽取"


def test_adjustment_needs_reason_respects_rules_and_is_public(as_user: Any, http: httpx.Client) -> None:
    planner = as_user("yjj-planner")
    task = _drawn_task(as_user, ["whjgg", "whjcg"])
    teams = planner.post(f"/api/tasks/{task['id']}/match", {}).json()
    team = teams["teams"][0]
    on_team = {m["inspector_id"] for m in team["members"]}
    inspectors = {
        m["inspector_id"]: m for t in teams["teams"] for m in t["members"] if m["section"] == "危化监察股"
    }
    replacement = next(i for i in inspectors if i not in on_team)

    short = planner.post(
        f"/api/tasks/{task['id']}/teams/adjust",
        {"uscc": team["uscc"], "slot": 1, "inspector_id": replacement, "reason": "病"},
    )
    assert short.status_code == 422 and short.json()["error"]["field"] == "reason"
    duplicate = planner.post(
        f"/api/tasks/{task['id']}/teams/adjust",
        {
            "uscc": team["uscc"],
            "slot": 1,
            "inspector_id": team["members"][0]["inspector_id"],
            "reason": "原检查人员因病请假，改派同股室人员",
        },
    )
    assert duplicate.status_code == 409
    ok = planner.post(
        f"/api/tasks/{task['id']}/teams/adjust",
        {
            "uscc": team["uscc"],
            "slot": 1,
            "inspector_id": replacement,
            "reason": "原检查人员因病请假，改派同股室人员",
        },
    )
    assert ok.status_code == 200, ok.text
    adjusted = next(t for t in ok.json()["teams"] if t["uscc"] == team["uscc"])
    assert adjusted["members"][1]["inspector_id"] == replacement and adjusted["members"][1]["adjusted"]
    assert ok.json()["adjustments"][0]["reason"] == "原检查人员因病请假，改派同股室人员"
    public = http.get(f"/api/public/draws/{task['draw']['id']}")
    assert public.status_code == 200

    other = as_user("xf-planner")
    assert (
        other.post(
            f"/api/tasks/{task['id']}/teams/adjust",
            {"uscc": team["uscc"], "slot": 1, "inspector_id": replacement, "reason": "越权调整检查人员"},
        ).status_code
        == 404
    )
    assert other.get(f"/api/tasks/{task['id']}/teams").status_code == 404
    assert as_user("yjj-insp-whjg").post(f"/api/tasks/{task['id']}/match", {}).status_code == 403


def test_inspectors_see_their_own_assignments(as_user: Any) -> None:
    planner = as_user("yjj-planner")
    task = _drawn_task(as_user, ["whjgg", "whjcg"])
    teams = planner.post(f"/api/tasks/{task['id']}/match", {}).json()
    expected = {t["uscc"] for t in teams["teams"] for m in t["members"] if m["name"] == "刘洋"}
    mine = as_user("yjj-insp-whjc").get("/api/my/assignments").json()
    assert {a["uscc"] for a in mine if a["task_id"] == task["id"]} == expected
    # Someone with no inspector record has no assignments, and another department sees none of these.
    assert as_user("xf-inspector").get("/api/my/assignments").json() == [] or all(
        a["task_id"] != task["id"] for a in as_user("xf-inspector").get("/api/my/assignments").json()
    )
