"""In the browser: the county overseer traces a figure down, county → department → plan → task → enterprise, each a
page of its own (not a filter of one table), exports what each shows, and axe-core finds no critical or serious
violation on the way."""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import assert_accessible, screenshot
from tests.e2e.conftest import login
from tests.inspection.conftest import matched_task_with_inspector
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer


def _download(page: Page, selector: str) -> bytes:
    with page.expect_download() as download:
        page.click(selector)
    return open(download.value.path(), "rb").read()


def test_overseer_drills_down_from_county_to_enterprise(
    page: Page,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    base = app_server.url
    login(page, base, "county-overseer")
    page.goto(f"{base}/oversight?year=2023")
    expect(page.locator("svg.chart title").first).to_contain_text("2023年全县按月检查与公示")
    assert page.locator("script").count() == 0
    assert_accessible(page)
    screenshot(page, "oversight-county")
    county = _download(page, "#export-csv").decode("utf-8-sig")
    assert "宁晋县应急管理局" in [r[0] for r in csv.reader(io.StringIO(county))]

    # County → department: a page of its own.
    page.click("#dashboard a.dept-link:has-text('宁晋县应急管理局')")
    page.wait_for_url(f"{base}/oversight/departments/130528-yjj?year=2023")
    expect(page.locator("#department-name")).to_have_text("宁晋县应急管理局 · 2023年")
    assert_accessible(page)
    screenshot(page, "oversight-department")
    sheet = list(
        load_workbook(io.BytesIO(_download(page, "#export-xlsx"))).active.iter_rows(values_only=True)
    )
    assert len(sheet) - 2 == page.locator("#department-plans a.plan-link").count()

    # Department → plan → task.
    page.click(f'#department-plans a.plan-link[href="/oversight/plans/{task["plan_id"]}"]')
    page.wait_for_url(f"{base}/oversight/plans/{task['plan_id']}")
    assert_accessible(page)
    page.click(f'#plan-progress a.task-link[href="/oversight/tasks/{task["task_id"]}"]')
    page.wait_for_url(f"{base}/oversight/tasks/{task['task_id']}")
    rows = page.locator("#task-enterprises tbody tr[data-uscc]")
    expect(rows.first).to_be_visible()
    expect(page.locator(f'#task-enterprises tr[data-uscc="{task["uscc"]}"] .enterprise-status')).to_have_text(
        "未录入"
    )
    expect(page.locator("#crumb-department")).to_have_text("宁晋县应急管理局")
    assert_accessible(page)
    screenshot(page, "oversight-task")
    exported = list(csv.reader(io.StringIO(_download(page, "#export-csv").decode("utf-8-sig"))))
    assert [r[2] for r in exported[1:]] == [
        rows.nth(i).get_attribute("data-uscc") for i in range(rows.count())
    ]
    # The breadcrumb leads back up; nothing on the way writes (only the logout form posts).
    page.click("#crumb-department")
    page.wait_for_url(f"{base}/oversight/departments/130528-yjj?year=2023")
    assert [f.get_attribute("action") for f in page.locator("form[method=post]").all()] == ["/logout"]


def test_department_sees_its_own_drill_down(
    page: Page,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
) -> None:
    login(page, app_server.url, "xf-admin")
    page.goto(f"{app_server.url}/oversight/departments/130528-yjj?year=2023")
    expect(page.locator("#error-status")).to_have_text("未找到")
    page.goto(f"{app_server.url}/oversight?year=2023")
    expect(page.locator("#dashboard tbody tr")).to_have_count(1)
    assert_accessible(page)
