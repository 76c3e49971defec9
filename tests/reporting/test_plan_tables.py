"""附件2 and 附件3: the seed's three plans, entered through the API, reproduce the seed's tables cell by cell."""

from __future__ import annotations

import io
import re
from typing import Any

from openpyxl import load_workbook

from tests.federation.test_joint_plan import LIAN_TASK
from tests.planning.conftest import SEED_TASK_2023001

SEED_TASK_2023002 = {
    **SEED_TASK_2023001,
    "name": "宁晋县应急管理局2023年度工贸企业“双随机”内部联合抽查",
    "item_codes": ["YJ-002"],
    "item_note": "对工贸企业安全生产的检查",
    "scope": {"industries": ["工贸"], "direct_supervision_only": True},
    "scope_note": "2023年直接监管工贸行业",
    "start_month": "2023-09",
    "end_month": "2023-10",
}

# The seed's tables (附件2, 附件3), copied cell by cell from the source document.
ANNEX2_HEADER = [
    "抽查计划编号",
    "抽查计划名称",
    "抽查任务编号",
    "抽查任务名称",
    "抽查类型",
    "抽查比例",
    "抽查事项",
    "抽查对象范围",
    "发起科（股）室",
    "联合科（股）室",
    "抽查时间",
]
ANNEX2_ROWS = [
    [
        "2023001",
        "2023年宁晋县应急管理局内部门联合抽查001",
        "001号",
        "宁晋县应急管理局2023年度危化企业“双随机”内部联合抽查",
        "定向",
        "5%（运用企业信用风险分级分类开展）",
        "对危化企业安全生产的检查",
        "2023年直接监管危化行业",
        "执法监督股",
        "危化监管股、危化监察股",
        "5月-6月",
    ],
    [
        "2023002",
        "2023年宁晋县应急管理局内部门联合抽查002",
        "002号",
        "宁晋县应急管理局2023年度工贸企业“双随机”内部联合抽查",
        "定向",
        "5%（运用企业信用风险分级分类开展）",
        "对工贸企业安全生产的检查",
        "2023年直接监管工贸行业",
        "执法监督股",
        "工贸监管股、工贸监察股",
        "9月-10月",
    ],
]
ANNEX3_HEADER = [
    "抽查计划编号",
    "抽查计划名称",
    "抽查任务编号",
    "抽查任务名称",
    "抽查类型",
    "抽查比例",
    "抽查事项",
    "抽查对象范围",
    "发起部门",
    "联合部门",
    "抽查时间",
    "备注",
]
ANNEX3_ROWS = [
    [
        "联2023001",
        "2023年宁晋县部门联合抽查001",
        "联001",
        "2023年宁晋县危化行业重大危险源企业部门联合随机抽查",
        "定向",
        "10% (运用企业信用风险分级分类开展)",
        "1、人员和资质管理情况。 2、工艺管理情况。 3、设备设施管理情况。 4、重大危险源安全管理情况。",
        "2023年直接监管危化行业企业",
        "县应急管理局",
        "县消防救援大队",
        "2023年5月至7月",
        "县本级开展",
    ],
]


def _internal_plan(planner: Any, joint_sections: list[str], task: dict[str, Any]) -> tuple[dict, dict]:
    plan = planner.post(
        "/api/plans",
        {
            "year": 2023,
            "kind": "内部联合",
            "initiating_section": "zfjdg",
            "joint_sections": joint_sections,
            "table_date": "2023-01-13",
        },
    )
    assert plan.status_code == 201, plan.text
    created = planner.post(f"/api/plans/{plan.json()['id']}/tasks", task)
    assert created.status_code == 201, created.text
    return plan.json(), created.json()


def _sheet(response: Any) -> list[list[Any]]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [[c for c in row] for row in sheet.iter_rows(values_only=True)]


def _numbered(seed_row: list[str], plan: dict[str, Any], task: dict[str, Any]) -> list[str]:
    """The seed row with the numbers the API assigned: the shared test database may hold earlier 2023 plans and
    tasks (on a fresh database the numbers are the seed's own: 2023001/001号, 2023002/002号). Everything else is
    the seed's."""
    assert plan["number"][:-3] == seed_row[0][:-3] and plan["name"] == seed_row[1][:-3] + plan["number"][-3:]
    assert re.sub(r"\d", "#", task["number"]) == re.sub(r"\d", "#", seed_row[2])
    return [plan["number"], plan["name"], task["number"], *seed_row[3:]]


