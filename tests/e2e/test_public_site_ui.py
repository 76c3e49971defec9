"""A member of the public, on a desktop and on a 390×844 phone: finds a published check by name with filters, opens
the record and the enterprise's page, sees 已抽中，检查中 for an enterprise drawn but not yet published, reads the
statistics, and meets friendly pages for what is not public; axe-core finds no critical or serious violation."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.accessibility import assert_accessible, no_horizontal_scroll, screenshot
from tests.inspection.conftest import INSPECTOR, complete_draft, matched_task_with_inspector
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer

REPR = re.compile(r"<built-in|<bound method|object at 0x|\bNone\b|\{'")


@pytest.fixture(scope="module")
def published(app_server: AppServer, sso: Any, db_urls: dict[str, str]) -> dict[str, Any]:
    """A drawn task of yjj with one enterprise's result published through the real flow, the others drawn only."""
    import httpx

    from tests.planning.conftest import Api

    with httpx.Client(base_url=app_server.url, timeout=60) as client:

        def as_(username: str) -> Api:
            return Api(client, sso, username)

        task = matched_task_with_inspector(as_, db_urls)
        url = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"
        inspector = as_(INSPECTOR)
        points = inspector.get(url).json()["points"]
        saved = inspector.post(url, complete_draft(points, categories=["发现问题已责令改正"]))
        assert saved.status_code == 200, saved.text
        assert inspector.post(f"/api/results/{saved.json()['id']}/submit").status_code == 200
        approved = as_("yjj-reviewer").post(f"/api/results/{saved.json()['id']}/approve")
        assert approved.status_code == 200, approved.text
        return {**task, "result_id": saved.json()["id"]}


def _clean(page: Page) -> None:
    text = page.locator("main").inner_text()
    assert not REPR.search(text), f"{page.url}: {REPR.search(text)}"
    assert "回到工作台" not in text


def _journey(page: Page, base: str, task: dict[str, Any], name: str) -> None:
    page.goto(f"{base}/public")
    expect(page.locator("h1")).to_contain_text("抽查结果公示")
    assert_accessible(page)
    screenshot(page, f"{name}-public-home")
    # Search by a part of the name, narrowed to the department, the year and the result category.
    page.fill("#q", task["name"][2:6])
    page.select_option("#department", label="宁晋县应急管理局")
    page.select_option("#year", str(dt.date.today().year))
    page.select_option("#category", "发现问题已责令改正")
    page.click("#search")
    link = page.locator(f'#public-results a.pub-name[href="/public/results/{task["result_id"]}"]')
    expect(link).to_have_count(1)
    assert_accessible(page)
    _clean(page)
    screenshot(page, f"{name}-public-search")
    link.click()
    expect(page.locator("#record-name")).to_have_text(task["name"])
    expect(page.locator("#record-categories")).to_have_text("发现问题已责令改正")
    _clean(page)
    assert_accessible(page)
    screenshot(page, f"{name}-public-record")
    # Every check of the enterprise, across departments.
    page.click("#record-enterprise")
    expect(page.locator("#enterprise-uscc")).to_have_text(task["uscc"])
    expect(page.locator(f'#published-checks a[href="/public/results/{task["result_id"]}"]')).to_have_count(1)
    assert_accessible(page)
    _clean(page)
    screenshot(page, f"{name}-public-enterprise")
    # Another enterprise of the same draw: nothing published yet, so 已抽中，检查中 (not "未查询到").
    other = task["other_usccs"][0]
    page.goto(f"{base}/public?q={other}")
    page.click("#enterprise-link")
    expect(page.locator("#in-progress")).to_contain_text("已抽中，检查中")
    expect(page.locator('#in-progress a[href^="/public/draws/"]')).to_have_count(
        page.locator("#in-progress li").count()
    )
    assert_accessible(page)
    _clean(page)
    screenshot(page, f"{name}-public-drawn")
    # Statistics per department, and a way to its records.
    page.goto(f"{base}/public")
    page.click("#statistics-link")
    row = page.locator("#statistics tbody tr[data-code='130528-yjj']")
    expect(row).to_have_count(1)
    assert int(row.locator("[data-k=published]").inner_text()) >= 1
    assert_accessible(page)
    _clean(page)
    screenshot(page, f"{name}-public-statistics")
    # What is not public: friendly pages of the public site.
    page.goto(f"{base}/public/tasks/{uuid.uuid4()}")
    expect(page.locator("#missing-title")).to_have_text("未找到该抽查任务")
    assert_accessible(page)
    _clean(page)
    screenshot(page, f"{name}-public-missing")


def test_public_journey_desktop(page: Page, app_server: AppServer, published: dict[str, Any]) -> None:
    _journey(page, app_server.url, published, "desktop")


def test_public_journey_phone(phone: Page, app_server: AppServer, published: dict[str, Any]) -> None:
    _journey(phone, app_server.url, published, "phone")
    for path in ("/public", f"/public/enterprises/{published['uscc']}", "/public/statistics"):
        phone.goto(app_server.url + path)
        no_horizontal_scroll(phone)
    # Touch-sized controls on the search form.
    phone.goto(app_server.url + "/public")
    for selector in ("#q", "#department", "#year", "#category", "#search"):
        assert phone.locator(selector).bounding_box()["height"] >= 44  # type: ignore[index]
