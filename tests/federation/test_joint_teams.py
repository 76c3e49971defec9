"""One team model for 部门联合 tasks: each department adjusts its own slots of the merged teams through the same API
as internal teams (with a reason, recorded, audited, public); nobody touches another department's slots; joint
matching keeps "not the inspector who checked it last time" (SPEC §5) and the verifier checks it."""

from __future__ import annotations

from typing import Any

import httpx
import msgspec

from services.draw.proof import load_proof
from services.draw.verify import standard_checks, verify_proof
from tests.federation.test_joint_plan import LIAN_TASK, _joint_plan
from tests.federation.test_joint_results import XF, YJJ, fetch

ADJUST_REASON = "原检查人员病休，改派本部门检查人员"


def _matched(as_user: Any, tasks: int = 1, ratio: str = "10%") -> tuple[str, list[str]]:
    """A joint plan with the fire brigade, ``tasks`` tasks of the seed's 联001 shape announced and drawn."""
    lead, fire = as_user("yjj-planner"), as_user("xf-planner")
    plan_id = _joint_plan(as_user, ["130528-xfjy"])["plan"]["id"]
    assert fire.post(f"/api/federation/plans/{plan_id}/respond", {"action": "accept"}).status_code == 200
    assert fire.post(f"/api/federation/plans/{plan_id}/items", {"item_codes": ["XF-001"]}).status_code == 200
    body = {**LIAN_TASK, "class_ratios": dict.fromkeys("ABCD", ratio)}
    ids = [lead.post(f"/api/plans/{plan_id}/tasks", body).json()["id"] for _ in range(tasks)]
    assert lead.post(f"/api/plans/{plan_id}/publish").status_code == 200
    for task_id in ids:
        assert lead.post(f"/api/tasks/{task_id}/announce", {}).status_code == 201
        assert lead.post(f"/api/tasks/{task_id}/draw", {}).status_code == 200
    return plan_id, ids


def _inspectors(who: Any, **filters: str) -> list[dict[str, Any]]:
    found = who.get("/api/registry/inspectors", params={"page_size": 500, "licence": "valid", **filters})
    assert found.status_code == 200, found.text
    items: list[dict[str, Any]] = found.json()["items"]
    return items


def _adjust(who: Any, task_id: str, uscc: str, slot: int, inspector: str, reason: str = ADJUST_REASON) -> Any:
    return who.post(
        f"/api/tasks/{task_id}/teams/adjust",
        {"uscc": uscc, "slot": slot, "inspector_id": inspector, "reason": reason},
    )


def _free(candidates: list[dict[str, Any]], teams: list[dict[str, Any]]) -> str:
    """An inspector on none of the teams (so no rule of this task can refuse them)."""
    busy = {m["inspector_id"] for t in teams for m in t["members"]}
    return next(c["id"] for c in candidates if c["id"] not in busy)


