"""A task chooses a subset of its items' check points (issue #17 item 5): the seed's 联2023001 lists four topics of
an item that has six. Result entry then shows exactly those; a point of another item, or an unknown one, is
refused with the field named; a task without a choice keeps every check point of its items."""

from __future__ import annotations

import uuid
from typing import Any

from tests.inspection.conftest import admin_fetch, matched_task_with_inspector
from tests.planning.conftest import SEED_TASK_2023001

FOUR_TOPICS = ["人员和资质管理情况", "工艺管理情况", "设备设施管理情况", "重大危险源安全管理情况"]


def _points(db_urls: dict[str, str], code: str) -> dict[str, str]:
    rows = admin_fetch(
        db_urls,
        "SELECT cp.id, cp.content FROM check_points cp JOIN inspection_items i ON i.id = cp.item_id"
        " WHERE i.code = $1 AND i.tenant_id = cp.tenant_id ORDER BY cp.seq",
        code,
    )
    return {r["content"]: str(r["id"]) for r in rows}


def test_a_task_with_four_of_six_check_points(as_user: Any, db_urls: dict[str, str]) -> None:
    points = _points(db_urls, "YJ-001")
    assert len(points) == 6
    chosen = [points[t] for t in FOUR_TOPICS]
    task = {**SEED_TASK_2023001, "check_point_ids": chosen}
    matched = matched_task_with_inspector(as_user, db_urls, task=task)
    planner, inspector = as_user("yjj-planner"), as_user("yjj-insp-whjg")
    assert sorted(planner.get(f"/api/tasks/{matched['task_id']}").json()["check_point_ids"]) == sorted(chosen)
    entry = inspector.get(f"/api/tasks/{matched['task_id']}/results/{matched['uscc']}")
    assert entry.status_code == 200, entry.text
    assert [p["content"] for p in entry.json()["points"]] == FOUR_TOPICS


def test_bad_check_point_choices_are_refused(as_user: Any, db_urls: dict[str, str]) -> None:
    planner = as_user("yjj-planner")
    plan = planner.post("/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}).json()
    other_item = next(iter(_points(db_urls, "YJ-002").values()))
    for chosen, field in [
        ([other_item], "check_point_ids[0]"),
        ([str(uuid.uuid4())], "check_point_ids[0]"),
        (["不是编号"], "check_point_ids[0]"),
    ]:
        refused = planner.post(
            f"/api/plans/{plan['id']}/tasks", {**SEED_TASK_2023001, "check_point_ids": chosen}
        )
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["field"] == field
    whole = planner.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001)
    assert whole.status_code == 201 and whole.json()["check_point_ids"] is None
