"""A planner corrects an announced task and cancels a plan in the browser; the trail shows each change."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.planning.conftest import SEED_TASK_2023001, as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer


def test_planner_corrects_then_cancels(page: Page, app_server: AppServer, as_user: Any) -> None:  # noqa: F811
    planner = as_user("yjj-planner")
    plan = planner.post("/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}).json()
    task = planner.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001).json()
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    assert planner.post(f"/api/tasks/{task['id']}/announce", {}).status_code == 201

    login(page, app_server.url, "yjj-planner")
    page.goto(f"{app_server.url}/plans/{plan['id']}")
    page.click(f"#edit-task-{task['number']}")
    expect(page.locator("#reannounce-warning")).to_be_visible()
    page.fill("#scope_note", "2023年直接监管危化企业（更正）")
    page.click("#create-task")  # no reason: refused, values kept
    expect(page.locator("#form-error")).to_contain_text("理由")
    expect(page.locator("#scope_note")).to_have_value("2023年直接监管危化企业（更正）")
    page.fill("#reason", "对象范围说明有误")
    page.click("#create-task")
    expect(page.locator("#task-status")).to_have_text("待公告抽取")  # back to draft under the published plan

    page.goto(f"{app_server.url}/plans/{plan['id']}")
    page.click("text=撤销整个计划")
    page.fill("#cancel-plan-reason", "计划整体调整，重新制定")
    page.click("#cancel-plan")
    expect(page.locator("#plan-status")).to_have_text("已撤销")
    trail = page.locator("#changes")
    expect(trail).to_contain_text("更正任务")
    expect(trail).to_contain_text("对象范围说明有误")
    expect(trail).to_contain_text("撤销计划")
    page.screenshot(path=str(app_server.log.parent / "corrections.png"), full_page=True)
