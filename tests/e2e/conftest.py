"""Browser tests drive Debian's Chromium through Playwright (no browser download)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def chromium_path() -> str:
    path = (
        os.environ.get("SPOTCHECK_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    )
    if not path:
        pytest.fail("Chromium not found: install Debian's `chromium` package (.ci/run does)", pytrace=False)
    return path


@pytest.fixture(scope="module")
def browser(app_server: object) -> Iterator[Browser]:
    # Module scope: Playwright's sync API keeps an event loop running on the main thread while it is alive, which
    # would stop pytest-asyncio from running async tests of other modules in between.
    # Depends on the app so that its (asyncio-based) set-up runs before Playwright takes the main thread.
    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    tab.set_default_timeout(20000)
    yield tab
    context.close()


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True
    )
    tab = context.new_page()
    tab.set_default_timeout(20000)
    yield tab
    context.close()


def login(page: Page, base_url: str, username: str, password: str = "demo") -> None:
    page.goto(base_url + "/")
    page.click("#login")
    sign_in(page, username, password)
    page.wait_for_url(base_url + "/**")


def sign_in(page: Page, username: str, password: str) -> None:
    """Fill the provider's login page. Keycloak with Organizations asks for the username first
    (identity-first login) and for the password on a second page; the dev provider asks for both at once."""
    page.fill("#username", username)
    if not page.locator("#password").is_visible():
        page.click("#kc-login")
        page.wait_for_selector("#password")
    page.fill("#password", password)
    page.click("#kc-login")
