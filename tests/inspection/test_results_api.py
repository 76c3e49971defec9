"""Result entry (谁检查、谁录入), review transitions and their refusals, hazards and follow-up, attachments,
tenant isolation, and publication to the public register."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import httpx
import pytest

from tests.inspection.conftest import INSPECTOR, admin_fetch, complete_draft, matched_task_with_inspector

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


@pytest.fixture
def task(as_user: Any, db_urls: dict[str, str]) -> dict[str, Any]:
    return matched_task_with_inspector(as_user, db_urls, live=True)  # 2023 as if entered in its own time


def _entry(as_user: Any, task: dict[str, Any]) -> dict[str, Any]:
    response = as_user(INSPECTOR).get(f"/api/tasks/{task['task_id']}/results/{task['uscc']}")
    assert response.status_code == 200, response.text
    return response.json()


def test_full_flow_entry_return_resubmit_approve_publish(
    as_user: Any, http: httpx.Client, task: dict[str, Any], db_urls: dict[str, str]
) -> None:
    inspector, reviewer, planner = as_user(INSPECTOR), as_user("yjj-reviewer"), as_user("yjj-planner")
    view = _entry(as_user, task)
    assert view["result"] is None and view["on_team"] and view["points"]
    url = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"

    # Someone outside the team cannot enter results.
    assert planner.post(url, complete_draft(view["points"])).status_code == 403

    # A partial draft saves; the task moves 已匹配 → 实施中.
    partial = inspector.post(
        url, {"points": [{"check_point_id": view["points"][0]["id"], "outcome": "符合"}]}
    )
    assert partial.status_code == 200, partial.text
    result = partial.json()
    assert result["status"] == "草稿"
    assert planner.get(f"/api/tasks/{task['task_id']}").json()["status"] == "实施中"
    # End of check = end of June 2023 → 20 working days → 28 July 2023.
    assert result["due_on"] == "2023-07-28"

    # Incomplete drafts cannot be submitted; the reviewer cannot approve a draft.
    incomplete = inspector.post(f"/api/results/{result['id']}/submit")
    assert incomplete.status_code == 422 and incomplete.json()["error"]["field"] in ("points", "check_date")
    assert reviewer.post(f"/api/results/{result['id']}/approve").status_code == 409
    assert reviewer.post(f"/api/results/{result['id']}/return", {"reason": "不完整"}).status_code == 409

    # Bad values are refused with the field named.
    bad = inspector.post(url, {"points": [{"check_point_id": view["points"][0]["id"], "outcome": "良好"}]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "points[0].outcome"
    bad = inspector.post(url, {"categories": ["很好"]})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "categories[0]"
    bad = inspector.post(
        url,
        {
            **complete_draft(view["points"]),
            "hazards": [{"description": "储罐区未设置防火堤", "severity": "重大隐患"}],
        },
    )
    assert bad.status_code == 200  # a draft may be inconsistent …
    refused = inspector.post(f"/api/results/{result['id']}/submit")
    assert (
        refused.status_code == 422 and refused.json()["error"]["field"] == "categories"
    )  # … a submission not

    # Complete with a hazard and rectification, then submit.
    draft = complete_draft(
        view["points"],
        categories=["发现问题已责令改正"],
        hazards=[
            {
                "description": "储罐区未设置防火堤",
                "severity": "重大隐患",
                "rectify_by": dt.date.today().isoformat(),
            }
        ],
        follow_ups=[{"action": "责令改正并跟踪"}],
    )
    assert inspector.post(url, draft).status_code == 200
    submitted = inspector.post(f"/api/results/{result['id']}/submit")
    assert submitted.status_code == 200 and submitted.json()["status"] == "待审核"
    assert inspector.post(f"/api/results/{result['id']}/submit").status_code == 409
    assert inspector.post(url, draft).status_code == 409  # locked while under review

    # Only reviewers review; a return needs a reason.
    assert inspector.post(f"/api/results/{result['id']}/approve").status_code == 403
    assert reviewer.post(f"/api/results/{result['id']}/return", {"reason": " "}).status_code == 422
    returned = reviewer.post(f"/api/results/{result['id']}/return", {"reason": "请补充整改要求"})
    assert returned.status_code == 200 and returned.json()["status"] == "退回"
    assert returned.json()["return_reason"] == "请补充整改要求"

    # Not published: the public register does not have it, even by id.
    assert http.get(f"/api/public/results/{result['id']}").status_code == 404
    assert http.get(f"/public/results/{result['id']}").status_code == 404
    # The same enterprise may have been drawn, checked and published by another task of this test session,
    # so only this task's records are looked at.
    listed = http.get("/api/public/results", params={"q": task["uscc"]}).json()["results"]
    assert [r for r in listed if r["task_id"] == task["task_id"]] == []

    assert inspector.post(url, draft).status_code == 200
    assert inspector.post(f"/api/results/{result['id']}/submit").json()["status"] == "待审核"
    approved = reviewer.post(f"/api/results/{result['id']}/approve")
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (
        body["status"] == "已公示"
        and body["reviewed_by_name"]
        and body["reviewed_at"]
        and body["published_at"]
    )
    assert reviewer.post(f"/api/results/{result['id']}/approve").status_code == 409
    assert reviewer.post(f"/api/results/{result['id']}/return", {"reason": "再退回"}).status_code == 409

    # Every transition is in the audit trail.
    actions = [e["action"] for e in reviewer.get(f"/api/results/{result['id']}").json()["history"]]
    assert actions.count("result.submit") == 2 and "result.return" in actions and "result.approve" in actions

    # Published: public search by USCC and by a part of the name, the record page, cache headers.
    found = http.get("/api/public/results", params={"q": task["uscc"]})
    assert found.status_code == 200 and "max-age" in found.headers["cache-control"]
    assert [r["id"] for r in found.json()["results"] if r["task_id"] == task["task_id"]] == [result["id"]]
    assert all(r["uscc"] == task["uscc"] for r in found.json()["results"])
    by_name = http.get("/api/public/results", params={"q": task["name"][2:6]}).json()["results"]
    assert result["id"] in [r["id"] for r in by_name]
    record = http.get(f"/api/public/results/{result['id']}").json()
    assert record["categories"] == ["发现问题已责令改正"] and record["follow_up"] == "责令改正并跟踪"
    assert "summary" not in record and "entered_by" not in record
    assert task["uscc"] in http.get(f"/public/tasks/{task['task_id']}").text

    # The enterprise's last-checked date is updated (never moved back: another test may have recorded a later check).
    checked = admin_fetch(
        db_urls,
        "SELECT o.last_checked_on FROM registry_objects o JOIN departments d ON d.id = o.tenant_id"
        " WHERE o.uscc = $1 AND d.code = '130528-yjj'",
        task["uscc"],
    )
    assert checked[0]["last_checked_on"] >= dt.date.fromisoformat(draft["check_date"])

    # Rectification is tracked to closure: the follow-up closes only once every hazard is rechecked as fixed.
    detail = reviewer.get(f"/api/results/{result['id']}").json()
    hazard, follow = detail["hazards"][0], detail["follow_ups"][0]
    close_url = f"/api/results/{result['id']}/followups/{follow['id']}/close"
    assert inspector.post(close_url, {}).status_code == 409
    recheck = inspector.post(
        f"/api/results/{result['id']}/hazards/{hazard['id']}/recheck",
        {"rechecked_on": dt.date.today().isoformat(), "rectified": True, "note": "已砌筑防火堤"},
    )
    assert recheck.status_code == 200 and recheck.json()["hazards"][0]["status"] == "已整改"
    closed = inspector.post(close_url, {"note": "整改完毕"})
    assert closed.status_code == 200 and closed.json()["follow_ups"][0]["status"] == "已办结"
    assert inspector.post(close_url, {}).status_code == 409

    # Export in the platform's columns.
    csv = reviewer.get("/api/results/export", params={"format": "csv"})
    assert csv.status_code == 200 and "统一社会信用代码" in csv.text and task["uscc"] in csv.text
    xlsx = reviewer.get("/api/results/export", params={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert reviewer.get("/api/results/export", params={"format": "doc"}).status_code == 422


def test_attachments_checked_by_content_and_size(as_user: Any, task: dict[str, Any]) -> None:
    inspector = as_user(INSPECTOR)
    view = _entry(as_user, task)
    result = inspector.post(
        f"/api/tasks/{task['task_id']}/results/{task['uscc']}", complete_draft(view["points"])
    ).json()
    url = f"/api/results/{result['id']}/attachments"
    headers = inspector.headers()
    ok = inspector.client.post(url, headers=headers, files={"file": ("现场照片.png", PNG, "image/png")})
    assert ok.status_code == 201, ok.text
    assert ok.json()["content_type"] == "image/png"
    pdf = inspector.client.post(
        url, headers=headers, files={"file": ("责令整改通知书.pdf", PDF, "application/pdf")}
    )
    assert pdf.status_code == 201
    # A script claiming to be a JPEG is refused by its bytes.
    fake = inspector.client.post(
        url, headers=headers, files={"file": ("photo.jpg", b"<script>x</script>", "image/jpeg")}
    )
    assert fake.status_code == 415 and fake.json()["error"]["field"] == "file"
    big = inspector.client.post(
        url, headers=headers, files={"file": ("big.png", PNG + b"\x00" * (10 * 1024 * 1024), "image/png")}
    )
    assert big.status_code == 413 and "过大" in big.json()["error"]["message"]
    empty = inspector.client.post(
        url, headers=headers, data={"x": "1"}, files={"other": ("a.png", PNG, "image/png")}
    )
    assert empty.status_code == 422
    # Someone outside the team cannot attach.
    planner = as_user("yjj-planner")
    assert (
        planner.client.post(
            url, headers=planner.headers(), files={"file": ("a.png", PNG, "image/png")}
        ).status_code
        == 403
    )
    download = inspector.get(f"/api/attachments/{ok.json()['id']}")
    assert download.status_code == 200 and download.content == PNG
    assert download.headers["x-content-type-options"] == "nosniff"
    assert len(inspector.get(f"/api/results/{result['id']}").json()["attachments"]) == 2


def test_attachment_removal_by_the_team_while_editable(as_user: Any, task: dict[str, Any]) -> None:
    inspector, planner, reviewer = as_user(INSPECTOR), as_user("yjj-planner"), as_user("yjj-reviewer")
    view = _entry(as_user, task)
    result = inspector.post(
        f"/api/tasks/{task['task_id']}/results/{task['uscc']}", complete_draft(view["points"])
    ).json()
    url = f"/api/results/{result['id']}/attachments"
    photo, keep = (
        inspector.client.post(
            url, headers=inspector.headers(), files={"file": (name, PNG, "image/png")}
        ).json()
        for name in ("多余的照片.png", "现场照片.png")
    )
    # Only the team, and only its own result's attachment.
    assert planner.client.delete(f"{url}/{photo['id']}", headers=planner.headers()).status_code == 403
    assert inspector.client.delete(f"{url}/{uuid.uuid4()}", headers=inspector.headers()).status_code == 404
    removed = inspector.client.delete(f"{url}/{photo['id']}", headers=inspector.headers())
    assert removed.status_code == 200 and removed.json()["deleted"] is True
    assert inspector.get(f"/api/attachments/{photo['id']}").status_code == 404
    detail = inspector.get(f"/api/results/{result['id']}").json()
    assert [a["filename"] for a in detail["attachments"]] == ["现场照片.png"] and detail["attachments"][0][
        "removable"
    ]
    assert "result.detach" in [e["action"] for e in detail["history"]]
    # Submitted: evidence under review, fixed.
    assert inspector.post(f"/api/results/{result['id']}/submit").status_code == 200
    fixed = inspector.client.delete(f"{url}/{keep['id']}", headers=inspector.headers())
    assert fixed.status_code == 409 and fixed.json()["error"]["field"] == "status"
    assert reviewer.client.delete(f"{url}/{keep['id']}", headers=reviewer.headers()).status_code == 403
    assert inspector.get(f"/api/results/{result['id']}").json()["attachments"][0]["removable"] is False


def test_other_department_cannot_read_or_change_results(
    as_user: Any, http: httpx.Client, task: dict[str, Any]
) -> None:
    inspector = as_user(INSPECTOR)
    view = _entry(as_user, task)
    result = inspector.post(
        f"/api/tasks/{task['task_id']}/results/{task['uscc']}", complete_draft(view["points"])
    ).json()
    inspector.post(f"/api/results/{result['id']}/submit")
    fire = as_user("xf-admin")
    assert fire.get(f"/api/results/{result['id']}").status_code == 404
    assert fire.post(f"/api/results/{result['id']}/approve").status_code == 404
    assert fire.post(f"/api/results/{result['id']}/return", {"reason": "越权退回"}).status_code == 404
    assert fire.get(f"/api/tasks/{task['task_id']}/results/{task['uscc']}").status_code == 404
    assert all(r["id"] != result["id"] for r in fire.get("/api/results").json())
    assert as_user("yjj-reviewer").get(f"/api/results/{result['id']}").json()["result"]["status"] == "待审核"
    # Nor the public (the draft is under review, not published).
    assert http.get(f"/api/public/results/{result['id']}").status_code == 404


def test_results_list_flags_overdue(as_user: Any, task: dict[str, Any]) -> None:
    inspector = as_user(INSPECTOR)
    view = _entry(as_user, task)
    result = inspector.post(
        f"/api/tasks/{task['task_id']}/results/{task['uscc']}",
        {"points": [{"check_point_id": view["points"][0]["id"], "outcome": "符合"}]},
    ).json()
    # Checks of June 2023 were due on 28 July 2023: still unpublished, so overdue everywhere it is listed.
    assert result["overdue"] is True
    listed = {r["id"]: r for r in as_user("yjj-reviewer").get("/api/results").json()}
    assert listed[result["id"]]["overdue"] is True
    per_task = as_user("yjj-reviewer").get(f"/api/tasks/{task['task_id']}/results").json()
    assert per_task[0]["overdue"] is True


def test_concurrent_first_entries_neither_deadlock_nor_duplicate(
    as_user: Any, task: dict[str, Any], db_urls: dict[str, str]
) -> None:
    """Phone autosaves race: several first saves of two enterprises of one task at once all succeed, and each
    enterprise has exactly one result (the insert's lock on the task used to deadlock with 已匹配 → 实施中)."""
    from concurrent.futures import ThreadPoolExecutor

    from tests.inspection.conftest import ZHANG_WEI

    zhang = str(admin_fetch(db_urls, "SELECT id FROM inspectors WHERE user_id = $1", ZHANG_WEI)[0]["id"])
    planner = as_user("yjj-planner")

    def on_team(uscc: str) -> bool:
        teams = planner.get(f"/api/tasks/{task['task_id']}/teams").json()["teams"]
        return any(t["uscc"] == uscc and zhang in {m["inspector_id"] for m in t["members"]} for t in teams)

    # A second enterprise 张伟 may join: the matching rules (回避 of the last inspector, the slot's section) refuse
    # some of them with 409, and then he is not on that team.
    second = None
    for candidate in task["other_usccs"]:
        adjusted = planner.post(
            f"/api/tasks/{task['task_id']}/teams/adjust",
            {
                "uscc": candidate,
                "slot": 0,
                "inspector_id": zhang,
                "reason": "测试：同时录入两家企业的检查结果",
            },
        )
        assert adjusted.status_code in (200, 409), adjusted.text
        if on_team(candidate):
            second = candidate
            break
    assert second is not None, "张伟 may join none of the other drawn enterprises"
    inspector = as_user(INSPECTOR)
    inspector.headers()  # fetch the token once, outside the threads
    points = _entry(as_user, task)["points"]
    urls = [f"/api/tasks/{task['task_id']}/results/{uscc}" for uscc in (task["uscc"], second)] * 4
    with ThreadPoolExecutor(len(urls)) as pool:
        statuses = list(pool.map(lambda url: inspector.post(url, complete_draft(points)).status_code, urls))
    assert statuses == [200] * len(urls)
    rows = admin_fetch(
        db_urls,
        "SELECT uscc, count(*) AS n FROM inspection_results WHERE task_id = $1 GROUP BY uscc",
        uuid.UUID(task["task_id"]),
    )
    assert {r["uscc"]: r["n"] for r in rows} == {task["uscc"]: 1, second: 1}
    starts = admin_fetch(
        db_urls,
        "SELECT count(*) AS n FROM audit_events WHERE action = 'task.start' AND entity_id = $1",
        task["task_id"],
    )
    assert starts[0]["n"] == 1
