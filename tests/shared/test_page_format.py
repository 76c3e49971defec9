"""One formatting on every page, and form errors placed beside their inputs (pure functions, no I/O)."""

from __future__ import annotations

import datetime as dt
import uuid

from services.planning import stepper
from services.planning.schemas import PlanCreate, PlanStatus, TaskCreate, TaskStatus
from shared.context import Principal
from shared.errors import InvalidInput
from shared.web import format as page_format
from shared.web.fielderrors import check_form, convert, error_of, input_of
from shared.web.pages import navigation


def test_ratios_dates_and_numbers_have_one_form() -> None:
    assert page_format.ratio("0.05") == "5%"
    assert page_format.ratio("0.025") == "2.5%"
    assert page_format.ratio("5%") == "5%"
    assert page_format.ratio(None) == "—"
    assert page_format.ratios({"ALL": "0.05"}) == "5%"
    assert page_format.ratios({"A": "0.05", "B": "0.05", "C": "0.05", "D": "0.05"}) == "各风险等级均为 5%"
    assert (
        page_format.ratios({"A": "0.1", "B": "0.05", "C": "0.03", "D": "0.01"})
        == "A类 10%、B类 5%、C类 3%、D类 1%"
    )
    assert page_format.date(dt.datetime(2023, 5, 1, 14, 3)) == "2023-05-01"
    assert page_format.datetime("2023-05-01T14:03:09+08:00") == "2023-05-01 14:03"
    assert page_format.num(1234) == "1,234"
    assert page_format.orblank(None) == page_format.orblank([]) == "—"


def test_every_field_error_at_once_beside_its_input() -> None:
    errors = check_form(
        {
            "name": "x",
            "draw_type": "随便",
            "start_month": "2023-13",
            "end_month": "2023-06",
            "item_codes": [],
            "class_ratios": {"A": "5%", "B": "9" * 50},
        },
        TaskCreate,
        {"class_ratios.B": "class_B"},
    )
    assert set(errors.fields) == {"name", "draw_type", "start_month", "item_codes", "class_B"}
    assert errors.fields["name"] == "至少需要 2 个字"
    assert all(
        not any(c.isascii() and c.isalpha() for c in m) for m in errors.fields.values() if "'" not in m
    )
    missing = check_form({"year": "2023", "kind": "本部门"}, PlanCreate)
    assert missing.fields == {"initiating_section": "必须填写"}
    data, ok = convert({"year": "2023", "kind": "本部门", "initiating_section": "zfjdg"}, PlanCreate)
    assert not ok and data is not None and data.year == 2023


def test_service_refusals_are_placed_by_field() -> None:
    assert input_of("joint_sections[1]", {}) == "joint_sections"
    assert input_of("class_ratios.A", {"class_ratios.A": "class_A"}) == "class_A"
    assert input_of("scope.risk_classes", {"scope": "scope_other"}) == "scope_other"
    placed = error_of(InvalidInput("至少需要一个联合股室", field="joint_sections"))
    assert placed.fields == {"joint_sections": "至少需要一个联合股室"} and not placed.general
    general = error_of(InvalidInput("任务当前状态为“已抽取”", field="status"), {"status": ""})
    assert general.general == ["任务当前状态为“已抽取”"] and not general.fields


def test_a_task_under_a_published_plan_never_shows_a_bare_draft() -> None:
    assert stepper.state_label(TaskStatus.DRAFT, PlanStatus.PUBLISHED) == "待公告抽取"
    assert stepper.state_label(TaskStatus.DRAFT, PlanStatus.DRAFT) == "草稿（计划未发布）"
    steps = stepper.steps(TaskStatus.DRAWN, PlanStatus.PUBLISHED)
    assert [s.state for s in steps] == ["done", "done", "current", "todo", "todo"]
    assert steps[2].label == "匹配" and steps[2].note == "待匹配检查人员"
    assert stepper.steps(TaskStatus.DRAFT, PlanStatus.DRAFT)[0].note == "计划发布后才能公告抽取"
    assert (
        stepper.slot_word("检查人员2") == "第2名检查人员" and stepper.slot_word("危化监管股") == "危化监管股"
    )
    assert stepper.stratum_word("ALL") == "全部"


def _person(*roles: str, department: str | None = "130528-yjj") -> Principal:
    return Principal(uuid.uuid4(), "u", "某人", "130528", ("130528-yjj",), (), frozenset(roles), department)


def test_navigation_follows_roles() -> None:
    def ids(person: Principal, path: str = "/") -> set[str]:
        return {link["id"] for link in navigation(person, path, person.active_department is not None)}

    inspector = ids(_person("inspector"))
    assert {"nav-assignments", "nav-results"} <= inspector
    assert not inspector & {"nav-tags", "nav-reports", "nav-oversight", "nav-plans", "nav-review"}
    assert "nav-review" in ids(_person("reviewer"))
    overseer = ids(_person("county-overseer", department=None))
    assert "nav-oversight" in overseer and not overseer & {"nav-plans", "nav-results", "nav-reports"}
    current = [link for link in navigation(_person("planner"), "/tasks/1", True) if link["current"]]
    assert [link["id"] for link in current] == ["nav-plans"]
