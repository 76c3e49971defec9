"""The in-browser verifier (shared/web/static/verify-draw.js) in Chromium: a proof whose `eligible` list is in any
order verifies, a duplicated USCC does not (SPEC §4). No server needed: Playwright answers the
page itself."""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, sync_playwright

from services.draw.proof import build_proof, encode_proof
from services.draw.protocol import draw
from tests.draw.test_verify import RATIOS, SECRET, make_eligible
from tests.e2e.conftest import CHROMIUM_ARGS, chromium_path

SCRIPT = Path(__file__).parents[2] / "shared" / "web" / "static" / "verify-draw.js"


@pytest.fixture(scope="module")
def blank() -> Iterator[Page]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
        # WebCrypto needs a secure context: an http://localhost page answered by Playwright itself (no server).
        tab = browser.new_page()
        tab.route(
            "http://localhost/verify",
            lambda route: route.fulfill(body="<!doctype html>", content_type="text/html"),
        )
        tab.goto("http://localhost/verify")
        tab.add_script_tag(content=SCRIPT.read_text())
        yield tab
        browser.close()


def findings(page: Page, proof: dict[str, Any]) -> list[str]:
    result: list[str] = page.evaluate("(p) => verifyDrawProof(p)", proof)
    return result


def test_browser_verifier_accepts_any_order_and_refuses_duplicates(blank: Page) -> None:
    eligible = make_eligible(300)
    proof = json.loads(
        encode_proof(build_proof(draw(eligible, RATIOS, SECRET, "联2023001/联001"), eligible, SECRET))
    )
    assert findings(blank, proof) == []
    shuffled = dict(proof, eligible=list(proof["eligible"]))
    random.Random(11).shuffle(shuffled["eligible"])
    assert shuffled["eligible"] != proof["eligible"]
    assert findings(blank, shuffled) == []
    duplicated = dict(shuffled, eligible=[*shuffled["eligible"], shuffled["eligible"][7]])
    assert findings(blank, duplicated) == [
        f"名单中统一社会信用代码 {shuffled['eligible'][7]['uscc']} 重复出现"
    ]
    tampered = dict(shuffled, public_entropy="1")
    assert any("种子" in f for f in findings(blank, tampered))
