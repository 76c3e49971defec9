"""No report file the product writes holds a formula: a task name, a note, a hazard or a monthly field starting with
"=" (or "+", "-", "@") stays text in 附件1, 附件2/3, the post-implementation report and the platform export."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from typing import Any

from openpyxl import load_workbook

from services.disclosure import export
from services.disclosure.schemas import RecordRow
from tests.inspection.conftest import INSPECTOR, complete_draft, matched_task_with_inspector
from tests.planning.conftest import SEED_TASK_2023001

EVIL_NAME = '=HYPERLINK("http://evil.example","点击查看")'


def _cells(response: Any) -> list[Any]:
    assert response.status_code == 200, response.text
    workbook = load_workbook(io.BytesIO(response.content))
    return [cell for sheet in workbook.worksheets for row in sheet.iter_rows() for cell in row]


def _no_formula(cells: list[Any], *texts: str) -> None:
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    values = [str(c.value) for c in cells if c.value is not None]
    for text in texts:
        assert any(text in v for v in values), text


def test_plan_table_and_monthly_report_keep_formulas_as_text(as_user: Any) -> None:
    planner = as_user("yjj-planner")
    plan = planner.post(
        "/api/plans",
        {"year": 2023, "kind": "内部联合", "initiating_section": "zfjdg", "joint_sections": ["whjgg"]},
    ).json()
    task = planner.post(
        f"/api/plans/{plan['id']}/tasks",
        {**SEED_TASK_2023001, "name": EVIL_NAME, "item_note": "=1+2", "scope_note": "@SUM(A1)"},
    )
    assert task.status_code == 201, task.text
    cells = _cells(planner.get("/api/reports/plan-tables/2023/2", params={"plans": plan["number"]}))
    _no_formula(cells, EVIL_NAME, "=1+2", "@SUM(A1)")
    assert any(c.value == EVIL_NAME and c.data_type == "s" for c in cells)

    saved = planner.post("/api/reports/monthly/2023/3", {"meetings": "=1+1", "documents": "-2+3"})
    assert saved.status_code == 200, saved.text
    _no_formula(_cells(planner.get("/api/reports/monthly/2023/3/xlsx")), "=1+1", "-2+3")


def test_task_report_keeps_formulas_as_text(as_user: Any, db_urls: dict[str, str]) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    inspector = as_user(INSPECTOR)
    url = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"
    points = inspector.get(url).json()["points"]
    draft = complete_draft(
        points,
        categories=["发现问题已责令改正"],
        hazards=[
            {"description": "=cmd|' /C calc'!A0 储罐区", "severity": "一般隐患", "rectify_by": "2023-07-15"}
        ],
        follow_ups=[{"action": "责令改正并跟踪"}],
    )
    assert inspector.post(url, draft).status_code == 200
    _no_formula(_cells(as_user("yjj-planner").get(f"/api/reports/tasks/{task['task_id']}/xlsx")), "=cmd|")


def _record(name: str) -> RecordRow:
    return RecordRow(
        id=uuid.uuid4(),
        task_id=uuid.uuid4(),
        draw_id=None,
        department_name="宁晋县应急管理局",
        plan_number="2023001",
        task_number="001号",
        task_name=name,
        uscc="91130528MA0000000X",
        enterprise_name="+危化有限公司",
        check_date=dt.date(2023, 6, 15),
        categories=["未发现问题"],
        hazard_count=0,
        follow_up="无需后续处置",
        published_at=dt.datetime(2023, 6, 20, 8, tzinfo=dt.UTC),
        department_code="130528-yjj",
        region_code="130528",
        plan_name="-2023年计划",
        address="@地址",
        items="对危化企业安全生产的检查",
        departments=[],
    )


def test_platform_export_defuses_formulas() -> None:
    rows = [_record(EVIL_NAME)]
    table = list(csv.reader(io.StringIO(export.to_csv(rows).decode("utf-8-sig"))))
    line = dict(zip(table[0], table[1], strict=True))
    assert line["抽查任务名称"] == "'" + EVIL_NAME
    assert line["检查对象名称"] == "'+危化有限公司" and line["抽查计划名称"] == "'-2023年计划"
    assert line["统一社会信用代码"] == "91130528MA0000000X"  # ordinary text unchanged
    cells = [c for row in load_workbook(io.BytesIO(export.to_xlsx(rows))).active.iter_rows() for c in row]
    assert [c.coordinate for c in cells if c.data_type == "f"] == []
    assert {EVIL_NAME, "+危化有限公司", "-2023年计划", "@地址"} <= {c.value for c in cells}
