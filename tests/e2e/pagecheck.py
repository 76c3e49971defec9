"""What every page must pass in the browser: no Python reprs, None, dict literals or API keys in its text, and
no critical or serious axe-core violations; screenshots of the pages for people to look at."""

from __future__ import annotations

import os
import re
from pathlib import Path

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

AXE = Axe()

# Text a person must never read on a page.
FORBIDDEN = (
    re.compile(r"built-in method"),
    re.compile(r"object at 0x"),
    re.compile(r"\bNone\b"),
    re.compile(r"\{'"),
    re.compile(r"\[\]"),
    re.compile(r"Traceback"),
    re.compile(r"\bundefined\b"),
    re.compile(r"spotcheck-match-v1"),
    re.compile(r"\b(?:ALL|VALID|INVALID)\b"),
    # API field keys: snake_case names and dotted paths such as class_ratios.A, points[1].note
    re.compile(r"\b[a-z]{2,}_[a-z_]{2,}\b"),
    re.compile(r"\b[a-z_]{3,}(?:\[\d+\])?\.[A-Za-z_]+\b(?!\.(?:json|xlsx|csv))"),
)


def text_problems(page: Page) -> list[str]:
    text = page.locator("body").inner_text()
    found = []
    for pattern in FORBIDDEN:
        for match in pattern.finditer(text):
            start = max(0, match.start() - 30)
            found.append(f"{page.url}: {pattern.pattern!r} in …{text[start : match.end() + 30]}…")
    return found


def serious_violations(page: Page) -> list[str]:
    results = AXE.run(page)
    return [
        f"{page.url}: {v['id']} ({v['impact']}) {v['help']} — {[n['target'] for n in v['nodes']][:3]}"
        for v in results.response["violations"]
        if v["impact"] in ("critical", "serious")
    ]


# Internal department codes (130528-yjj) instead of names.
CODES = re.compile(r"\b\d{6}-[a-z]{2,}\b")


def check(page: Page, *, axe: bool = True) -> list[str]:
    """Every problem of the page as shown now: its text, and for the pages checked strictly (``axe``) also
    accessibility and department codes shown in place of names."""
    problems = text_problems(page)
    if axe:
        text = page.locator("body").inner_text()
        problems += [f"{page.url}: department code {m.group(0)}" for m in CODES.finditer(text)]
        problems += serious_violations(page)
    return problems


def shot(page: Page, name: str, directory: Path) -> Path:
    """A full-page PNG (kept under SPOTCHECK_SCREENSHOTS when set, else the test's temporary directory)."""
    target = Path(os.environ.get("SPOTCHECK_SCREENSHOTS") or directory)
    target.mkdir(parents=True, exist_ok=True)
    path = target / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
