"""In the browser: a planner fills, saves and submits the monthly report and downloads it; the county overseer opens
the dashboard (server-rendered SVG charts, drill-down to a department's own page) and has no way to write."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.support.stack import AppServer


def test_monthly_report_and_county_dashboard(page: Page, app_server: AppServer) -> None:
    login(page, app_server.url, "yjj-planner")
    page.click("#nav-reports")
    expect(page.locator("#monthly-reports")).to_be_visible()
    page.goto(f"{app_server.url}/reports/monthly/2023/8")
    expect(page.locator("#report-status")).to_have_text("未填报")
    expect(page.locator("#report-due")).to_have_text("2023-09-23")
    expect(page.locator("#report-overdue")).to_be_visible()
    page.fill("#meetings", "8月10日召开专题会议部署双随机抽查")
    page.fill("#mobile", "手机号")
    page.click("#save-report")
    expect(page.locator("#form-error")).to_contain_text("mobile")
    page.fill("#mobile", "13900000000")
    page.fill("#contact_person", "李明")
    page.fill("#contact_phone", "0319-5812345")
    page.click("#save-report")
    expect(page.locator("#report-status")).to_have_text("草稿")
    expect(page.locator("#meetings")).to_have_value("8月10日召开专题会议部署双随机抽查")
    page.click("#submit-report")
    expect(page.locator("#report-status")).to_have_text("已提交")
    expect(page.locator("#submit-report")).to_have_count(0)
    with page.expect_download() as download:
        page.click("#export-report")
    rows = list(
        load_workbook(io.BytesIO(open(download.value.path(), "rb").read())).active.iter_rows(values_only=True)
    )
    assert rows[0][0] == "宁晋县应急管理局“双随机、一公开”监管工作月报表"
    assert rows[4][2] == "8月10日召开专题会议部署双随机抽查"
    page.context.clear_cookies()

    login(page, app_server.url, "county-overseer")
    page.click("#nav-oversight")
    expect(page.locator("#dashboard tbody tr[data-code='130528-xfjy']")).to_have_count(1)
    assert page.locator("#dashboard tbody tr").count() >= 3  # other tests may add departments to the county
    assert page.locator("svg.chart").count() >= 2
    assert page.locator("script").count() == 0
    page.click("#dashboard a:has-text('宁晋县应急管理局')")
    expect(page.locator("#department-name")).to_contain_text("宁晋县应急管理局")
    expect(page.locator("#nav-reports")).to_have_count(0)
    # No form anywhere on the overseer's dashboard writes anything (only the logout form posts).
    assert [f.get_attribute("action") for f in page.locator("form[method=post]").all()] == ["/logout"]
