"""Issue #17's "done when", in one run: the seed's 联2023001 from creation to one published record naming both
departments — after the planner corrects a mistake in the announced task, and with each department replacing the
drawn inspector it cannot send — and the reports of both departments count it once."""

from __future__ import annotations

from typing import Any

from tests.federation.test_joint_plan import LIAN_TASK
from tests.federation.test_joint_results import HUANG_LEI, XF, YJJ, ZHANG_WEI, inspector_id, place
from tests.reporting.test_joint_reports import _check_and_publish, _rows


def test_lian2023001_corrected_carried_to_one_record_and_counted_once(
    as_user: Any, http: Any, db_urls: dict[str, str]
) -> None:
    lead, fire = as_user("yjj-planner"), as_user("xf-planner")
    created = lead.post(
        "/api/federation/plans", {"year": 2023, "partners": ["130528-xfjy"], "table_date": "2023-01-13"}
    )
    assert created.status_code == 201, created.text
    plan_id = created.json()["plan"]["id"]
    assert fire.post(f"/api/federation/plans/{plan_id}/respond", {"action": "accept"}).status_code == 200
    assert fire.post(f"/api/federation/plans/{plan_id}/items", {"item_codes": ["XF-001"]}).status_code == 200
    typo = {**LIAN_TASK, "name": "2023年宁晋县危化行业重大危险原企业部门联合随机抽查"}  # 危险原 for 危险源
    task = lead.post(f"/api/plans/{plan_id}/tasks", typo)
    assert task.status_code == 201, task.text
    task_id = task.json()["id"]
    number = task.json()["number"]  # 联NNN: numbered per department and year
    assert lead.post(f"/api/plans/{plan_id}/publish").status_code == 200
    first = lead.post(f"/api/tasks/{task_id}/announce", {})
    assert first.status_code == 201, first.text

    # The typo is found after the announcement: corrected with a public reason, announced again; the number stays.
    corrected = http.patch(
        f"/api/tasks/{task_id}",
        json={**LIAN_TASK, "reason": "任务名称错字：危险原应为危险源"},
        headers=lead.headers(),
    )
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["number"] == number and corrected.json()["name"] == LIAN_TASK["name"]
    assert lead.post(f"/api/tasks/{task_id}/announce", {}).status_code == 201
    assert lead.post(f"/api/tasks/{task_id}/draw", {}).status_code == 200
    matched = lead.post(f"/api/tasks/{task_id}/match", {})
    assert matched.status_code == 200, matched.text
    voided = http.get(f"/api/public/draws/{first.json()['id']}")
    assert "危险原应为危险源" in voided.text

    # The drawn inspectors of one enterprise cannot go: each department's planner puts another of its own.
    zhang, huang = inspector_id(db_urls, ZHANG_WEI, YJJ), inspector_id(db_urls, HUANG_LEI, XF)
    uscc = next(
        (
            team["uscc"]
            for team in matched.json()["teams"]
            if place(lead, task_id, team, 0, zhang) and place(fire, task_id, team, 1, huang)
        ),
        None,
    )
    assert uscc is not None

    _check_and_publish(as_user, http, task_id, uscc)
    public = [
        r
        for r in http.get("/api/public/results", params={"q": uscc}).json()["results"]
        if r["task_id"] == task_id
    ]
    assert len(public) == 1 and public[0]["department_name"] == "宁晋县应急管理局、宁晋县消防救援大队"

    # Each department's reports count its own part once over the whole window (May–July).
    counted = {
        who: sum(
            r["subjects"]
            for month in (5, 6, 7)
            for r in _rows(as_user(who).get(f"/api/reports/monthly/2023/{month}").json(), task_id)
        )
        for who in ("yjj-planner", "xf-planner")
    }
    assert counted == {"yjj-planner": 1, "xf-planner": 1}
