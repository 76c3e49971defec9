"""The enterprise's journey in Chromium: the planner prints the 告知书, the enterprise scans its code (opens the
URL on a phone, no login), sees who is coming and why it was chosen, and evaluates the visit with the secret part
printed on the notice. Every page passes axe-core without critical or serious violations."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page

from tests.e2e.conftest import login
from tests.enterprise.conftest import matched_task
from tests.planning.conftest import Api
from tests.support.stack import SSO, AppServer

SHOTS = Path("/tmp/spotcheck-enterprise-shots")


@pytest.fixture
def as_user(app_server: AppServer, sso: SSO) -> Iterator[Any]:
    with httpx.Client(base_url=app_server.url, timeout=60) as client:
        yield lambda username, department=None: Api(client, sso, username, department)


def _accessible(page: Page, name: str) -> None:
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)
    violations = Axe().run(page).response["violations"]
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in violations
        if v["impact"] in ("critical", "serious")
    ]
    assert bad == [], f"{name}: {bad}"


def test_notice_scan_why_us_evaluate(
    browser: Browser, page: Page, app_server: AppServer, as_user: Any
) -> None:
    task = matched_task(as_user)
    uscc = task["teams"]["teams"][0]["uscc"]
    login(page, app_server.url, "yjj-planner")
    page.goto(f"{app_server.url}/tasks/{task['id']}")
    assert page.locator("#print-all-notices").count() == 1
    page.goto(f"{app_server.url}/tasks/{task['id']}/notice/{uscc}")
    sheet = page.locator("article.sheet")
    assert sheet.count() == 1
    assert "随机抽查告知书" in page.inner_text("h1")
    assert re.search(r"〔2023〕", page.inner_text("#notice-no"))
    assert page.locator("article.sheet svg").count() == 1  # the QR
    code = page.inner_text(".notice-code")
    secret = page.inner_text(".notice-secret")
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", code) and re.fullmatch(
        r"[0-9A-Z]{4}(-[0-9A-Z]{4}){2}", secret
    )
    assert "盖章处" in page.inner_text(".seal") and "年" in page.inner_text(".seal")
    assert f"/public/draws/{task['draw']['id']}" in page.inner_text("article.sheet")
    page.emulate_media(media="print")
    assert not page.locator(".toolbar").is_visible()
    page.emulate_media(media="screen")
    _accessible(page, "notice")
    # The whole task, one notice per page.
    page.goto(f"{app_server.url}/tasks/{task['id']}/notices")
    assert page.locator("article.sheet").count() == len(task["teams"]["teams"])

    # The enterprise scans the QR: the URL printed next to it, on a phone, without logging in.
    url = re.search(r"https?://\S+/v/[0-9A-Z]{10}", page.content())
    assert url is not None
    phone = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    ).new_page()
    phone.goto(f"{app_server.url}/v/{code}")
    assert phone.inner_text("#scan-status") == "有效"
    assert phone.inner_text("#scan-uscc") == uscc
    assert int(phone.inner_text("#why-rank")) >= 1
    assert phone.locator("#scan-inspectors tbody tr").count() == len(task["teams"]["teams"][0]["members"])
    assert secret not in phone.content()
    _accessible(phone, "scan-phone")
    phone.click("#why-verify")
    phone.wait_for_url(f"**/public/draws/{task['draw']['id']}")
    phone.go_back()

    # Evaluate with the secret part from the notice.
    phone.click("#scan-evaluate")
    _accessible(phone, "evaluate-phone")
    phone.fill("#secret", "AAAA-AAAA-AAAA")
    phone.click("#evaluation-submit")
    assert "评价码不正确" in phone.inner_text("#evaluation-error")
    phone.fill("#secret", secret)
    phone.select_option("#conduct", "4")
    phone.fill("#comment", "检查人员出示了证件，态度很好")
    phone.click("#evaluation-submit")
    assert "评价已提交" in phone.inner_text("#evaluation-done")
    phone.goto(f"{app_server.url}/v/{code}")
    assert "已评价" in phone.inner_text("#scan-evaluated")

    # The enterprise's own page and the open data page.
    phone.goto(f"{app_server.url}/public/enterprise")
    phone.fill("#uscc", uscc)
    phone.fill("#lookup-code", code)
    phone.click("#enterprise-submit")
    assert phone.locator("#enterprise-pending tbody tr").count() >= 1
    _accessible(phone, "enterprise-phone")
    phone.goto(f"{app_server.url}/public/open-data")
    _accessible(phone, "open-data-phone")
    phone.context.close()


def test_inspector_shows_the_code_and_overseer_page(
    browser: Browser, app_server: AppServer, as_user: Any
) -> None:
    task = matched_task(as_user)
    team = task["teams"]["teams"][0]
    phone = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True
    ).new_page()
    login(phone, app_server.url, "yjj-insp-whjg")
    phone.goto(f"{app_server.url}/results/entry/{task['id']}/{team['uscc']}")
    phone.click("#inspector-code-link")
    assert re.fullmatch(r"[0-9A-Z]{5}-[0-9A-Z]{5}", phone.inner_text("#public-code"))
    assert phone.locator(".qr-box svg").count() == 1
    _accessible(phone, "inspector-code-phone")
    phone.context.close()

    desk = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800}).new_page()
    login(desk, app_server.url, "county-overseer")
    desk.goto(f"{app_server.url}/oversight/enterprise")
    assert desk.locator("#most-visited").count() == 1
    _accessible(desk, "oversight-enterprise")
    desk.goto(f"{app_server.url}/oversight")
    assert desk.locator("#findings-by-class").count() == 1
    desk.context.close()
