"""一企一表 in the browser: the lead's reviewer sees both departments' parts and publishes one record; the market
regulator handles a referral (抄告) on its own login. Set-up through the API (the flow itself is in
tests/federation/test_joint_results.py)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import login
from tests.federation.test_joint_results import _answers, matched_joint_task
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer


def test_unified_record_and_referral_pages(
    page: Page,
    browser: Browser,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
) -> None:
    joint = matched_joint_task(as_user, db_urls)
    task_id, uscc = joint["task_id"], joint["uscc"]
    # The lead's member of the merged team finds the enterprise among the tasks to enter (joint assignments).
    login(page, app_server.url, "yjj-insp-whjg")
    page.goto(f"{app_server.url}/results")
    expect(page.locator(f"#my-entries .entry-link[href='/results/entry/{task_id}/{uscc}']")).to_be_visible()
    page.context.clear_cookies()
    base = f"/api/tasks/{task_id}/results/{uscc}"
    parts = []
    for inspector, reviewer, bad, extra in (
        (
            "yjj-insp-whjg",
            "yjj-reviewer",
            "储罐区标识不清",
            {"categories": ["违反其他部门相关规定"], "follow_ups": [{"action": "抄告相关部门"}]},
        ),
        (
            "xf-inspector",
            "xf-admin",
            None,
            {"categories": ["未发现问题"], "follow_ups": [{"action": "无需后续处置"}]},
        ),
    ):
        who = as_user(inspector)
        points = who.get(base).json()["points"]
        saved = who.post(
            base,
            {"check_date": "2023-06-15", "points": _answers(points, bad), "summary": "现场检查", **extra},
        )
        assert saved.status_code == 200, saved.text
        assert who.post(f"/api/results/{saved.json()['id']}/submit").status_code == 200
        assert (
            as_user(reviewer).post(f"/api/results/{saved.json()['id']}/approve").json()["status"] == "已通过"
        )
        parts.append(saved.json()["id"])

    login(page, app_server.url, "yjj-reviewer")
    page.goto(f"{app_server.url}/federation/records/{task_id}/{uscc}")
    expect(page.locator("#record-departments")).to_contain_text("宁晋县应急管理局、宁晋县消防救援大队")
    expect(page.locator(".part")).to_have_count(2)
    page.click("#publish")
    expect(page.locator("#published")).to_contain_text("宁晋县应急管理局、宁晋县消防救援大队")
    page.click("#published a")
    expect(page.locator("#record-departments")).to_contain_text("宁晋县消防救援大队")

    followup = as_user("yjj-reviewer").get(f"/api/results/{parts[0]}").json()["follow_ups"][0]
    sent = as_user("yjj-reviewer").post(
        "/api/federation/referrals",
        {"result_id": parts[0], "followup_id": followup["id"], "department": "130528-scjg"},
    )
    assert sent.status_code == 201, sent.text
    market_context = browser.new_context(locale="zh-CN")
    try:
        market = market_context.new_page()
        login(market, app_server.url, "scjg-admin")
        market.goto(f"{app_server.url}/federation/referrals")
        row = market.locator("#referrals tr", has_text="储罐区标识不清")
        expect(row).to_contain_text("待受理")
        row.locator("select[name=status]").select_option("已受理")
        row.locator("button").click()
        expect(market.locator("#referrals tr", has_text="储罐区标识不清")).to_contain_text("已受理")
    finally:
        market_context.close()
    assert (
        as_user("yjj-reviewer").get(f"/api/federation/referrals/{sent.json()['id']}").json()["status"]
        == "已受理"
    )


def test_overseer_overlaps_page(page: Page, app_server: AppServer) -> None:
    login(page, app_server.url, "county-overseer")
    page.goto(f"{app_server.url}/federation/overlaps?year=2041")
    expect(page.locator("#overlaps")).to_be_visible()
    expect(page.locator("#overlap-year")).to_have_value("2041")
    page.goto(f"{app_server.url}/federation/overlaps?year=1999")
    expect(page.locator("main")).to_contain_text("不能小于 2000")
