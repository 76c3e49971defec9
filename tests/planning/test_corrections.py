"""Correcting a plan's mistakes with a trail (issue #17 item 1): edit a draft task, correct an announced one (its
announcement voided publicly, then announced again), cancel a task or the whole plan with a reason; refusals once
the draw is done; another department can do none of it; every change is on the plan's trail."""

from __future__ import annotations

from typing import Any

import httpx

from tests.planning.conftest import SEED_TASK_2023001


def _plan(as_user: Any) -> dict[str, Any]:
    planner = as_user("yjj-planner")
    plan = planner.post("/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"})
    assert plan.status_code == 201, plan.text
    task = planner.post(f"/api/plans/{plan.json()['id']}/tasks", SEED_TASK_2023001)
    assert task.status_code == 201, task.text
    result: dict[str, Any] = {**plan.json(), "task": task.json()}
    return result


def _patch(http: httpx.Client, api: Any, path: str, body: dict[str, Any]) -> httpx.Response:
    return http.patch(path, json=body, headers=api.headers())


def test_a_draft_task_is_edited_and_the_trail_shows_it(as_user: Any, http: httpx.Client) -> None:
    planner = as_user("yjj-planner")
    plan = _plan(as_user)
    task_id = plan["task"]["id"]
    corrected = {**SEED_TASK_2023001, "name": "宁晋县应急管理局2023年度危化企业抽查（更正）", "class_ratios": None,
                 "ratio": "10%"}  # fmt: skip
    edited = _patch(http, planner, f"/api/tasks/{task_id}", corrected)
    assert edited.status_code == 200, edited.text
    assert edited.json()["name"].endswith("（更正）") and edited.json()["ratios"] == {"ALL": "0.1"}
    assert edited.json()["number"] == plan["task"]["number"]  # the number is not burnt

    bad = _patch(http, planner, f"/api/tasks/{task_id}", {**corrected, "ratio": "NaN"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "ratio"
    assert planner.get(f"/api/tasks/{task_id}").json()["ratios"] == {"ALL": "0.1"}  # nothing changed

    changes = planner.get(f"/api/plans/{plan['id']}/changes").json()
    assert [c["action"] for c in changes] == ["创建计划", "添加任务", "更正任务"]


def test_an_announced_task_is_corrected_with_a_public_reason_then_announced_again(
    as_user: Any, http: httpx.Client
) -> None:
    planner = as_user("yjj-planner")
    plan = _plan(as_user)
    task_id = plan["task"]["id"]
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    first = planner.post(f"/api/tasks/{task_id}/announce", {})
    assert first.status_code == 201, first.text

    no_reason = _patch(http, planner, f"/api/tasks/{task_id}", SEED_TASK_2023001)
    assert no_reason.status_code == 422 and no_reason.json()["error"]["field"] == "reason"

    body = {**SEED_TASK_2023001, "scope_note": "2023年直接监管危化企业（更正）", "reason": "对象范围说明有误"}
    corrected = _patch(http, planner, f"/api/tasks/{task_id}", body)
    assert corrected.status_code == 200, corrected.text
    assert corrected.json()["status"] == "草稿"
    old = planner.get(f"/api/draws/{first.json()['id']}").json()
    assert old["status"] == "已作废" and "对象范围说明有误" in old["void_reason"]
    public = http.get(f"/api/public/draws/{first.json()['id']}")
    assert public.status_code == 200 and "对象范围说明有误" in public.text  # the old commitment stays public

    again = planner.post(f"/api/tasks/{task_id}/announce", {})
    assert again.status_code == 201, again.text
    assert again.json()["id"] != first.json()["id"]
    drawn = planner.post(f"/api/tasks/{task_id}/draw", {})
    assert drawn.status_code == 200, drawn.text
    late = _patch(http, planner, f"/api/tasks/{task_id}", body)
    assert late.status_code == 409 and "撤销" in late.json()["error"]["message"]


def test_cancelling_a_task_and_a_plan(as_user: Any, http: httpx.Client) -> None:
    planner = as_user("yjj-planner")
    plan = _plan(as_user)
    task_id = plan["task"]["id"]
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    assert planner.post(f"/api/tasks/{task_id}/announce", {}).status_code == 201
    drawn = planner.post(f"/api/tasks/{task_id}/draw", {})
    assert drawn.status_code == 200

    short = planner.post(f"/api/tasks/{task_id}/cancel", {"reason": "错"})
    assert short.status_code == 422 and short.json()["error"]["field"] == "reason"
    cancelled = planner.post(f"/api/tasks/{task_id}/cancel", {"reason": "上级通知本年度不再开展此项抽查"})
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "已作废"
    draw = http.get(f"/api/public/draws/{drawn.json()['id']}")
    assert "任务已撤销" in draw.text and "上级通知" in draw.text
    assert planner.post(f"/api/tasks/{task_id}/cancel", {"reason": "再撤销一次试试"}).status_code == 409

    whole = planner.post(f"/api/plans/{plan['id']}/cancel", {"reason": "计划整体调整，重新制定"})
    assert whole.status_code == 200, whole.text
    assert whole.json()["status"] == "已撤销"
    assert (
        planner.post(f"/api/plans/{plan['id']}/cancel", {"reason": "计划整体调整，重新制定"}).status_code
        == 409
    )
    actions = [c["action"] for c in planner.get(f"/api/plans/{plan['id']}/changes").json()]
    assert actions[-2:] == ["撤销任务", "撤销计划"]


def test_another_department_cannot_correct_or_cancel(as_user: Any, http: httpx.Client) -> None:
    plan = _plan(as_user)
    task_id = plan["task"]["id"]
    other = as_user("xf-planner")
    assert _patch(http, other, f"/api/tasks/{task_id}", SEED_TASK_2023001).status_code == 404
    assert other.post(f"/api/tasks/{task_id}/cancel", {"reason": "别的部门来撤销"}).status_code == 404
    assert other.post(f"/api/plans/{plan['id']}/cancel", {"reason": "别的部门来撤销"}).status_code == 404
    assert _patch(http, other, f"/api/plans/{plan['id']}", {"table_date": "2023-02-01"}).status_code == 404
    assert other.get(f"/api/plans/{plan['id']}/changes").status_code == 404
    owner = as_user("yjj-planner")
    assert owner.get(f"/api/tasks/{task_id}").json()["status"] == "草稿"


def test_a_plan_is_edited_until_a_task_is_announced(as_user: Any, http: httpx.Client) -> None:
    planner = as_user("yjj-planner")
    plan = _plan(as_user)
    edited = _patch(
        http, planner, f"/api/plans/{plan['id']}", {"table_date": "2023-01-20", "reason": "制表日期"}
    )
    assert edited.status_code == 200 and edited.json()["table_date"] == "2023-01-20"
    unknown = _patch(http, planner, f"/api/plans/{plan['id']}", {"initiating_section": "nosuch"})
    assert unknown.status_code == 422 and unknown.json()["error"]["field"] == "initiating_section"
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    assert planner.post(f"/api/tasks/{plan['task']['id']}/announce", {}).status_code == 201
    locked = _patch(http, planner, f"/api/plans/{plan['id']}", {"table_date": "2023-01-21"})
    assert locked.status_code == 409
