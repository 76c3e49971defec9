"""In the browser: the county overseer goes from the dashboard to a joint plan (read-only) and sees its progress;
the plan of 2023 entered today is marked 补录 on the planner's plan page and the overseer's view."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.federation.test_joint_results import matched_joint_task
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer


def test_overseer_drills_down_to_the_joint_plan(
    page: Page,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
) -> None:
    joint = matched_joint_task(as_user, db_urls)
    plan_id = joint["plan_id"]
    login(page, app_server.url, "county-overseer")
    page.goto(f"{app_server.url}/oversight?year=2023&department=130528-yjj")
    link = page.locator(f'a.joint-task[href="/oversight/plans/{plan_id}"]')
    expect(link).to_have_count(1)
    link.click()
    page.wait_for_url(f"{app_server.url}/oversight/plans/{plan_id}")
    expect(page.locator("#plan-back-entry")).to_have_text("补录")
    expect(page.locator("#plan-department")).to_have_text("宁晋县应急管理局")
    expect(page.locator("#plan-participants")).to_contain_text("宁晋县消防救援大队（已接受）")
    expect(page.locator("#plan-progress .task-checked")).to_have_text("0")
    expect(page.locator("#plan-progress .task-published")).to_have_text("0")
    # Read-only: no form, no button that writes.
    expect(page.locator("main form")).to_have_count(0)
