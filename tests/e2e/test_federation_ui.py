"""联2023001 in two browsers: the lead invites, the partner accepts on its own login, one draw serves both."""

from __future__ import annotations

from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import login
from tests.support.stack import AppServer


def test_lead_invites_partner_accepts_in_another_browser(
    page: Page, browser: Browser, app_server: AppServer
) -> None:
    login(page, app_server.url, "yjj-planner")
    page.click("text=部门联合抽查")
    page.click("#new-joint")
    page.check("input[name=partners][value='130528-xfjy']")
    page.fill("#table_date", "2023-01-13")
    page.click("#create-joint")
    expect(page.locator("#plan-name")).to_contain_text("2023年宁晋县部门联合抽查")
    expect(page.locator("#participants")).to_contain_text("邀请中")
    plan_url = page.url

    partner_context = browser.new_context(locale="zh-CN")
    try:
        partner = partner_context.new_page()
        login(partner, app_server.url, "xf-planner")
        partner.click("text=部门联合抽查")
        expect(partner.locator("#invitations")).to_contain_text("宁晋县应急管理局")
        partner.goto(plan_url)
        partner.click("#accept")
        expect(partner.locator("#participants")).to_contain_text("已接受")
        expect(partner.locator("#manage-plan")).to_have_count(0)
    finally:
        partner_context.close()

    page.reload()
    expect(page.locator("#participants")).to_contain_text("已接受")
    page.click("#manage-plan")
    expect(page.locator("#plan-number")).to_contain_text("联2023")
