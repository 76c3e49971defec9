"""On a phone: the inspector enters results, the reviewer approves them, the public finds the record by USCC."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.inspection.conftest import INSPECTOR, matched_task_with_inspector
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer


def test_phone_entry_review_and_public_search(
    phone: Page,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    login(phone, app_server.url, INSPECTOR)
    phone.goto(f"{app_server.url}/results")
    # The link of this task: the same enterprise may also be listed under an earlier task of the session.
    # The link of the results page leads into the field app.
    phone.click(f".entry-link[href='/results/entry/{task['task_id']}/{task['uscc']}']")
    phone.wait_for_url(f"**/field/entry/{task['task_id']}/{task['uscc']}")
    expect(phone.locator("#entry-title")).to_have_text(task["name"])
    phone.fill("#check_date", "2023-06-15")
    for label in phone.locator(".point label[for$='_1']").all():  # 符合
        label.click()
    phone.locator("label.check", has_text="未发现问题").click()
    phone.locator("label.check", has_text="无需后续处置").click()
    phone.click("#save-draft")
    expect(phone.locator("#saved")).to_be_visible()
    phone.click("#submit-result")
    phone.click("#confirm-submit")
    expect(phone.locator("#result-status")).to_have_text("待审核")
    result_url = phone.url
    phone.context.clear_cookies()

    login(phone, app_server.url, "yjj-reviewer")
    phone.goto(result_url)
    phone.click("#approve")  # a confirmation first: what becomes public
    expect(phone.locator("#confirm-summary")).to_contain_text("向社会公开")
    phone.click("#confirm")
    expect(phone.locator("#review-done")).to_have_text("已审核通过并公示。")
    phone.goto(result_url)
    expect(phone.locator("#result-status")).to_have_text("已公示")
    phone.context.clear_cookies()

    phone.goto(f"{app_server.url}/public")
    phone.fill("#q", task["uscc"])
    phone.click("#search")
    # This task's record: another task of the session may have published one for the same enterprise.
    result_id = (
        as_user(INSPECTOR).get(f"/api/tasks/{task['task_id']}/results/{task['uscc']}").json()["result"]["id"]
    )
    phone.click(f"#public-results a[href='/public/results/{result_id}']")
    expect(phone.locator("#record-uscc")).to_have_text(task["uscc"])
    expect(phone.locator("#record-categories")).to_have_text("未发现问题")
