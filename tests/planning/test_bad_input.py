"""Bad input of every class the input sweep found (issue #15) is refused with 422 in Chinese naming the field, and
changes nothing: NUL and other control characters in bodies, queries and paths; runaway page numbers and slots;
NaN and exponent ratios; over-long texts; framework errors (malformed JSON, unknown enum values, bad dates, a body
too large). Run against the live server as a planner of 县应急管理局."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from tests.planning.conftest import SEED_TASK_2023001, Api
from tests.support.stack import SSO

CJK = range(0x4E00, 0xA000)


def _chinese(message: str) -> bool:
    return any(ord(c) in CJK for c in message)


def _refused(response: httpx.Response, field: str | None, status: int = 422) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error: dict[str, Any] = response.json()["error"]
    assert _chinese(error["message"]), error
    if field is not None:
        assert error.get("field") == field, error
    for english in ("Expected", "JSON is malformed", "Invalid enum", "Object missing", "Validation failed"):
        assert english not in error["message"], error
    return error


@pytest.fixture(scope="module")
def plan(http: httpx.Client, sso: SSO) -> dict[str, Any]:
    planner = Api(http, sso, "yjj-planner")
    created = planner.post("/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"})
    assert created.status_code == 201, created.text
    result: dict[str, Any] = created.json()
    return result


def _tasks(as_user: Any, plan_id: str) -> list[Any]:
    found: list[Any] = as_user("yjj-planner").get(f"/api/plans/{plan_id}").json()["tasks"]
    return found


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"name": "危化\u0000抽查"}, "name"),
        ({"name": "危化\u0007抽查"}, "name"),
        ({"name": "危化\u001b[0m抽查"}, "name"),
        ({"name": "危化\u0085抽查"}, "name"),
        ({"item_note": "对危化企业\n安全生产的检查"}, "item_note"),  # one-line field: no line breaks
        ({"name": "危" * 121}, "name"),
        ({"ratio_note": "x" * 100_000}, "ratio_note"),
        ({"class_ratios": None, "ratio": "NaN"}, "ratio"),
        ({"class_ratios": None, "ratio": "1e-9999999"}, "ratio"),
        ({"class_ratios": None, "ratio": "Infinity"}, "ratio"),
        ({"class_ratios": {"A": "sNaN", "B": "5%", "C": "5%", "D": "5%"}}, "class_ratios.A"),
        ({"draw_type": "随便"}, "draw_type"),
        ({"start_month": "2023-13"}, "start_month"),
        ({"min_inspectors": 2**63}, "min_inspectors"),
        ({"scope": {"industries": ["危\u0000化"]}}, "scope.industries[0]"),
        ({"item_codes": ["YJ-001", "\u0000"]}, "item_codes[1]"),
        ({"item_codes": ["   "]}, "item_codes"),
    ],
)
def test_bad_task_fields_are_refused_and_change_nothing(
    as_user: Any, plan: dict[str, Any], override: dict[str, Any], field: str
) -> None:
    planner = as_user("yjj-planner")
    before = _tasks(as_user, plan["id"])
    answer = planner.post(f"/api/plans/{plan['id']}/tasks", {**SEED_TASK_2023001, **override})
    if field == "item_codes":  # blank codes are trimmed to nothing, then found unknown by the service
        assert answer.status_code in (404, 422), answer.text
        assert _chinese(answer.json()["error"]["message"])
    else:
        _refused(answer, field)
    assert _tasks(as_user, plan["id"]) == before


def test_text_is_normalised_and_trimmed(as_user: Any, plan: dict[str, Any]) -> None:
    planner = as_user("yjj-planner")
    decomposed = "  Cafe\u0301危化抽查  "  # "e" + combining acute: NFC makes it one character
    created = planner.post(f"/api/plans/{plan['id']}/tasks", {**SEED_TASK_2023001, "name": decomposed})
    assert created.status_code == 201, created.text
    assert created.json()["name"] == "Caf\u00e9危化抽查"
    blank = planner.post(f"/api/plans/{plan['id']}/tasks", {**SEED_TASK_2023001, "name": "   "})
    _refused(blank, "name")


def test_control_characters_in_query_and_path_are_refused(as_user: Any) -> None:
    admin = as_user("yjj-planner")
    _refused(admin.get("/api/registry/objects", params={"q": "a\u0000b"}), "q")
    _refused(admin.get("/api/registry/objects", params={"industry": "危\u0007化"}), "industry")
    _refused(admin.get(f"/api/tasks/{uuid.uuid4()}/results/AB%00C"), "uscc")
    _refused(admin.get("/api/registry/objects", params={"q": "危" * 101}), "q")


@pytest.mark.parametrize("page", ["1000000000000000000", "100001", "0", "-1", "abc", "1.5"])
def test_page_numbers_are_bounded(as_user: Any, page: str) -> None:
    _refused(as_user("yjj-planner").get("/api/registry/objects", params={"page": page}), "page")


@pytest.mark.parametrize(
    ("path", "field"),
    [("/api/plans?year=99999999999999999999", "year"), ("/api/reports/monthly/2023/13", "month")],
)
def test_integers_in_query_and_path_are_bounded(as_user: Any, path: str, field: str) -> None:
    _refused(as_user("yjj-planner").get(path), field)


def test_slots_and_long_texts_are_refused_before_any_lookup(as_user: Any) -> None:
    planner = as_user("yjj-planner")
    adjust = {
        "uscc": "91130528MA0000000X",
        "slot": 2**31,
        "inspector_id": str(uuid.uuid4()),
        "reason": "生病",
    }
    _refused(planner.post(f"/api/tasks/{uuid.uuid4()}/teams/adjust", adjust), "slot")
    draft = {"summary": "检" * 100_000}
    _refused(planner.post(f"/api/tasks/{uuid.uuid4()}/results/91130528MA0000000X", draft), "summary")
    note = {"points": [{"check_point_id": str(uuid.uuid4()), "outcome": "符合", "note": "x" * 2001}]}
    _refused(planner.post(f"/api/tasks/{uuid.uuid4()}/results/91130528MA0000000X", note), "points[0].note")


def test_framework_errors_answer_in_chinese(as_user: Any, http: httpx.Client, plan: dict[str, Any]) -> None:
    planner = as_user("yjj-planner")
    headers = {**planner.headers(), "content-type": "application/json"}
    malformed = http.post("/api/plans", content=b'{"year": 2023,', headers=headers)
    _refused(malformed, None, status=malformed.status_code)
    assert malformed.status_code in (400, 422)
    wrong_type = http.post(
        "/api/plans", content=b"year=2023", headers={**planner.headers(), "content-type": "text/plain"}
    )
    assert 400 <= wrong_type.status_code < 500 and _chinese(wrong_type.json()["error"]["message"]), (
        wrong_type.text
    )
    _refused(
        planner.post("/api/plans", {"year": 2023, "kind": "其他", "initiating_section": "zfjdg"}), "kind"
    )
    _refused(
        planner.post(
            "/api/plans",
            {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg", "table_date": "2023-02-30"},
        ),
        "table_date",
    )
    _refused(planner.post("/api/plans", {"year": 2023, "kind": "本部门"}), "initiating_section")
    _refused(planner.post("/api/plans", [1, 2]), None)
    huge = http.post(
        f"/api/plans/{plan['id']}/tasks",
        content=b'{"name": "' + b"x" * (9 * 1024 * 1024) + b'"}',
        headers=headers,
    )
    error = _refused(huge, None, status=413)
    assert "MB" in error["message"]
    assert _refused(http.get(f"/api/plans/{'x' * 10}", headers=planner.headers()), None, status=404)


def test_empty_boxes_of_get_forms_mean_not_given(as_user: Any, http: httpx.Client) -> None:
    """A GET form sends its empty boxes ("?year=&category="): an optional number left empty is not an error."""
    assert as_user("yjj-planner").get("/api/plans", params={"year": ""}).status_code == 200
    page = http.get("/public", params={"q": "应急", "department": "", "year": "", "category": ""})
    assert page.status_code == 200 and "填写有误" not in page.text
