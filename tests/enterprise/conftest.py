"""Helpers of the enterprise-side tests: a drawn and matched task of our own, its codes."""

from __future__ import annotations

from typing import Any

import pytest

from tests.planning.conftest import SEED_TASK_2023001, as_user, http  # noqa: F401  (shared API fixtures)


def matched_task(make_user: Any, task: dict[str, Any] | None = None) -> dict[str, Any]:
    planner = make_user("yjj-planner")
    plan = planner.post(
        "/api/plans",
        {
            "year": 2023,
            "kind": "内部联合",
            "initiating_section": "zfjdg",
            "joint_sections": ["whjgg", "whjcg"],
        },
    ).json()
    created = planner.post(f"/api/plans/{plan['id']}/tasks", task or SEED_TASK_2023001).json()
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    assert planner.post(f"/api/tasks/{created['id']}/announce", {}).status_code == 201
    drawn = planner.post(f"/api/tasks/{created['id']}/draw", {})
    assert drawn.status_code == 200, drawn.text
    matched = planner.post(f"/api/tasks/{created['id']}/match", {})
    assert matched.status_code == 200, matched.text
    return {**created, "draw": drawn.json(), "teams": matched.json()}


@pytest.fixture
def task_with_codes(as_user: Any) -> dict[str, Any]:  # noqa: F811  (the fixture imported above)
    task = matched_task(as_user)
    visits = as_user("yjj-planner").get(f"/api/tasks/{task['id']}/visits")
    assert visits.status_code == 200, visits.text
    return {**task, "visits": visits.json()}
