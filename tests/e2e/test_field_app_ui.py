"""The inspector's field app on a phone (390×844): a day's work from the worklist to 提交审核 with a photo taken at a
check point; a refused save that keeps every value and shows each error beside its field; a draft typed offline
that survives a reload and a closed tab and syncs when the network is back, and a conflict with the server's copy;
accessibility (axe-core) of the home and entry pages. Screenshots go to the test's temporary directory."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect

from tests.e2e.conftest import login
from tests.e2e.test_attachments_ui import png
from tests.inspection.conftest import INSPECTOR, matched_task_with_inspector
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer

PHONE = {"viewport": {"width": 390, "height": 844}, "is_mobile": True, "has_touch": True, "locale": "zh-CN"}
# What a page must never show: Python's None, reprs, dict literals, API field paths.
LEAKS = re.compile(
    r"\bNone\b|<built-in|<bound method| object at 0x|\{'|\(points\[|points\[\d|hazards\[\d|Object missing"
)


def shot(page: Page, tmp_path: Path, name: str) -> None:
    page.screenshot(path=str(tmp_path / f"{name}.png"), full_page=True)


def no_serious_violations(page: Page) -> None:
    found = Axe().run(page).response["violations"]
    serious = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in found
        if v["impact"] in ("critical", "serious")
    ]
    assert serious == [], serious


def clean_text(page: Page) -> None:
    text = page.locator("body").inner_text()
    assert not LEAKS.search(text), LEAKS.search(text)


TARGETS = (
    "#entry-form input:not(.sr-only):not([type=hidden]):not([type=checkbox]), #entry-form textarea,"
    " #entry-form select, #entry-form button, label.choice, label.check, label.photo-button"
)


def phone_sized(page: Page) -> None:
    """Text of the controls ≥ 16 px (no zoom on iOS), every tap target ≥ 44 px tall."""
    small = page.evaluate(
        """targets => [...document.querySelectorAll(targets)]
            .filter(e => e.offsetParent !== null)
            .map(e => [e.id || e.textContent.trim().slice(0, 12), parseFloat(getComputedStyle(e).fontSize),
                       e.getBoundingClientRect().height])
            .filter(([, size, height]) => size < 16 || height < 44)""",
        TARGETS,
    )
    assert small == [], small


def test_a_day_of_field_work(
    phone: Page,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
    tmp_path: Path,
) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    login(phone, app_server.url, INSPECTOR)
    assert phone.url.rstrip("/").endswith("/field")  # an inspector lands on the field app
    phone.goto(f"{app_server.url}/field")
    link = phone.locator(f"#todo .entry-link[href='/field/entry/{task['task_id']}/{task['uscc']}']")
    expect(link).to_be_visible()
    expect(link).to_contain_text(task["name"])
    expect(link).to_contain_text("公示期限")
    expect(phone.locator("link[rel=manifest]")).to_have_attribute(
        "href", "/static/field/manifest.webmanifest"
    )
    # Most urgent first: the due dates of the list never go down.
    dues = phone.locator("#todo time").evaluate_all("els => els.map(e => e.getAttribute('datetime'))")
    assert dues == sorted(dues)
    shot(phone, tmp_path, "field-home")
    clean_text(phone)
    no_serious_violations(phone)

    link.click()
    expect(phone.locator("#entry-title")).to_have_text(task["name"])
    phone_sized(phone)
    points = phone.locator(".point").evaluate_all("els => els.map(e => e.dataset.point)")
    assert points
    # A photo at the first check point, before anything was saved: the draft is saved first, the photo follows,
    # and the page is never left.
    entry_url = phone.url
    phone.set_input_files(
        f"#photo-{points[0]}", files=[{"name": "现场照片.png", "mimeType": "image/png", "buffer": png()}]
    )
    expect(phone.locator(f"#thumbs-{points[0]} .attachment .attachment-name")).to_have_text("现场照片.png")
    assert phone.url == entry_url
    phone.fill("#check_date", "2023-06-15")
    for pid in points:
        phone.click(f"label[for='outcome_{pid}_1']")  # 符合
    phone.locator("label.check", has_text="未发现问题").click()
    phone.locator("label.check", has_text="无需后续处置").click()
    phone.fill("#summary", "现场检查未发现问题。")
    phone.click("#save-draft")
    expect(phone.locator("#saved")).to_be_visible()
    # The save bar stays in view at the bottom of the screen.
    bar = phone.locator("#save-bar").bounding_box()
    assert bar is not None and bar["y"] + bar["height"] <= 844 + 1
    shot(phone, tmp_path, "field-entry")
    clean_text(phone)
    no_serious_violations(phone)

    phone.click("#submit-result")
    expect(phone.locator("#submit-confirm")).to_be_visible()
    phone.click("#confirm-submit")
    expect(phone.locator("#result-status")).to_have_text("待审核")
    result = as_user(INSPECTOR).get(f"/api/tasks/{task['task_id']}/results/{task['uscc']}").json()
    assert result["result"]["status"] == "待审核" and result["result"]["summary"] == "现场检查未发现问题。"
    assert [(a["filename"], a["check_point_id"]) for a in result["attachments"]] == [
        ("现场照片.png", points[0])
    ]
    shot(phone, tmp_path, "field-submitted")


def test_a_refused_save_keeps_every_value_and_says_why_beside_each_field(
    phone: Page,
    browser: Browser,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
    tmp_path: Path,
) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    login(phone, app_server.url, INSPECTOR)
    phone.goto(f"{app_server.url}/field/entry/{task['task_id']}/{task['uscc']}")
    points = phone.locator(".point").evaluate_all("els => els.map(e => e.dataset.point)")
    hazard = phone.locator("#hazard-list .hazard").first.get_attribute("data-hazard")
    tomorrow = (dt.date.today() + dt.timedelta(days=1)).isoformat()
    long_note = "说" * 2001
    phone.fill("#check_date", tomorrow)
    phone.click(f"label[for='outcome_{points[0]}_2']")  # 不符合
    phone.fill(f"#note_{points[0]}", long_note)
    phone.fill(f"#hazard_rectify_by_{hazard}", "2023-07-01")  # a deadline without a description
    phone.locator("label.check", has_text="发现问题已责令改正").click()
    phone.fill("#summary", "检查情况：储罐区未设置防火堤")
    phone.click("#save-draft")

    expect(phone.locator("#err-check_date")).to_have_text("检查日期不能晚于今天")
    expect(phone.locator(f"#err-note_{points[0]}")).to_contain_text("说明：长度不能超过 2000 个字符")
    expect(phone.locator(f"#err-hazard_description_{hazard}")).to_have_text("请填写隐患描述")
    expect(phone.locator("#form-errors")).to_contain_text("没有保存：请修改以下 3 处")
    expect(phone.locator("#form-errors-list li")).to_have_count(3)
    # Every value is still there.
    expect(phone.locator("#check_date")).to_have_value(tomorrow)
    expect(phone.locator(f"#outcome_{points[0]}_2")).to_be_checked()
    expect(phone.locator(f"#note_{points[0]}")).to_have_value(long_note)
    expect(phone.locator(f"#hazard_rectify_by_{hazard}")).to_have_value("2023-07-01")
    expect(phone.locator("input[name=categories][value=发现问题已责令改正]")).to_be_checked()
    expect(phone.locator("#summary")).to_have_value("检查情况：储罐区未设置防火堤")
    expect(phone.locator("#check_date")).to_have_attribute("aria-invalid", "true")
    clean_text(phone)
    shot(phone, tmp_path, "field-refused")
    no_serious_violations(phone)

    # 提交审核 of an incomplete draft: the draft is saved, and every gap is named beside its field at once.
    phone.fill("#check_date", "2023-06-15")
    phone.fill(f"#note_{points[0]}", "")
    phone.fill(f"#hazard_rectify_by_{hazard}", "")
    phone.click("#submit-result")
    phone.click("#confirm-submit")
    expect(phone.locator("#form-errors")).to_contain_text("草稿已保存，但还不能提交审核")
    expect(phone.locator(f"#err-note_{points[0]}")).to_have_text("不符合的检查要点须说明问题")
    for pid in points[1:]:
        expect(phone.locator(f"#err-outcome_{pid}")).to_have_text("请选择检查结论")
    expect(phone.locator("#err-follow_ups")).to_have_text("请选择后续处置方式")
    expect(phone.locator("#summary")).to_have_value("检查情况：储罐区未设置防火堤")
    clean_text(phone)
    saved = as_user(INSPECTOR).get(f"/api/tasks/{task['task_id']}/results/{task['uscc']}").json()
    assert saved["result"]["status"] == "草稿" and saved["result"]["check_date"] == "2023-06-15"

    # Without the page's script (an old phone): the server renders the same errors beside the same fields.
    context = browser.new_context(**PHONE, java_script_enabled=False)
    context.add_cookies(phone.context.cookies())
    plain = context.new_page()
    try:
        plain.goto(f"{app_server.url}/field/entry/{task['task_id']}/{task['uscc']}")
        plain.fill("#check_date", tomorrow)
        plain.fill("#summary", "无脚本时填写")
        plain.click("#save-draft")
        expect(plain.locator("#err-check_date")).to_have_text("检查日期不能晚于今天")
        expect(plain.locator("#check_date")).to_have_value(tomorrow)
        expect(plain.locator("#summary")).to_have_value("无脚本时填写")
        expect(plain.locator("#form-errors")).to_contain_text("没有保存")
        clean_text(plain)
        shot(plain, tmp_path, "field-refused-noscript")
    finally:
        context.close()


def test_offline_draft_survives_reload_and_closed_tab_then_syncs(
    browser: Browser,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
    tmp_path: Path,
) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    context = browser.new_context(**PHONE)
    try:
        page = context.new_page()
        page.set_default_timeout(20000)
        login(page, app_server.url, INSPECTOR)
        url = f"{app_server.url}/field/entry/{task['task_id']}/{task['uscc']}"
        page.goto(url)
        # Installed: the service worker controls the field pages and this page is kept on the phone.
        page.wait_for_function("navigator.serviceWorker.ready.then(() => true)")
        page.wait_for_function("caches.match(location.pathname).then(r => !!r)")
        page.wait_for_load_state("networkidle")  # the page's own copy for offline use is written by then
        points = page.locator(".point").evaluate_all("els => els.map(e => e.dataset.point)")

        context.set_offline(True)
        page.fill("#summary", "离线时填写的检查情况")
        page.click(f"label[for='outcome_{points[0]}_1']")
        expect(page.locator("#save-state")).to_contain_text("离线")
        expect(page.locator("#net-state")).to_be_visible()
        page.reload()
        expect(page.locator("#local-restored")).to_contain_text("已恢复本手机上尚未同步的填写内容")
        expect(page.locator("#summary")).to_have_value("离线时填写的检查情况")
        expect(page.locator(f"#outcome_{points[0]}_1")).to_be_checked()
        shot(page, tmp_path, "field-offline-restored")
        page.close()  # the tab is closed, and opened again (still offline)
        page = context.new_page()
        page.set_default_timeout(20000)
        page.goto(url)
        expect(page.locator("#summary")).to_have_value("离线时填写的检查情况")
        api = as_user(INSPECTOR)
        assert api.get(f"/api/tasks/{task['task_id']}/results/{task['uscc']}").json()["result"] is None

        context.set_offline(False)
        expect(page.locator("#saved")).to_be_visible()
        expect(page.locator("#local-restored")).to_be_hidden()
        saved = api.get(f"/api/tasks/{task['task_id']}/results/{task['uscc']}").json()
        assert saved["result"]["summary"] == "离线时填写的检查情况"
        assert saved["points"][0]["outcome"] == "符合"

        # Offline again, while the server's copy changes elsewhere: back online, the conflict is shown, nothing
        # is overwritten until the inspector chooses.
        context.set_offline(True)
        page.fill("#summary", "手机上的新内容")
        expect(page.locator("#save-state")).to_contain_text("离线")
        other = api.post(
            f"/api/tasks/{task['task_id']}/results/{task['uscc']}",
            {"summary": "另一台设备保存的内容", "points": [{"check_point_id": points[0], "outcome": "符合"}]},
        )
        assert other.status_code == 200, other.text
        context.set_offline(False)
        expect(page.locator("#conflict")).to_be_visible()
        expect(page.locator("#conflict-text")).to_contain_text("服务器上的记录已于")
        shot(page, tmp_path, "field-conflict")
        assert (
            api.get(f"/api/tasks/{task['task_id']}/results/{task['uscc']}").json()["result"]["summary"]
            == "另一台设备保存的内容"
        )
        page.click("#conflict-keep-mine")
        expect(page.locator("#saved")).to_be_visible()
        expect(page.locator("#conflict")).to_be_hidden()
        assert (
            api.get(f"/api/tasks/{task['task_id']}/results/{task['uscc']}").json()["result"]["summary"]
            == "手机上的新内容"
        )
    finally:
        context.close()
