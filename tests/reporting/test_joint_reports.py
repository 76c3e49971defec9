"""联2023001 in the reports of both departments: 附件1 二.5 counts each department's own part once, in the month it
was checked (not the drawn enterprises, not in every month of the window); the partner gets the post-implementation
report of its part; the overseer reaches the joint plan read-only from the dashboard and sees its progress."""

from __future__ import annotations

from typing import Any

from tests.federation.test_joint_results import _answers, matched_joint_task

LEAD_DAY, PARTNER_DAY = "2023-05-20", "2023-07-03"  # the window is May–July 2023


def _rows(report: dict[str, Any], task_id: str) -> list[dict[str, Any]]:
    return [j for j in report["joint"] if j["task_id"] == task_id]


def _check_and_publish(as_user: Any, http: Any, task_id: str, uscc: str) -> None:
    base = f"/api/tasks/{task_id}/results/{uscc}"
    parts = {}
    for inspector, reviewer, day in (
        ("yjj-insp-whjg", "yjj-reviewer", LEAD_DAY),
        ("xf-inspector", "xf-admin", PARTNER_DAY),
    ):
        who = as_user(inspector)
        points = who.get(base).json()["points"]
        saved = who.post(
            base,
            {
                "check_date": day,
                "points": _answers(points),
                "categories": ["未发现问题"],
                "summary": "现场检查未发现问题",
                "follow_ups": [{"action": "无需后续处置"}],
            },
        )
        assert saved.status_code == 200, saved.text
        parts[inspector] = saved.json()["id"]
        assert who.post(f"/api/results/{saved.json()['id']}/submit").status_code == 200
        approved = as_user(reviewer).post(f"/api/results/{saved.json()['id']}/approve")
        assert approved.status_code == 200, approved.text
    published = as_user("yjj-reviewer").post(f"/api/federation/tasks/{task_id}/records/{uscc}/publish")
    assert published.status_code == 200, published.text
    # The public record says it was entered afterwards (补录).
    record = http.get(f"/api/public/results/{parts['yjj-insp-whjg']}")
    assert record.status_code == 200 and record.json()["back_entry"] is True


def test_joint_check_counted_once_per_department_and_partner_report(
    as_user: Any, http: Any, db_urls: dict[str, str]
) -> None:
    joint = matched_joint_task(as_user, db_urls)
    task_id, uscc, plan_id = joint["task_id"], joint["uscc"], joint["plan_id"]
    lead, partner, market = as_user("yjj-planner"), as_user("xf-planner"), as_user("scjg-admin")
    overseer = as_user("county-overseer")
    # Drawn, not yet checked: no month of the window counts it (the drawn share is not a check).
    for month in (5, 6, 7):
        assert _rows(lead.get(f"/api/reports/monthly/2023/{month}").json(), task_id) == []
    _check_and_publish(as_user, http, task_id, uscc)

    # The lead's part was checked in May, the partner's in July: each department counts its own part once, in its
    # own month, never in the other months of the window.
    may = _rows(lead.get("/api/reports/monthly/2023/5").json(), task_id)
    assert len(may) == 1, may
    assert may[0]["subjects"] == 1 and may[0]["published"] == 1
    assert may[0]["lead"] == "县应急管理局" and may[0]["partners"] == "县消防救援大队"
    assert may[0]["back_entry"] is True and may[0]["document"].endswith("（补录）")
    for month in (6, 7):
        assert _rows(lead.get(f"/api/reports/monthly/2023/{month}").json(), task_id) == []
    july = _rows(partner.get("/api/reports/monthly/2023/7").json(), task_id)
    assert len(july) == 1 and july[0]["subjects"] == 1 and july[0]["published"] == 1
    for month in (5, 6):
        assert _rows(partner.get(f"/api/reports/monthly/2023/{month}").json(), task_id) == []
    # Summed over the window and both departments: one enterprise per department's part, not 3 × drawn.
    total = sum(
        r["subjects"]
        for who in (lead, partner)
        for month in (5, 6, 7)
        for r in _rows(who.get(f"/api/reports/monthly/2023/{month}").json(), task_id)
    )
    assert total == 2
    # A department outside the plan sees none of it.
    assert _rows(market.get("/api/reports/monthly/2023/7").json(), task_id) == []

    # The partner's post-implementation report: its own part, for the lead's task (no longer 404).
    mine = partner.get(f"/api/reports/tasks/{task_id}")
    assert mine.status_code == 200, mine.text
    report = mine.json()
    assert report["lead"] == "宁晋县应急管理局" and report["department"] == "宁晋县消防救援大队"
    assert [(e["uscc"], e["check_date"]) for e in report["enterprises"]] == [(uscc, PARTNER_DAY)]
    assert report["back_entry"] is True and report["status"] == "未报送"
    lead_report = lead.get(f"/api/reports/tasks/{task_id}").json()
    assert lead_report["lead"] is None
    assert [(e["uscc"], e["check_date"]) for e in lead_report["enterprises"]] == [(uscc, LEAD_DAY)]
    assert any(t["id"] == task_id and t["results"] == 1 for t in partner.get("/api/reports/tasks").json())
    # Sending it: the partner's own report; the lead's is still its own to send.
    sent = partner.post(f"/api/reports/tasks/{task_id}/submit")
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "已报送"
    assert partner.post(f"/api/reports/tasks/{task_id}/submit").status_code == 409
    assert lead.get(f"/api/reports/tasks/{task_id}").json()["status"] == "未报送"
    assert lead.post(f"/api/reports/tasks/{task_id}/submit").status_code == 200
    xlsx = partner.get(f"/api/reports/tasks/{task_id}/xlsx")
    assert xlsx.status_code == 200 and xlsx.headers["content-type"].startswith("application/vnd")
    # Not a participant: nothing, neither to read nor to send.
    assert market.get(f"/api/reports/tasks/{task_id}").status_code == 404
    assert market.post(f"/api/reports/tasks/{task_id}/submit").status_code == 404
    assert overseer.post(f"/api/reports/tasks/{task_id}/submit").status_code == 403

    # The overseer: the dashboard shows the joint task's progress and links its plan, which opens read-only.
    county = overseer.get("/api/oversight/dashboard", params={"year": 2023}).json()
    yjj = next(d for d in county["departments"] if d["code"] == "130528-yjj")
    share = next(t for t in yjj["joint_tasks"] if t["task_id"] == task_id)
    assert share["plan_id"] == plan_id and share["selected"] == len(joint["usccs"])
    assert share["checked"] == 1 and share["published"] == 1
    seen = overseer.get(f"/api/oversight/plans/{plan_id}")
    assert seen.status_code == 200, seen.text
    plan = seen.json()
    assert (
        plan["kind"] == "部门联合" and plan["department"] == "宁晋县应急管理局" and plan["back_entry"] is True
    )
    assert plan["participants"] == [{"department": "宁晋县消防救援大队", "status": "已接受"}]
    [task] = plan["tasks"]
    assert task["id"] == task_id and task["drawn"] == len(joint["usccs"])
    assert task["checked"] == 1 and task["published"] == 1
    # The partner reads the plan it takes part in; a department outside it does not; nobody writes through it.
    assert partner.get(f"/api/oversight/plans/{plan_id}").status_code == 200
    outside = market.get(f"/api/oversight/plans/{plan_id}")
    assert outside.status_code == 404 and outside.json()["error"]["field"] == "plan_id"
    assert overseer.post(f"/api/oversight/plans/{plan_id}").status_code in (404, 405)
    missing = overseer.get("/api/oversight/plans/00000000-0000-4000-8000-00000000dead")
    assert missing.status_code == 404
