"""SSO in a real browser: login on the provider's own page, department isolation, switching, logout."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.e2e.conftest import login, sign_in
from tests.support.stack import AppServer


def test_planner_logs_in_sees_own_department_and_logs_out(page: Page, app_server: AppServer) -> None:
    login(page, app_server.url, "yjj-planner")
    expect(page.locator("#user-name")).to_have_text("李明")
    expect(page.locator("#active-department")).to_have_text("宁晋县应急管理局")
    expect(page.locator("#roles")).to_have_text("计划制定")
    expect(page.locator("#sections")).to_have_text("执法监督股")
    expect(page.locator("#department-switcher")).to_have_count(0)
    # The session cookie is HttpOnly and SameSite=Lax.
    cookie = next(c for c in page.context.cookies() if c["name"] == "spotcheck_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"

    page.click("#logout")
    page.wait_for_url(app_server.url + "/")
    expect(page.locator("#login")).to_be_visible()
    # The SSO session ended too: going to login asks for the password again.
    page.click("#login")
    expect(page.locator("#username")).to_be_visible()


def test_person_in_two_departments_switches(page: Page, app_server: AppServer) -> None:
    login(page, app_server.url, "multi-dept")
    select = page.locator("#department-select")
    expect(select).to_have_value("130528-xfjy")
    select.select_option("130528-yjj")
    page.wait_for_load_state("load")
    expect(page.locator("#department-select")).to_have_value("130528-yjj")
    expect(page.locator("#home-department")).to_have_text("宁晋县应急管理局")


def test_wrong_password_stays_on_login_page(page: Page, app_server: AppServer) -> None:
    page.goto(app_server.url + "/login")
    sign_in(page, "yjj-planner", "wrong")
    expect(page.locator("#password")).to_be_visible()
    expect(page.get_by_text("用户名或密码")).to_be_visible()
    assert not page.url.startswith(app_server.url)


def test_forms_without_csrf_token_are_refused(page: Page, app_server: AppServer) -> None:
    login(page, app_server.url, "multi-dept")
    response = page.request.post(app_server.url + "/department", form={"department": "130528-yjj"})
    assert response.status == 403


def test_stolen_session_cookie_without_binding_is_not_logged_in(page: Page, app_server: AppServer) -> None:
    login(page, app_server.url, "yjj-planner")
    session = next(c for c in page.context.cookies() if c["name"] == "spotcheck_session")
    other = page.context.browser.new_context()  # type: ignore[union-attr]
    try:
        other.add_cookies([{"name": "spotcheck_session", "value": session["value"], "url": app_server.url}])
        intruder = other.new_page()
        intruder.goto(app_server.url + "/")
        expect(intruder.locator("#login")).to_be_visible()
    finally:
        other.close()
