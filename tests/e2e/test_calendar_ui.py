"""A department reads the platform's holiday calendar that operators loaded; the page offers no way to change it."""

from __future__ import annotations

import datetime as dt

from playwright.sync_api import Page, expect

from services.disclosure.deadlines import CalendarYear, load_year
from tests.e2e.conftest import login
from tests.support.services import run
from tests.support.stack import AppServer


def test_admin_reads_the_loaded_calendar(page: Page, app_server: AppServer, db_urls: dict[str, str]) -> None:
    schedule = CalendarYear(holidays=[dt.date(2096, 1, 1)], workdays=[dt.date(2096, 1, 5)], note="测试")
    run(load_year, db_urls["admin"], 2096, schedule, "运维 王芳")
    login(page, app_server.url, "yjj-admin")
    page.goto(f"{app_server.url}/results/calendar/2096")
    expect(page.locator("h1")).to_have_text("2096 年法定节假日安排")
    expect(page.locator("main")).to_contain_text("已导入官方安排（运维 王芳")
    expect(page.locator("main")).to_contain_text("2096-01-05")
    expect(page.locator("main")).to_contain_text("由平台运维人员")
    assert page.locator("main form").count() == 0