def test_each_department_adjusts_its_own_slots(
    as_user: Any, http: httpx.Client, db_urls: dict[str, str]
) -> None:
    lead, fire, market = as_user("yjj-planner"), as_user("xf-planner"), as_user("scjg-admin")
    _, (task_id,) = _matched(as_user)
    teams = lead.post(f"/api/tasks/{task_id}/match", {}).json()["teams"]
    team = teams[0]
    uscc = team["uscc"]
    lead_new = _free(_inspectors(lead, specialty="危险化学品"), teams)
    fire_new = _free(_inspectors(fire), teams)

    # Before any change: bad input and other departments' slots are refused, and nothing changes.
    assert _adjust(lead, task_id, uscc, 0, lead_new, "病").json()["error"]["field"] == "reason"
    refused = _adjust(lead, task_id, uscc, 1, lead_new)
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "slot", refused.text
    assert "本部门" in refused.json()["error"]["message"]
    refused = _adjust(fire, task_id, uscc, 0, fire_new)
    assert refused.status_code == 403 and refused.json()["error"]["field"] == "slot", refused.text
    not_ours = _adjust(fire, task_id, uscc, 1, lead_new)
    assert not_ours.status_code == 422 and not_ours.json()["error"]["field"] == "inspector_id"
    assert _adjust(lead, task_id, "91130528MA0000000X", 0, lead_new).status_code == 404
    assert _adjust(lead, task_id, uscc, 7, lead_new).status_code == 404
    on_team = _adjust(lead, task_id, uscc, 0, team["members"][1]["inspector_id"])
    assert on_team.status_code == 422  # a fire inspector is not the lead's to place
    trade = next(
        i["id"] for i in _inspectors(lead, specialty="工贸安全") if "危险化学品" not in i["specialties"]
    )
    no_specialty = _adjust(lead, task_id, uscc, 0, trade)
    assert no_specialty.status_code == 422 and "危险化学品" in no_specialty.json()["error"]["message"]
    # A department outside the plan does not even see the task; an inspector cannot adjust.
    assert _adjust(market, task_id, uscc, 1, fire_new).status_code == 404
    assert _adjust(as_user("xf-inspector"), task_id, uscc, 1, fire_new).status_code == 403
    assert lead.get(f"/api/tasks/{task_id}/teams").json()["adjustments"] == []

    done = _adjust(lead, task_id, uscc, 0, lead_new)
    assert done.status_code == 200, done.text
    member = next(t for t in done.json()["teams"] if t["uscc"] == uscc)["members"][0]
    assert member["inspector_id"] == lead_new and member["adjusted"]
    again = _adjust(lead, task_id, uscc, 0, lead_new)
    assert again.status_code == 409 and again.json()["error"]["field"] == "inspector_id"

    done = _adjust(fire, task_id, uscc, 1, fire_new)
    assert done.status_code == 200, done.text
    # The partner sees its own members and its own adjustment only.
    assert {m["department_code"] for t in done.json()["teams"] for m in t["members"]} == {"130528-xfjy"}
    assert [a["department_name"] for a in done.json()["adjustments"]] == ["宁晋县消防救援大队"]
    # The lead sees every department's adjustment, with the reason, who and what changed.
    view = lead.get(f"/api/tasks/{task_id}/teams").json()
    member = next(t for t in view["teams"] if t["uscc"] == uscc)["members"][1]
    assert member["inspector_id"] == fire_new and member["adjusted"]
    changes = view["adjustments"]
    assert [(a["department_name"], a["slot"], a["reason"]) for a in changes] == [
        ("宁晋县应急管理局", 0, ADJUST_REASON),
        ("宁晋县消防救援大队", 1, ADJUST_REASON),
    ]
    assert changes[1]["old_name"] == team["members"][1]["inspector_name"] and changes[1]["new_name"]
    # Public beside the draw, naming the department; each change is in its department's audit trail.
    draw_id = lead.get(f"/api/tasks/{task_id}").json()["draw_id"]
    public = http.get(f"/api/public/draws/{draw_id}").json()["adjustments"]
    assert [(a["new"], a["department_name"]) for a in public] == [
        (lead_new, "宁晋县应急管理局"),
        (fire_new, "宁晋县消防救援大队"),
    ]
    for tenant, new in ((YJJ, lead_new), (XF, fire_new)):
        audited = fetch(
            db_urls["admin"],
            "SELECT data FROM audit_events WHERE tenant_id = $1 AND action = 'team.adjust' AND entity_id = $2"
            " ORDER BY id",
            tenant,
            task_id,
        )
        assert [msgspec.json.decode(r["data"])["new"] for r in audited] == [new]


def test_joint_matching_avoids_last_inspectors_and_verifier_checks_it(
    as_user: Any, http: httpx.Client
) -> None:
    """Two joint tasks over the same enterprises (100%): the second team of every enterprise has nobody of the
    first (each department's own last team), the proof publishes them as excluded, and a team that puts one of
    them back is INVALID."""
    lead, fire = as_user("yjj-planner"), as_user("xf-planner")
    _, (first, second) = _matched(as_user, tasks=2, ratio="100%")
    before = lead.post(f"/api/tasks/{first}/match", {})
    assert before.status_code == 200, before.text
    last = {t["uscc"]: {m["inspector_id"] for m in t["members"]} for t in before.json()["teams"]}
    after = lead.post(f"/api/tasks/{second}/match", {})
    assert after.status_code == 200, after.text
    now = {t["uscc"]: {m["inspector_id"] for m in t["members"]} for t in after.json()["teams"]}
    assert now.keys() == last.keys() and len(now) > 3
    assert all(not (now[u] & last[u]) for u in now), "an inspector checks the same enterprise twice in a row"

    draw_id = lead.get(f"/api/tasks/{second}").json()["draw_id"]
    proof = load_proof(http.get(f"/public/draws/{draw_id}/proof.json").content)
    assert verify_proof(proof, standard_checks()).ok
    assert proof.matching is not None
    excluded = {o["uscc"]: set(o["excluded"]) for o in proof.matching["objects"]}
    assert all(last[u] <= excluded[u] for u in last)
    # Tampered: the first enterprise's lead slot given back to whoever checked it last time.
    uscc = next(iter(proof.matching["teams"]))
    previous_lead = next(i for i in last[uscc] if i in proof.matching["slots"][0]["pool"])
    teams = {**proof.matching["teams"], uscc: [previous_lead, *proof.matching["teams"][uscc][1:]]}
    tampered = msgspec.structs.replace(proof, matching={**proof.matching, "teams": teams})
    findings = [str(f) for f in verify_proof(tampered, standard_checks()).findings]
    assert f"matching.teams[{uscc}][0]: {previous_lead} is excluded for this enterprise (回避)" in findings

    # Adjusting cannot bring the last inspector back either, in the lead's slot nor in the partner's.
    fire_last = next(i for i in last[uscc] if i not in proof.matching["slots"][0]["pool"])
    for who, slot, inspector in ((lead, 0, previous_lead), (fire, 1, fire_last)):
        refused = _adjust(who, second, uscc, slot, inspector)
        assert refused.status_code == 409 and "上次检查" in refused.json()["error"]["message"], refused.text
