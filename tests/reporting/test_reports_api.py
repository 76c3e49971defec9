"""Monthly report (附件1), post-implementation report, isolation between departments, the overseer's read-only view."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

from openpyxl import load_workbook

from tests.inspection.conftest import INSPECTOR, admin_fetch, complete_draft, matched_task_with_inspector

OWN_HEADER = [
    4,
    "部门名称",
    "检查事项数",
    "检查主体数量",
    "抽查结果公示网站及公示结果数量",
    "抽查实施方案文件",
]
JOINT_HEADER = [
    5,
    "牵头部门",
    "参与部门名称",
    "检查主体数量",
    "抽查结果公示网站及公示结果数量",
    "抽查实施文件",
]
CONTACT = {"contact_person": "李明", "contact_phone": "0319-5812345", "mobile": "13800000000"}


def test_monthly_report_draft_submit_export(as_user: Any, db_urls: dict[str, str]) -> None:
    planner = as_user("yjj-planner")
    task = matched_task_with_inspector(as_user, db_urls)
    created = {"plan": planner.get(f"/api/plans/{task['plan_id']}").json(), "task": {"id": task["task_id"]}}
    # Drawn and matched, not yet checked: no month of its window (May–June) counts it.
    for month in (5, 6):
        shown = planner.get(f"/api/reports/monthly/2023/{month}").json()["own"]
        assert all(o["task_id"] != task["task_id"] for o in shown)
    inspector = as_user(INSPECTOR)
    url = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"
    assert inspector.post(url, complete_draft(inspector.get(url).json()["points"])).status_code == 200
    report = planner.get("/api/reports/monthly/2023/6")
    assert report.status_code == 200, report.text
    r = report.json()
    assert r["status"] == "未填报" and r["due_on"] == "2023-07-23" and r["overdue"] is True
    row = next(o for o in r["own"] if o["task_id"] == created["task"]["id"])
    # Checked on 2023-06-15: one enterprise, counted in June only; the plan of 2023 entered today is 补录.
    assert row["items"] == 1 and row["subjects"] == 1 and row["published"] == 0
    assert created["plan"]["number"] in row["document"] and row["document"].endswith("（补录）")
    assert row["back_entry"] is True
    assert row["department"] == "宁晋县应急管理局（执法监督股、危化监管股、危化监察股）"
    # Not in April (outside the window), nor in May (inside the window, but nothing was checked then).
    for month in (4, 5):
        shown = planner.get(f"/api/reports/monthly/2023/{month}").json()["own"]
        assert all(o["task_id"] != created["task"]["id"] for o in shown)

    # Bad inputs: 4xx naming the field, nothing stored.
    bad = planner.post("/api/reports/monthly/2023/13", {})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "month"
    bad = planner.post("/api/reports/monthly/2023/6", {"mobile": "call me"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "mobile"
    bad = planner.post("/api/reports/monthly/2023/6", {"meetings": "x" * 2001})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "meetings"
    bad = planner.post("/api/reports/monthly/2023/6", {"unknown": "x"})
    assert bad.status_code in (400, 422) and "unknown" in bad.text
    assert planner.get("/api/reports/monthly/2023/6").json()["status"] == "未填报"

    saved = planner.post(
        "/api/reports/monthly/2023/6",
        {"meetings": "6月5日召开股室会议部署双随机工作", "documents": "宁应急〔2023〕2号", "trainings": ""},
    )
    assert saved.status_code == 200, saved.text
    assert saved.json()["status"] == "草稿" and saved.json()["fields"]["meetings"].startswith("6月5日")
    missing = planner.post("/api/reports/monthly/2023/6/submit")
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "contact_person"
    # Read-only roles of the department cannot write it either.
    assert as_user(INSPECTOR).post("/api/reports/monthly/2023/6", {"meetings": "x"}).status_code == 403

    submitted = planner.post("/api/reports/monthly/2023/6/submit", {**saved.json()["fields"], **CONTACT})
    assert submitted.status_code == 200, submitted.text
    s = submitted.json()
    assert s["status"] == "已提交" and s["overdue"] is False and s["submitted_at"]
    assert planner.post("/api/reports/monthly/2023/6", {"meetings": "改"}).status_code == 409
    assert planner.post("/api/reports/monthly/2023/6/submit").status_code == 409

    exported = planner.get("/api/reports/monthly/2023/6/xlsx")
    assert exported.status_code == 200
    rows = [list(r) for r in load_workbook(io.BytesIO(exported.content)).active.iter_rows(values_only=True)]
    assert rows[0][0] == "宁晋县应急管理局“双随机、一公开”监管工作月报表"
    assert rows[1][0] == "单位名称（盖章）：宁晋县应急管理局"
    assert (
        rows[2][0] == f"填表时间：{dt.date.fromisoformat(s['filled_on']).year}年"
        f"{dt.date.fromisoformat(s['filled_on']).month}月{dt.date.fromisoformat(s['filled_on']).day}日"
    )
    assert rows[3][0] == "一、“双随机、一公开”监管工作安排部署情况"
    assert rows[4][:3] == [1, "本月召开会议部署双随机工作", "6月5日召开股室会议部署双随机工作"]
    assert rows[5][:3] == [2, "本月有关双随机工作文件", "宁应急〔2023〕2号"]
    assert rows[6][:2] == [3, "本月组织业务培训"]
    assert rows[7][0] == "二、“双随机、一公开”监管工作开展情况"
    assert rows[8][0] == "本月按年度计划开展随机抽查情况"
    assert rows[9] == OWN_HEADER
    assert any(r[5] and created["plan"]["number"] in r[5] for r in rows[10:])
    caption = next(i for i, r in enumerate(rows) if r[0] == "本月本级参与跨部门联合抽查情况")
    assert rows[caption + 1] == JOINT_HEADER
    assert (
        rows[-1][0].startswith("联系人：李明")
        and "联系电话：0319-5812345" in rows[-1][0]
        and "手机：13800000000" in rows[-1][0]
    )

    # Another department never sees it: by id → 404; its own report of the month is its own.
    report_id = s["id"]
    assert planner.get(f"/api/reports/monthly/by-id/{report_id}").status_code == 200
    other = as_user("xf-admin").get(f"/api/reports/monthly/by-id/{report_id}")
    assert other.status_code == 404
    assert as_user("xf-admin").get("/api/reports/monthly/2023/6").json()["status"] == "未填报"
    assert as_user("county-overseer").get(f"/api/reports/monthly/by-id/{report_id}").status_code == 403
    # The overseer reads it, as submitted, through the dashboard's drill-down; another department still cannot.
    seen = as_user("county-overseer").get(f"/api/oversight/reports/{report_id}")
    assert (
        seen.status_code == 200
        and seen.json()["status"] == "已提交"
        and seen.json()["department"] == "宁晋县应急管理局"
    )
    assert seen.json()["own"] == s["own"] and seen.json()["fields"]["contact_person"] == "李明"
    assert as_user("xf-admin").get(f"/api/oversight/reports/{report_id}").status_code == 404
    county = as_user("county-overseer").get("/api/oversight/dashboard", params={"year": 2023}).json()
    yjj = next(d for d in county["departments"] if d["code"] == "130528-yjj")
    assert yjj["reports"]["6"] == "已提交" and yjj["report_ids"]["6"] == report_id


def test_post_implementation_report(as_user: Any, db_urls: dict[str, str]) -> None:
    task = matched_task_with_inspector(as_user, db_urls)
    planner, inspector = as_user("yjj-planner"), as_user(INSPECTOR)
    empty = planner.post(f"/api/reports/tasks/{task['task_id']}/submit")
    assert empty.status_code == 409 and empty.json()["error"]["field"] == "task_id"
    url = f"/api/tasks/{task['task_id']}/results/{task['uscc']}"
    points = inspector.get(url).json()["points"]
    draft = complete_draft(
        points,
        categories=["发现问题已责令改正"],
        hazards=[{"description": "储罐区未设置防火堤", "severity": "重大隐患", "rectify_by": "2023-07-15"}],
        follow_ups=[{"action": "责令改正并跟踪"}],
    )
    assert inspector.post(url, draft).status_code == 200
    report = planner.get(f"/api/reports/tasks/{task['task_id']}").json()
    assert report["checked"] == 1 and report["hazards"] == 1 and report["status"] == "未报送"
    # A back-entered plan (补录): two days after the last result was entered, not after the check of 2023-06-15.
    entered = admin_fetch(
        db_urls,
        "SELECT max(created_at) AS at FROM inspection_results WHERE task_id = $1",
        uuid.UUID(task["task_id"]),
    )[0]["at"]
    assert report["back_entry"] is True and report["lead"] is None
    assert (
        report["due_on"] == (entered.date() + dt.timedelta(days=2)).isoformat() and report["overdue"] is False
    )
    e = report["enterprises"][0]
    assert e["name"] == task["name"] and e["hazards"][0]["description"] == "储罐区未设置防火堤"
    assert e["followups"][0]["action"] == "责令改正并跟踪"

    assert as_user("county-overseer").post(f"/api/reports/tasks/{task['task_id']}/submit").status_code == 403
    assert as_user("xf-admin").get(f"/api/reports/tasks/{task['task_id']}").status_code == 404
    sent = planner.post(f"/api/reports/tasks/{task['task_id']}/submit")
    assert sent.status_code == 200, sent.text
    assert sent.json()["status"] == "已报送" and sent.json()["recipient"] == "执法监督股"
    assert planner.post(f"/api/reports/tasks/{task['task_id']}/submit").status_code == 409
    notes = admin_fetch(
        db_urls, "SELECT title FROM notifications WHERE dedupe_key = $1", f"task-report:{task['task_id']}"
    )
    assert len(notes) == 1 and "已报送执法监督股" in notes[0]["title"]
    xlsx = planner.get(f"/api/reports/tasks/{task['task_id']}/xlsx")
    rows = [list(r) for r in load_workbook(io.BytesIO(xlsx.content)).active.iter_rows(values_only=True)]
    assert rows[3] == [
        "序号",
        "检查对象名称",
        "统一社会信用代码",
        "检查日期",
        "检查结果",
        "发现的问题",
        "依法处理情况",
        "状态",
    ]
    assert rows[4][1] == task["name"] and "储罐区未设置防火堤" in rows[4][5]


def test_overseer_writes_nothing(as_user: Any) -> None:
    overseer = as_user("county-overseer")
    some_task = "00000000-0000-4000-8000-000000000001"
    for path in (
        "/api/reports/monthly/2023/6",
        "/api/reports/monthly/2023/6/submit",
        f"/api/reports/tasks/{some_task}/submit",
    ):
        response = overseer.post(path, {"meetings": "x", **CONTACT} if "monthly" in path else {})
        assert response.status_code == 403, (path, response.text)
    # It reads the county dashboard; a department user only its own department.
    county = overseer.get("/api/oversight/dashboard", params={"year": 2023})
    assert county.status_code == 200, county.text
    # Other tests may provision more departments of the county; the seed's three are always there.
    assert {d["code"] for d in county.json()["departments"]} >= {"130528-yjj", "130528-xfjy", "130528-scjg"}
    own = as_user("xf-admin").get("/api/oversight/dashboard", params={"year": 2023}).json()
    assert [d["code"] for d in own["departments"]] == ["130528-xfjy"] and own["county_view"] is False
    bad = overseer.get("/api/oversight/dashboard", params={"year": 1800})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "year"
