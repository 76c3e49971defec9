"""A planner runs the seed's plan 2023001 in the browser; anyone verifies the draw on the public page."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e import pagecheck
from tests.e2e.conftest import login
from tests.inspection.conftest import INSPECTOR, matched_task_with_inspector
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer


def test_planner_runs_plan_2023001_and_public_verifies(
    page: Page, app_server: AppServer, tmp_path: Path
) -> None:
    problems: list[str] = []
    login(page, app_server.url, "yjj-planner")
    page.click("text=抽查计划")
    page.click("#new-plan")
    page.fill("#year", "2023")
    page.select_option("#kind", "内部联合")
    page.select_option("#initiating_section", "zfjdg")
    page.check("input[name=joint_sections][value=whjgg]")
    page.check("input[name=joint_sections][value=whjcg]")
    page.fill("#table_date", "2023-01-13")
    page.click("#create-plan")
    expect(page.locator("#plan-name")).to_contain_text("2023年宁晋县应急管理局内部门联合抽查")

    page.click("#add-task")
    page.fill("#name", "宁晋县应急管理局2023年度危化企业“双随机”内部联合抽查")
    page.fill("#ratio_note", "5%（运用企业信用风险分级分类开展）")
    page.check("input[name=item_codes][value=YJ-001]")
    page.check("input[name=industries][value=危化]")
    page.check("input[name=direct_supervision_only]")
    page.fill("#scope_note", "2023年直接监管危化行业")
    # Bad ratios are reported beside their boxes, all at once, in Chinese; what was typed is kept.
    page.fill("#class_B", "abc")
    page.fill("#class_C", "200%")
    page.click("#create-task")
    expect(page.locator("#class_B-error")).to_contain_text("比例格式不正确")
    expect(page.locator("#class_C-error")).to_contain_text("不超过 100%")
    expect(page.locator("#form-error")).to_contain_text("2 处")
    expect(page.locator("#form-error")).not_to_contain_text("class_ratios")
    expect(page.locator("#class_B")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#name")).to_have_value("宁晋县应急管理局2023年度危化企业“双随机”内部联合抽查")
    problems += pagecheck.check(page)
    pagecheck.shot(page, "planner-task-form-errors", tmp_path)
    page.fill("#class_B", "5%")
    page.fill("#class_C", "5%")
    page.click("#create-task")
    expect(page.locator("#task-name")).to_contain_text("危化企业")
    assert "危化企业" in page.title() and "随机匹配" not in page.title()
    # Under a draft plan the task says why it waits; the stepper shows where it is.
    expect(page.locator("#task-status")).to_have_text("草稿（计划未发布）")
    expect(page.locator("#stepper li.current")).to_contain_text("计划发布后才能公告抽取")
    expect(page.locator("#task-ratios")).to_contain_text("各风险等级均为 5%")
    problems += pagecheck.check(page)
    page.click("text=" + page.locator(".muted a").nth(1).inner_text())
    problems += pagecheck.check(page)
    page.click("#publish-plan")
    # The confirmation lists what takes effect; nothing changes until it is confirmed.
    expect(page.locator("#confirm-summary")).to_contain_text("1 个抽查任务")
    problems += pagecheck.check(page)
    pagecheck.shot(page, "planner-confirm-publish", tmp_path)
    page.click("#confirm")
    expect(page.locator("#plan-status")).to_have_text("已发布")

    page.click("#tasks a")
    expect(page.locator("#task-status")).to_have_text("待公告抽取")
    page.fill("#entropy_source", "见证人现场报出的数字")
    page.click("#announce")
    summary = page.locator("#confirm-summary")
    expect(summary).to_contain_text("名单与承诺值将公开，不可撤回")
    eligible = int(page.locator("#preview-eligible").inner_text().replace(",", ""))
    expected = int(page.locator("#preview-expected").inner_text().replace(",", ""))
    assert 0 < expected < eligible
    problems += pagecheck.check(page)
    pagecheck.shot(page, "planner-confirm-announce", tmp_path)
    page.click("#confirm")
    expect(page.locator("#task-status")).to_have_text("已公告")
    assert page.locator("#eligible-count").inner_text().startswith(f"{eligible:,} 家")
    expect(page.locator("#stepper li.done")).to_have_count(1)
    page.click("#run-draw")
    expect(page.locator("#form-error")).to_contain_text("请填写其数值")
    expect(page.locator("#public_entropy-error")).to_contain_text("请填写其数值")
    page.fill("#public_entropy", "17,42,93")
    page.click("#run-draw")
    expect(page.locator("#preview-expected")).to_have_text(f"{expected:,}")
    expect(page.locator("#confirm-summary")).to_contain_text("不可撤回")
    problems += pagecheck.check(page)
    page.click("#confirm")
    expect(page.locator("#task-status")).to_have_text("已抽取")
    selected = int(page.locator("#selected-count").inner_text())
    assert selected == page.locator("#selected tbody tr").count() == expected
    problems += pagecheck.check(page)

    page.click("#run-match")
    expect(page.locator("#preview-enterprises")).to_have_text(str(selected))
    problems += pagecheck.check(page)
    pagecheck.shot(page, "planner-confirm-match", tmp_path)
    page.click("#confirm")
    expect(page.locator("#task-status")).to_have_text("已匹配")
    expect(page.locator("#stepper li.current")).to_contain_text("实施")
    problems += pagecheck.check(page)
    pagecheck.shot(page, "planner-task-matched", tmp_path)
    rows = page.locator("#teams tbody tr")
    assert rows.count() == selected
    expect(page.locator("#teams thead")).to_contain_text("危化监管股")
    first_enterprise = rows.first.locator("td").first.inner_text().split("\n")[0]
    with page.context.expect_page() as notice_info:
        rows.first.locator("text=随机抽查告知书").click()
    notice = notice_info.value
    expect(notice.locator("#notice-enterprise")).to_have_text(first_enterprise)
    expect(notice.locator("h1")).to_have_text("随机抽查告知书")
    notice.close()

    public_url = page.locator("#public-link").get_attribute("href")
    anonymous = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        visitor = anonymous.new_page()
        visitor.goto(app_server.url + str(public_url))
        expect(visitor.locator("#draw-status")).to_have_text("已抽取")
        visitor.click("#verify-button")
        expect(visitor.locator("#verify-result")).to_contain_text("校验通过", timeout=30000)
        expect(visitor.locator("#verify-result")).not_to_contain_text("未通过")
        problems += pagecheck.check(visitor)
    finally:
        anonymous.close()
    assert not problems, "\n".join(problems)


def test_pages_redirect_anonymous_users_to_login(page: Page, app_server: AppServer) -> None:
    page.goto(app_server.url + "/plans")
    expect(page.locator("#username")).to_be_visible()


def test_inspector_sees_assignments_on_a_phone(
    phone: Page,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
) -> None:
    task = matched_task_with_inspector(as_user, db_urls)  # 张伟 is on the team of task["uscc"]
    login(phone, app_server.url, INSPECTOR)  # lands on the field app; the office list of assignments remains
    phone.goto(app_server.url + "/my/assignments")
    expect(phone.locator("h1")).to_have_text("我的检查任务")
    link = phone.locator(f"#assignments .entry-link[href='/results/entry/{task['task_id']}/{task['uscc']}']")
    expect(link).to_have_text(task["name"])
    expect(link.locator("xpath=ancestor::li")).to_contain_text("检查时间：2023年5月至2023年6月")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    link.click()  # the way to the result entry form
    expect(phone.locator("#entry-title")).to_have_text(task["name"])