def test_seed_plans_reproduce_annex2_and_annex3(as_user: Any) -> None:
    planner = as_user("yjj-planner")
    p1, t1 = _internal_plan(planner, ["whjgg", "whjcg"], SEED_TASK_2023001)
    p2, t2 = _internal_plan(planner, ["gmjgg", "gmjcg"], SEED_TASK_2023002)
    # One task sequence per department and year, as in the seed (001号 then 002号).
    assert int(t2["number"][:3]) == int(t1["number"][:3]) + 1
    joint = planner.post(
        "/api/federation/plans", {"year": 2023, "partners": ["130528-xfjy"], "table_date": "2023-01-13"}
    )
    assert joint.status_code == 201, joint.text
    p3 = joint.json()["plan"]
    task = planner.post(f"/api/plans/{p3['id']}/tasks", LIAN_TASK)
    assert task.status_code == 201, task.text
    t3 = task.json()

    rows = _sheet(
        planner.get("/api/reports/plan-tables/2023/2", params={"plans": f"{p1['number']},{p2['number']}"})
    )
    assert rows[0][0] == "2023年内部联合“双随机、一公开”抽查工作计划表"
    assert rows[1][0] == "单位（盖章）：宁晋县应急管理局" and rows[1][10] == "制表时间：2023年1月13日"
    assert list(rows[2]) == ANNEX2_HEADER
    assert [list(r) for r in rows[3:5]] == [
        _numbered(ANNEX2_ROWS[0], p1, t1),
        _numbered(ANNEX2_ROWS[1], p2, t2),
    ]
    notes = [r[0] for r in rows[5:] if r[0]]
    assert notes == [
        "备注：1. 抽查计划名称为：年度+行政区划+部门+随机抽查+序号，抽查任务名称以实施方案名称为准。",
        "2. 抽查时间必须填到月份。",
        # Entered today, the seed's 2023 plans are back-entries (补录): named below the table, the seed's cells kept.
        f"补录：{p1['number']}、{p2['number']}（计划期间过后补充录入）",
    ]

    rows = _sheet(planner.get("/api/reports/plan-tables/2023/3", params={"plans": p3["number"]}))
    assert rows[0][0] == "县有关部门2023年拟发起的部门联合抽查工作计划"
    assert rows[1][0] == "单位（盖章）：宁晋县应急管理局" and rows[2][0] == "制表时间：2023年1月13日"
    assert list(rows[3]) == ANNEX3_HEADER
    assert [list(r) for r in rows[4:5]] == [_numbered(ANNEX3_ROWS[0], p3, t3)]
    assert [r[0] for r in rows[5:] if r[0]] == [f"补录：{p3['number']}（计划期间过后补充录入）"]

    # The whole year's table holds the same rows among the others.
    everything = _sheet(planner.get("/api/reports/plan-tables/2023/2"))
    assert _numbered(ANNEX2_ROWS[1], p2, t2) in [list(r) for r in everything]


def test_plan_table_bad_inputs_name_the_field(as_user: Any) -> None:
    planner = as_user("yjj-planner")
    bad = planner.get("/api/reports/plan-tables/2023/4")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "annex"
    bad = planner.get("/api/reports/plan-tables/1999/2")
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "year"
    # Another department sees none of 应急管理局's plans in its own table.
    rows = _sheet(as_user("xf-admin").get("/api/reports/plan-tables/2023/2"))
    assert not any("应急管理局" in str(c) for r in rows[3:] for c in r if c)


def _row_of(planner: Any, plan: dict[str, Any], annex: int = 2) -> list[Any]:
    rows = _sheet(planner.get(f"/api/reports/plan-tables/2023/{annex}", params={"plans": plan["number"]}))
    return list(rows[3 if annex == 2 else 4])


def test_columns_come_from_the_task_not_from_its_notes(as_user: Any) -> None:
    """Ratio, items, scope, window and units are the task's own; a note phrases or adds, never replaces."""
    planner = as_user("yjj-planner")
    # No notes at all: every column is derived from the task.
    bare = {k: v for k, v in SEED_TASK_2023001.items() if not k.endswith("_note")}
    plan, _ = _internal_plan(planner, ["whjgg", "whjcg"], bare)
    assert _row_of(planner, plan)[4:] == [
        "定向",
        "5%（运用企业信用风险分级分类开展）",
        "对危化企业安全生产的检查",
        "2023年直接监管危化行业",
        "执法监督股",
        "危化监管股、危化监察股",
        "5月-6月",
    ]
    # Notes that contradict the task: the real ratio, items and scope lead, the note follows in brackets.
    wrong = {
        **SEED_TASK_2023001,
        "class_ratios": None,
        "ratio": "3%",
        "ratio_note": "10%（重点企业全覆盖）",
        "item_note": "对烟花爆竹企业的检查",
        "scope_note": "2023年工贸行业",
        "scope": {"industries": ["危化"], "direct_supervision_only": True, "major_hazard_only": True},
        "start_month": "2023-08",
        "end_month": "2023-08",
    }
    plan, _ = _internal_plan(planner, ["whjcg"], wrong)
    assert _row_of(planner, plan)[5:] == [
        "3%（10%（重点企业全覆盖））",
        "对危化企业安全生产的检查（对烟花爆竹企业的检查）",
        "2023年直接监管危化行业（重大危险源企业）（2023年工贸行业）",
        "执法监督股",
        "危化监察股",
        "8月",
    ]
    # A note that states the real values stands: the ratio it begins with, the item's own check points.
    phrased = {
        **SEED_TASK_2023001,
        "ratio_note": "5%，运用企业信用风险分级分类开展",
        "item_note": "1、人员和资质管理情况。 2、工艺管理情况。",
        "scope_note": "2023年县本级直接监管的危化行业企业",
    }
    plan, _ = _internal_plan(planner, ["whjgg"], phrased)
    assert _row_of(planner, plan)[5:8] == [
        "5%，运用企业信用风险分级分类开展",
        "1、人员和资质管理情况。 2、工艺管理情况。",
        "2023年县本级直接监管的危化行业企业",
    ]
    # …but a topic that is not a check point of the task's items does not.
    invented = {**phrased, "item_note": "1、人员和资质管理情况。 2、财务审计情况。"}
    plan, _ = _internal_plan(planner, ["whjgg"], invented)
    assert (
        _row_of(planner, plan)[6] == "对危化企业安全生产的检查（1、人员和资质管理情况。 2、财务审计情况。）"
    )
