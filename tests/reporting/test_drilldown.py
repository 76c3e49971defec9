"""The dashboard's drill-down (county → department → plan → task → enterprise) and its exports: each level answers
what the records say, a department sees only itself, the files hold what the page shows."""

from __future__ import annotations

import csv
import io
import uuid
from decimal import Decimal
from typing import Any

import httpx
import msgspec
from openpyxl import load_workbook

from services.reporting import charts
from services.reporting import oversight_export as export
from services.reporting.dashboard_schemas import Dashboard, MonthSummary, OversightDepartment, OversightTask
from tests.inspection.conftest import INSPECTOR, admin_fetch, matched_task_with_inspector
from tests.planning.conftest import as_user, http  # noqa: F401 (fixtures)


def _drawn(db_urls: dict[str, str], task_id: str) -> list[str]:
    rows = admin_fetch(
        db_urls,
        "SELECT s.uscc FROM draw_selected s JOIN draws d ON d.id = s.draw_id"
        " WHERE d.task_id = $1 AND d.status = '已抽取' ORDER BY s.stratum, s.rank",
        uuid.UUID(task_id),
    )
    return [r["uscc"] for r in rows]


def test_drill_down_from_department_to_enterprise(
    as_user: Any,  # noqa: F811
    db_urls: dict[str, str],
    http: httpx.Client,  # noqa: F811
) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    overseer = as_user("county-overseer")
    drawn = _drawn(db_urls, task["task_id"])
    assert len(drawn) >= 2

    # The department: its plan of 2023 with the task's progress.
    dept = overseer.get("/api/oversight/departments/130528-yjj", params={"year": 2023})
    assert dept.status_code == 200, dept.text
    assert dept.json()["department"]["name"] == "宁晋县应急管理局"
    plan = next(p for p in dept.json()["plans"] if p["id"] == task["plan_id"])
    assert plan["role"] == "本部门" and plan["tasks"] == 1 and plan["drawn"] == len(drawn)
    assert plan["checked"] == 0 and plan["published"] == 0

    # The task: every drawn enterprise, in draw order, none entered yet.
    url = f"/api/oversight/tasks/{task['task_id']}"
    view = overseer.get(url).json()
    assert [e["uscc"] for e in view["enterprises"]] == drawn
    assert view["counts"] == {"未录入": len(drawn)}

    # An inspector saves a draft: that enterprise is 草稿, the others stay 未录入.
    entry = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"
    points = as_user(INSPECTOR).get(entry).json()["points"]
    saved = as_user(INSPECTOR).post(
        entry,
        {"check_date": "2023-06-15", "points": [{"check_point_id": points[0]["id"], "outcome": "符合"}]},
    )
    assert saved.status_code == 200, saved.text
    view = overseer.get(url).json()
    status = {e["uscc"]: e["status"] for e in view["enterprises"]}
    assert status[task["uscc"]] == "草稿" and view["counts"] == {"未录入": len(drawn) - 1, "草稿": 1}
    mine = next(e for e in view["enterprises"] if e["uscc"] == task["uscc"])
    assert mine["departments"] == ["宁晋县应急管理局"] and mine["check_date"] == "2023-06-15"
    plan = next(
        p
        for p in overseer.get("/api/oversight/departments/130528-yjj", params={"year": 2023}).json()["plans"]
        if p["id"] == task["plan_id"]
    )
    assert plan["checked"] == 1

    # The exports hold what the pages show (the pages and their download links: tests/e2e/test_oversight_drilldown_ui.py).
    body, _, name = export.to_file(export.task(msgspec.convert(view, OversightTask, strict=False)), "csv")
    rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
    assert rows[0][:5] == ["层级", "序号", "统一社会信用代码", "企业名称", "进度"] and name.endswith(".csv")
    assert [r[2] for r in rows[1:]] == drawn and {r[4] for r in rows[1:]} == {"未录入", "草稿"}
    shown = overseer.get("/api/oversight/departments/130528-yjj", params={"year": 2023}).json()
    body, _, _ = export.to_file(
        export.department(msgspec.convert(shown, OversightDepartment, strict=False)), "xlsx"
    )
    sheet = list(load_workbook(io.BytesIO(body)).active.iter_rows(values_only=True))
    assert sheet[0][0] == "宁晋县应急管理局2023年抽查计划" and sheet[1][0] == "计划编号"
    assert len(sheet) - 2 == len(shown["plans"]) and task["plan_id"] not in str(sheet)  # no ids for people
    county = overseer.get("/api/oversight/dashboard", params={"year": 2023}).json()
    body, _, _ = export.to_file(export.county(msgspec.convert(county, Dashboard, strict=False)), "csv")
    names = [r[0] for r in list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))[1:]]
    assert names == [d["name"] for d in county["departments"]] and "宁晋县应急管理局" in names

    # A department sees itself only; unknown levels are 404 in Chinese.
    other = as_user("xf-admin")
    assert other.get("/api/oversight/departments/130528-yjj", params={"year": 2023}).status_code == 404
    assert other.get(url).status_code == 404
    assert as_user("yjj-planner").get(url).status_code == 200
    missing = overseer.get("/api/oversight/departments/nope", params={"year": 2023})
    assert missing.status_code == 404 and missing.json()["error"]["field"] == "code"
    assert overseer.get(f"/api/oversight/tasks/{uuid.uuid4()}").status_code == 404


def test_charts_have_titles_labels_and_values() -> None:
    months = [MonthSummary(month=m, results=m * 3, published=m * 2, on_time=m) for m in range(1, 13)]
    svg = charts.trend(months, title="2023年全县按月检查与公示")
    assert svg.count("<title>") == 1 + 24 and 'aria-label="2023年全县按月检查与公示"' in svg
    assert (
        ">36<" in svg and ">24<" in svg and ">12月<" in svg and ">50%<" in svg
    )  # values, months, on-time share
    # The axis: 36 rounds up to four ticks of 10 (ticks of 1, 2 or 5 × 10^k).
    assert ">40<" in svg and ">30<" in svg and ">50<" not in svg
    bars = charts.target_bars([("宁晋县应急管理局", None)], Decimal("0.05"), title="占比")
    assert "宁晋县应急管理局" in bars and "—" in bars and "目标 5%" in bars
    assert charts.share(Decimal("0.0480")) == "4.8%" and charts.share(Decimal("1")) == "100%"
