"""Every form of the pages, posted with hostile values by signed-in people: never a 5xx (issue #15).

The API is swept by tests/fuzz; the pages read their forms themselves, so here every POST route outside /api is
found in the application's route table and posted — with a valid session and CSRF token, as each role — with every
usual field name set to one hostile value at a time (control characters, 100,000 characters, huge numbers, NaN,
formulas) — each route gets a different one for each role. Path ids are the ids of a real draft plan and task where the names match.
"""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Page

from shared.app import create_app
from shared.settings import load_settings
from tests.e2e.conftest import login
from tests.planning.conftest import SEED_TASK_2023001, as_user, http  # noqa: F401 (fixtures)
from tests.shared.test_boundary_schema import ENV
from tests.support.stack import AppServer

FIELDS = [
    "name", "reason", "note", "summary", "uscc", "ratio", "ratio_mode", "class_A", "class_B", "item_codes",
    "start_month", "end_month", "entropy_source", "public_entropy", "load_slack", "year", "kind",
    "initiating_section", "joint_sections", "table_date", "department", "partners", "action", "status", "slot",
    "inspector_id", "description", "q", "meetings", "documents", "contact_person", "check_date", "category",
    "industry", "address", "licence_no", "licence_expiry", "code", "phone", "active", "replace", "next",
    "min_inspectors", "annual_cap", "scope_note", "item_note", "categories", "rechecked_on", "rectified",
]  # fmt: skip
HOSTILE = [
    "前\x00后",
    "\x07\x1b[31m\x7f",
    "字" * 5001,  # over every field's limit (the API sweep sends 100,000)
    str(2**63),
    "NaN",
    '=HYPERLINK("http://x")',
    "1e-9999999",
]
ROLES = ["yjj-planner", "yjj-admin", "yjj-reviewer", "yjj-insp-whjg"]


def _post_routes() -> list[str]:
    app = create_app(load_settings(ENV))
    paths = set()
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "POST" in handler.http_methods and not route.path.startswith(("/api/", "/auth", "/logout")):
                paths.add(route.path)
    return sorted(paths)


def _fill(path: str, ids: dict[str, str]) -> str:
    return re.sub(
        r"\{(\w+)(?::\w+)?\}", lambda m: ids.get(m.group(1), "00000000-0000-4000-8000-000000000999"), path
    )


def test_every_form_survives_hostile_values(page: Page, app_server: AppServer, as_user: Any) -> None:  # noqa: F811
    planner = as_user("yjj-planner")
    plan = planner.post("/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}).json()
    task = planner.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001).json()
    ids = {"plan_id": plan["id"], "task_id": task["id"], "year": "2023", "month": "6", "kind": "objects",
           "uscc": "91130528MA0000000X"}  # fmt: skip
    routes = _post_routes()
    assert len(routes) > 20, routes
    problems: list[str] = []
    sent = 0
    for role in ROLES:
        page.context.clear_cookies()
        login(page, app_server.url, role)
        csrf = next((c["value"] for c in page.context.cookies() if c["name"] == "spotcheck_csrf"), "")
        for turn, path in enumerate(routes):
            url = app_server.url + _fill(path, ids)
            for value in (HOSTILE[(turn + ROLES.index(role)) % len(HOSTILE)],):
                form = {field: value for field in FIELDS}
                response = page.request.post(
                    url, form=form, headers={"x-csrf-token": csrf}, max_redirects=0, timeout=60_000
                )
                sent += 1
                if response.status >= 500:
                    problems.append(
                        f"{role} POST {path} [{value[:20]!r}]: {response.status} {response.text()[:160]}"
                    )
    assert sent > 100
    assert problems == [], "\n".join(problems[:30])
