"""axe-core in the page (the ``axe-playwright-python`` package): the pages must have no critical or serious
violations; screenshots go to ``SPOTCHECK_SCREENSHOTS`` (default /tmp/spotcheck-screenshots) to be looked at."""

from __future__ import annotations

import os
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

_axe = Axe()


def assert_accessible(page: Page) -> None:
    results = _axe.run(page)
    serious = [
        (v["id"], v["impact"], v["help"], [n["target"] for n in v["nodes"]][:5])
        for v in results.response["violations"]
        if v["impact"] in ("critical", "serious")
    ]
    assert serious == [], f"{page.url}: {serious}"


def no_horizontal_scroll(page: Page) -> None:
    """On a phone the page itself does not scroll sideways (wide tables scroll inside their own box)."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"] + 1, f"{page.url}: {width}px wide"  # type: ignore[index]


def screenshot(page: Page, name: str) -> None:
    folder = Path(os.environ.get("SPOTCHECK_SCREENSHOTS", "/tmp/spotcheck-screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
