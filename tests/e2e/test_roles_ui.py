"""Each role's first day on the desktop: its home page with to-dos, a navigation of what it can use, its work
(the reviewer's queue, the admin's registry forms), and a crawl of the main pages of every role and the public
site for Python reprs, None, dict literals and API keys; axe-core on the pages of this layer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import Page, expect

from tests.e2e import pagecheck
from tests.e2e.conftest import login
from tests.inspection.conftest import INSPECTOR, complete_draft, matched_task_with_inspector
from tests.planning.conftest import SEED_TASK_2023001, as_user, http  # noqa: F401 (fixtures)
from tests.support.stack import AppServer

NAV = (
    "nav-home",
    "nav-assignments",
    "nav-review",
    "nav-plans",
    "nav-federation",
    "nav-results",
    "nav-objects",
    "nav-inspectors",
    "nav-items",
    "nav-tags",
    "nav-reports",
    "nav-oversight",
    "nav-public-draws",
    "nav-public",
)
SHOWN = {
    "yjj-planner": {
        "nav-home",
        "nav-plans",
        "nav-federation",
        "nav-results",
        "nav-objects",
        "nav-inspectors",
        "nav-items",
        "nav-tags",
        "nav-reports",
        "nav-oversight",
        "nav-public-draws",
        "nav-public",
    },
    "yjj-reviewer": {
        "nav-home",
        "nav-review",
        "nav-plans",
        "nav-results",
        "nav-objects",
        "nav-items",
        "nav-public-draws",
        "nav-public",
    },
    "yjj-admin": {
        "nav-home",
        "nav-plans",
        "nav-federation",
        "nav-results",
        "nav-objects",
        "nav-inspectors",
        "nav-items",
        "nav-tags",
        "nav-reports",
        "nav-oversight",
        "nav-public-draws",
        "nav-public",
    },
    INSPECTOR: {"nav-home", "nav-assignments", "nav-results", "nav-items", "nav-public-draws", "nav-public"},
    "county-overseer": {
        "nav-home",
        "nav-objects",
        "nav-inspectors",
        "nav-items",
        "nav-oversight",
        "nav-public-draws",
        "nav-public",
    },
}
# Pages of this layer (base layout, home, planning, federation, review, registry forms): axe must pass on them.
OWNED = ("/", "/plans", "/tasks/", "/federation", "/review", "/registry/", "/my/assignments")


def _owned(url: str, base: str) -> bool:
    path = url.removeprefix(base).split("?")[0]
    return path == "/" or any(path.startswith(p) for p in OWNED if p != "/")


def _sign_out(page: Page) -> None:
    page.context.clear_cookies()


def test_navigation_shows_only_what_each_role_can_use(
    page: Page, app_server: AppServer, tmp_path: Path
) -> None:
    problems: list[str] = []
    for user, shown in SHOWN.items():
        login(page, app_server.url, user)
        if user == "county-overseer":
            # The overseer has no department: its home is the county dashboard, never an empty page.
            page.goto(app_server.url + "/")
            page.wait_for_url(app_server.url + "/oversight**")
        if user == INSPECTOR:
            # An inspector's home is the field app (its own phone layout); the office pages keep the menu.
            assert page.url.removeprefix(app_server.url).startswith("/field"), page.url
            page.goto(app_server.url + "/my/assignments")
        present = {n for n in NAV if page.locator(f"#mainnav #{n}").count()}
        assert present == shown, (user, present ^ shown)
        expect(page.locator(".skip-link")).to_have_attribute("href", "#main")
        problems += pagecheck.check(page, axe=_owned(page.url, app_server.url))
        pagecheck.shot(page, f"home-{user}", tmp_path)
        _sign_out(page)
    assert not problems, "\n".join(problems)


def test_planner_home_lists_draws_to_run(page: Page, app_server: AppServer, as_user: Any) -> None:  # noqa: F811
    planner = as_user("yjj-planner")
    plan = planner.post(
        "/api/plans",
        {
            "year": 2023,
            "kind": "内部联合",
            "initiating_section": "zfjdg",
            "joint_sections": ["whjgg", "whjcg"],
        },
    ).json()
    created = planner.post(
        f"/api/plans/{plan['id']}/tasks", {**SEED_TASK_2023001, "name": "工作台待办测试任务"}
    )
    assert created.status_code == 201, created.text
    task = created.json()
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    login(page, app_server.url, "yjj-planner")
    todo = page.locator(f"#todo-draws a[href='/tasks/{task['id']}']")
    expect(todo).to_have_text("工作台待办测试任务")
    expect(todo.locator("xpath=ancestor::li")).to_contain_text("待冻结名单并公告")
    expect(page.locator("#todo-plans")).to_contain_text("已发布")
    expect(page.locator("#todo-invitations")).to_be_visible()
    todo.click()
    expect(page.locator("#task-status")).to_have_text(
        "待公告抽取"
    )  # never a bare 草稿 under a published plan


def test_reviewer_works_from_the_queue(
    page: Page,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
    tmp_path: Path,
) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    inspector = as_user(INSPECTOR)
    url = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"
    draft = inspector.post(url, complete_draft(inspector.get(url).json()["points"]))
    assert draft.status_code == 200, draft.text
    result_id = draft.json()["id"]
    assert inspector.post(f"/api/results/{result_id}/submit").status_code == 200

    problems: list[str] = []
    login(page, app_server.url, "yjj-reviewer")
    expect(page.locator(f"#todo-review a[href='/review/{result_id}']")).to_have_text(task["name"])
    page.click("#nav-review")
    expect(page.locator("h1")).to_have_text("待审核")
    problems += pagecheck.check(page)
    pagecheck.shot(page, "reviewer-queue", tmp_path)
    page.click(f"#review-queue a[href='/review/{result_id}']")
    expect(page.locator("#review-title")).to_have_text(task["name"])
    # A return needs its reason: said beside the field, nothing changes.
    page.click("#return")
    expect(page.locator("#reason-error")).to_be_visible()
    expect(page.locator("#result-status")).to_have_text("待审核")
    problems += pagecheck.check(page)
    page.click("#approve")
    panel = page.locator("#confirm-panel")
    expect(panel).to_contain_text("向社会公开")
    expect(panel).to_contain_text(task["uscc"])
    expect(panel).to_contain_text("未发现问题")
    expect(page.locator("#result-status")).to_have_text("待审核")  # nothing published before the confirmation
    problems += pagecheck.check(page)
    pagecheck.shot(page, "reviewer-confirm-approve", tmp_path)
    page.click("#confirm")
    expect(page.locator("#review-done")).to_contain_text("已审核通过并公示")
    assert inspector.get(f"/api/results/{result_id}").json()["result"]["status"] == "已公示"
    assert not problems, "\n".join(problems)


def test_admin_home_and_registry_forms(page: Page, app_server: AppServer, tmp_path: Path) -> None:
    problems: list[str] = []
    login(page, app_server.url, "yjj-admin")
    for panel in ("#todo-registry", "#todo-imports", "#todo-people"):
        expect(page.locator(panel)).to_be_visible()
    expect(page.locator("#todo-registry")).to_contain_text("在营检查对象")
    problems += pagecheck.check(page)
    pagecheck.shot(page, "admin-home", tmp_path)

    # Every error of the object form at once, beside its field, with what was typed kept.
    page.goto(app_server.url + "/registry/objects/new")
    page.fill("#uscc", "12345")
    page.fill("#address", "宁晋县凤凰路1号")
    page.click("#save")
    for field in ("uscc", "name", "industry"):
        expect(page.locator(f"#{field}-error")).to_be_visible()
        expect(page.locator(f"#{field}")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#address")).to_have_value("宁晋县凤凰路1号")
    expect(page.locator("#form-error")).to_contain_text("3 处")
    problems += pagecheck.check(page)
    pagecheck.shot(page, "admin-object-form-errors", tmp_path)

    # 完整替换 is refused until its consequence (how many rows it may deactivate) is confirmed.
    page.goto(app_server.url + "/registry/items/import")
    expect(page.locator("#active-count")).not_to_have_text("0")
    page.set_input_files(
        "#import-file", files=[{"name": "items.csv", "mimeType": "text/csv", "buffer": "事项编码\n".encode()}]
    )
    page.check("#replace-all")
    page.click("#import-submit")
    expect(page.locator("#confirm_replace-error")).to_contain_text("完整替换会停用文件中没有的抽查事项")
    problems += pagecheck.check(page)
    assert not problems, "\n".join(problems)


def test_crawl_pages_of_every_role_and_the_public(
    page: Page,
    app_server: AppServer,
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
) -> None:
    """Every main page of every role and the public site: no reprs, None, dict literals or API keys anywhere;
    axe-core on the pages of this layer. A published result makes the public record and 附件1 non-empty."""
    task = matched_task_with_inspector(as_user, db_urls)
    inspector, reviewer = as_user(INSPECTOR), as_user("yjj-reviewer")
    url = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"
    result_id = inspector.post(url, complete_draft(inspector.get(url).json()["points"])).json()["id"]
    assert inspector.post(f"/api/results/{result_id}/submit").status_code == 200
    assert reviewer.post(f"/api/results/{result_id}/approve").status_code == 200

    problems: list[str] = []
    extra = {
        "yjj-planner": [
            f"/plans/{task['plan_id']}",
            f"/tasks/{task['task_id']}",
            "/plans/new",
            f"/plans/{task['plan_id']}/tasks/new",
            "/reports/monthly/2023/6",
            "/federation/new",
        ],
        "yjj-reviewer": [f"/review/{result_id}", f"/results/{result_id}"],
        "yjj-admin": [
            "/registry/objects/new",
            "/registry/inspectors/new",
            "/registry/items/new",
            "/registry/objects/import",
        ],
        INSPECTOR: ["/my/assignments"],
        "county-overseer": [],
    }
    for user, paths in extra.items():
        login(page, app_server.url, user)
        links = [a.get_attribute("href") for a in page.locator("#mainnav a").all()]
        for path in dict.fromkeys([*links, *paths]):
            page.goto(app_server.url + str(path))
            problems += pagecheck.check(page, axe=_owned(page.url, app_server.url))
        _sign_out(page)
    for path in (
        "/",
        "/public",
        "/public/draws",
        f"/public/results/{result_id}",
        f"/public/tasks/{task['task_id']}",
    ):
        page.goto(app_server.url + path)
        problems += pagecheck.check(page, axe=False)
    page.goto(app_server.url + "/public/draws")
    page.locator("main a[href^='/public/draws/']").first.click()
    problems += pagecheck.check(page, axe=True)
    assert not problems, "\n".join(problems)
