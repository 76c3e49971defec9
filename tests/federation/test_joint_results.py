"""联2023001 results: each department enters its own part (谁检查、谁录入), each reviews its own part, the lead
publishes ONE public record naming both departments; isolation of drafts (API and raw SQL as the runtime role);
referrals across departments (抄告/移送) round trip."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg

from services.identity.provisioning import department_id
from shared.db import asyncpg_dsn
from tests.federation.test_joint_plan import LIAN_TASK, _joint_plan
from tests.support.services import run

YJJ, XF, SCJG = (department_id(c) for c in ("130528-yjj", "130528-xfjy", "130528-scjg"))
ZHANG_WEI = uuid.UUID("00000000-0000-4000-8000-000000000104")
HUANG_LEI = uuid.UUID("00000000-0000-4000-8000-000000000203")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _fetch(url: str, sql: str, tenant: uuid.UUID | None, *args: Any) -> list[Any]:
    """Raw SQL; with ``tenant`` inside a transaction scoped like the app scopes a department."""
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        async with conn.transaction():
            if tenant is not None:
                await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(tenant))
            return list(await conn.fetch(sql, *args))
    finally:
        await conn.close()


def fetch(url: str, sql: str, *args: Any, tenant: uuid.UUID | None = None) -> list[Any]:
    return run(_fetch, url, sql, tenant, *args)


def matched_joint_task(
    as_user: Any,
    db_urls: dict[str, str],
    partners: list[str] | None = None,
    task: dict[str, Any] | None = None,
    items: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    lead = as_user("yjj-planner")
    partners = partners or ["130528-xfjy"]
    joint = _joint_plan(as_user, partners)
    plan_id = joint["plan"]["id"]
    planners = {"130528-xfjy": "xf-planner", "130528-scjg": "scjg-admin"}
    items = items or {"130528-xfjy": ["XF-001"], "130528-scjg": ["SJ-001"]}
    for code in partners:
        partner = as_user(planners[code])
        assert (
            partner.post(f"/api/federation/plans/{plan_id}/respond", {"action": "accept"}).status_code == 200
        )
        assert (
            partner.post(f"/api/federation/plans/{plan_id}/items", {"item_codes": items[code]}).status_code
            == 200
        )
    created = lead.post(f"/api/plans/{plan_id}/tasks", task or LIAN_TASK)
    assert created.status_code == 201, created.text
    task_id = created.json()["id"]
    assert lead.post(f"/api/plans/{plan_id}/publish").status_code == 200
    assert lead.post(f"/api/tasks/{task_id}/announce", {}).status_code == 201
    assert lead.post(f"/api/tasks/{task_id}/draw", {}).status_code == 200
    matched = lead.post(f"/api/tasks/{task_id}/match", {})
    assert matched.status_code == 200, matched.text
    # Put the demo accounts' inspectors on one enterprise's team the way planners do: the lead's planner adjusts
    # the lead's slot, the fire brigade's planner its own (each with a reason, recorded and public). An enterprise
    # they checked last time is not theirs to check again (回避), so take the first team where both may serve.
    fire = as_user("xf-planner")
    zhang, huang = inspector_id(db_urls, ZHANG_WEI, YJJ), inspector_id(db_urls, HUANG_LEI, XF)
    uscc = None
    for team in matched.json()["teams"]:
        if place(lead, task_id, team, 0, zhang) and place(fire, task_id, team, 1, huang):
            uscc = team["uscc"]
            break
    assert uscc is not None, "张伟 and 黄磊 may serve on none of the drawn enterprises"
    return {
        "plan_id": plan_id,
        "task_id": task_id,
        "uscc": uscc,
        "usccs": [t["uscc"] for t in matched.json()["teams"]],
    }


def inspector_id(db_urls: dict[str, str], user_id: uuid.UUID, tenant: uuid.UUID) -> str:
    found = fetch(
        db_urls["admin"], "SELECT id FROM inspectors WHERE user_id = $1 AND tenant_id = $2", user_id, tenant
    )
    return str(found[0]["id"])


def place(planner: Any, task_id: str, team: dict[str, Any], slot: int, inspector: str) -> bool:
    """Adjust one slot of a joint team through the API; False when a rule refuses this inspector here."""
    if team["members"][slot]["inspector_id"] == inspector:
        return True
    adjusted = planner.post(
        f"/api/tasks/{task_id}/teams/adjust",
        {
            "uscc": team["uscc"],
            "slot": slot,
            "inspector_id": inspector,
            "reason": "测试：指定演示账号负责该企业的检查",
        },
    )
    if adjusted.status_code == 409 and adjusted.json()["error"]["field"] == "inspector_id":
        return False
    assert adjusted.status_code == 200, adjusted.text
    return True


def _answers(points: list[dict[str, Any]], bad: str | None = None) -> list[dict[str, Any]]:
    out = [{"check_point_id": p["id"], "outcome": "符合"} for p in points]
    if bad:
        out[0] = {"check_point_id": points[0]["id"], "outcome": "不符合", "note": bad}
    return out


def test_lian2023001_one_record_per_enterprise(as_user: Any, http: Any, db_urls: dict[str, str]) -> None:
    joint = matched_joint_task(as_user, db_urls)
    task_id, uscc = joint["task_id"], joint["uscc"]
    base = f"/api/tasks/{task_id}/results/{uscc}"
    yjj_insp, xf_insp = as_user("yjj-insp-whjg"), as_user("xf-inspector")
    yjj_rev, xf_rev, market = as_user("yjj-reviewer"), as_user("xf-admin"), as_user("scjg-admin")

    # Both inspectors find the enterprise among their joint assignments.
    for who in (yjj_insp, xf_insp):
        assigned = who.get("/api/federation/my/assignments")
        assert assigned.status_code == 200, assigned.text
        assert any(a["task_id"] == task_id and a["uscc"] == uscc for a in assigned.json())
    assert market.get("/api/federation/my/assignments").json() == []
    # Each department sees the check points of its own items only (谁检查、谁录入).
    lead_entry = yjj_insp.get(base)
    assert lead_entry.status_code == 200, lead_entry.text
    assert {p["item_code"] for p in lead_entry.json()["points"]} == {"YJ-001"}
    fire_entry = xf_insp.get(base)
    assert fire_entry.status_code == 200, fire_entry.text
    assert {p["item_code"] for p in fire_entry.json()["points"]} == {"XF-001"}
    assert fire_entry.json()["on_team"] and lead_entry.json()["on_team"]

    # The lead's draft, with a finding that belongs to the market regulator and a photo.
    lead_draft = {
        "check_date": "2023-06-15",
        "points": _answers(lead_entry.json()["points"], "危化品仓库标签与登记信息不符"),
        "categories": ["违反其他部门相关规定"],
        "summary": "发现登记信息问题，抄告市场监管部门",
        "follow_ups": [
            {"action": "抄告相关部门", "target": "宁晋县市场监督管理局", "note": "登记信息与实际不符"}
        ],
    }
    saved = yjj_insp.post(base, lead_draft)
    assert saved.status_code == 200, saved.text
    lead_result = saved.json()["id"]
    uploaded = yjj_insp.client.post(
        f"/api/results/{lead_result}/attachments",
        headers=yjj_insp.headers(),
        files={"file": ("现场.png", PNG, "image/png")},
    )
    assert uploaded.status_code in (200, 201), uploaded.text
    # The fire brigade's draft: its own rows, keyed by the lead's task and the USCC.
    fire_draft = {
        "check_date": "2023-06-15",
        "points": _answers(fire_entry.json()["points"], "疏散通道堆放杂物"),
        "categories": ["发现问题已责令改正"],
        "summary": "责令立即清理疏散通道",
        "hazards": [{"description": "疏散通道堆放杂物", "severity": "一般隐患", "rectify_by": "2023-06-30"}],
        "follow_ups": [{"action": "责令改正并跟踪"}],
    }
    fire_saved = xf_insp.post(base, fire_draft)
    assert fire_saved.status_code == 200, fire_saved.text
    fire_result = fire_saved.json()["id"]
    assert fire_result != lead_result
    # Someone not on the team cannot enter, and a department outside the plan does not even see the task.
    assert as_user("yjj-insp-whjc").post(base, lead_draft).status_code in (403, 404)
    assert market.get(base).status_code == 404
    assert market.get(f"/api/federation/tasks/{task_id}/records/{uscc}").status_code == 404
    unknown = yjj_rev.get(f"/api/federation/tasks/{task_id}/records/91130528MA0000000X")
    assert unknown.status_code == 404 and unknown.json()["error"]["field"] == "uscc"

    # Drafts are private: the partner cannot read the lead's draft and the lead cannot read the partner's.
    assert xf_insp.get(f"/api/results/{lead_result}").status_code == 404
    assert as_user("xf-admin").get(f"/api/results/{lead_result}").status_code == 404
    assert yjj_rev.get(f"/api/results/{fire_result}").status_code == 404
    record = yjj_rev.get(f"/api/federation/tasks/{task_id}/records/{uscc}")
    assert record.status_code == 200, record.text
    record = record.json()
    assert [p["status"] for p in record["parts"]] == ["草稿", "未提交"]
    assert "points" not in record["parts"][1]
    partner_view = xf_insp.get(f"/api/federation/tasks/{task_id}/records/{uscc}").json()
    assert [p["department_name"] for p in partner_view["parts"]] == ["宁晋县消防救援大队"]
    # …and not with raw SQL as the runtime role either.
    runtime = db_urls["runtime"]
    task_uuid = uuid.UUID(task_id)
    for table in (
        "inspection_results r",
        "result_points x JOIN inspection_results r ON r.id = x.result_id",
        "result_attachments x JOIN inspection_results r ON r.id = x.result_id",
    ):
        seen = fetch(
            runtime, f"SELECT DISTINCT r.tenant_id FROM {table} WHERE r.task_id = $1", task_uuid, tenant=XF
        )
        assert {row[0] for row in seen} <= {XF}
        assert not fetch(runtime, f"SELECT 1 FROM {table} WHERE r.task_id = $1", task_uuid, tenant=SCJG)
    assert [
        r[0]
        for r in fetch(
            runtime, "SELECT tenant_id FROM inspection_results WHERE task_id = $1", task_uuid, tenant=YJJ
        )
    ] == [YJJ]

    # Submitted parts become visible to the lead, with their findings.
    assert xf_insp.post(f"/api/results/{fire_result}/submit").status_code == 200
    record = yjj_rev.get(f"/api/federation/tasks/{task_id}/records/{uscc}").json()
    fire_part = record["parts"][1]
    assert fire_part["status"] == "待审核" and fire_part["hazards"][0]["description"] == "疏散通道堆放杂物"
    assert any(p["outcome"] == "不符合" for p in fire_part["points"])
    assert record["departments"] == ["宁晋县应急管理局", "宁晋县消防救援大队"]

    # Publication waits for every department's own review.
    early = yjj_rev.post(f"/api/federation/tasks/{task_id}/records/{uscc}/publish")
    assert early.status_code == 409 and early.json()["error"]["field"] == "parts"
    assert yjj_insp.post(f"/api/results/{lead_result}/submit").status_code == 200
    # The lead's reviewer cannot review the partner's part (it is not its row).
    assert yjj_rev.post(f"/api/results/{fire_result}/approve").status_code == 404
    approved = yjj_rev.post(f"/api/results/{lead_result}/approve")
    assert approved.status_code == 200 and approved.json()["status"] == "已通过"
    assert http.get("/api/public/results", params={"q": uscc}).json()["results"] == [] or all(
        r["task_id"] != task_id for r in http.get("/api/public/results", params={"q": uscc}).json()["results"]
    )
    assert xf_rev.post(f"/api/results/{fire_result}/approve").json()["status"] == "已通过"
    # Only the lead publishes the unified record.
    assert xf_rev.post(f"/api/federation/tasks/{task_id}/records/{uscc}/publish").status_code == 403
    published = yjj_rev.post(f"/api/federation/tasks/{task_id}/records/{uscc}/publish")
    assert published.status_code == 200, published.text
    assert published.json()["public_record"]["department_name"] == "宁晋县应急管理局、宁晋县消防救援大队"
    again = yjj_rev.post(f"/api/federation/tasks/{task_id}/records/{uscc}/publish")
    assert again.status_code == 409 and again.json()["error"]["code"] == "already_published"
    assert "已公示" in again.json()["error"]["message"] and "尚未审核" not in again.json()["error"]["message"]

    public = [
        r
        for r in http.get("/api/public/results", params={"q": uscc}).json()["results"]
        if r["task_id"] == task_id
    ]
    assert len(public) == 1
    detail = http.get(f"/api/public/results/{public[0]['id']}").json()
    assert [d["department_name"] for d in detail["departments"]] == ["宁晋县应急管理局", "宁晋县消防救援大队"]
    assert detail["departments"][1]["hazard_count"] == 1
    assert set(detail["categories"]) == {"违反其他部门相关规定", "发现问题已责令改正"}
    assert "对单位履行法定消防安全职责情况的监督检查" in detail["items"]
    page = http.get(f"/public/results/{public[0]['id']}")
    assert page.status_code == 200 and "record-departments" in page.text and "疏散通道" not in page.text
    assert "宁晋县消防救援大队" in page.text and "对单位履行法定消防安全职责情况的监督检查" in page.text
    assert xf_insp.get(f"/api/results/{fire_result}").json()["result"]["status"] == "已公示"
    assert yjj_insp.get(f"/api/results/{lead_result}").json()["result"]["status"] == "已公示"

    # ---- referral (抄告) round trip ----------------------------------------------------------------------------
    followup = yjj_rev.get(f"/api/results/{lead_result}").json()["follow_ups"][0]
    refer = {"result_id": lead_result, "followup_id": followup["id"], "department": "130528-scjg"}
    for body, field in [
        ({**refer, "department": "130528-yjj"}, "department"),
        ({**refer, "department": "999999-x"}, "department"),
        ({**refer, "followup_id": str(uuid.uuid4())}, "followup_id"),
    ]:
        bad = yjj_rev.post("/api/federation/referrals", body)
        assert 400 <= bad.status_code < 500 and bad.json()["error"]["field"] == field, bad.text
    sent = yjj_rev.post("/api/federation/referrals", refer)
    assert sent.status_code == 201, sent.text
    referral = sent.json()
    assert referral["status"] == "待受理" and referral["direction"] == "out"
    assert yjj_rev.post("/api/federation/referrals", refer).status_code == 409
    inbox = market.get("/api/federation/referrals", params={"direction": "in"}).json()
    mine = next(r for r in inbox if r["id"] == referral["id"])
    assert (
        "危化品仓库标签与登记信息不符" in mine["evidence"]
        and mine["from_department_name"] == "宁晋县应急管理局"
    )
    assert [a["filename"] for a in mine["attachments"]] == ["现场.png"]
    # The fire brigade (not a party to the referral) does not see it.
    assert as_user("xf-admin").get(f"/api/federation/referrals/{referral['id']}").status_code == 404
    # Only the receiving department handles it, forward only, 已办结 with a note.
    assert (
        yjj_rev.post(f"/api/federation/referrals/{referral['id']}/handle", {"status": "已受理"}).status_code
        == 403
    )
    bad = market.post(f"/api/federation/referrals/{referral['id']}/handle", {"status": "撤销"})
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "status"
    assert (
        market.post(f"/api/federation/referrals/{referral['id']}/handle", {"status": "已受理"}).status_code
        == 200
    )
    assert (
        market.post(f"/api/federation/referrals/{referral['id']}/handle", {"status": "已受理"}).status_code
        == 409
    )
    no_note = market.post(f"/api/federation/referrals/{referral['id']}/handle", {"status": "已办结"})
    assert no_note.status_code == 422 and no_note.json()["error"]["field"] == "note"
    done = market.post(
        f"/api/federation/referrals/{referral['id']}/handle",
        {"status": "已办结", "note": "已责令企业变更登记"},
    )
    assert done.status_code == 200
    back = yjj_rev.get(f"/api/federation/referrals/{referral['id']}").json()
    assert back["status"] == "已办结" and [h["status"] for h in back["history"]] == ["已受理", "已办结"]
    assert back["history"][-1]["note"] == "已责令企业变更登记"
    # A finding without 抄告/移送 cannot be referred.
    fire_followup = xf_rev.get(f"/api/results/{fire_result}").json()["follow_ups"][0]
    bad = xf_rev.post(
        "/api/federation/referrals",
        {"result_id": fire_result, "followup_id": fire_followup["id"], "department": "130528-scjg"},
    )
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "followup_id"


def test_partner_cannot_read_another_partners_draft(as_user: Any, db_urls: dict[str, str]) -> None:
    """Three departments; each one's draft is visible to itself only (raw SQL as the runtime role, and the API)."""
    lead = as_user("yjj-planner")
    joint = _joint_plan(as_user, ["130528-xfjy", "130528-scjg"])
    plan_id = joint["plan"]["id"]
    for user, code in (("xf-planner", "XF-001"), ("scjg-admin", "SJ-001")):
        assert (
            as_user(user).post(f"/api/federation/plans/{plan_id}/respond", {"action": "accept"}).status_code
            == 200
        )
        assert (
            as_user(user).post(f"/api/federation/plans/{plan_id}/items", {"item_codes": [code]}).status_code
            == 200
        )
    task = lead.post(
        f"/api/plans/{plan_id}/tasks",
        {**LIAN_TASK, "item_codes": ["YJ-002"], "scope": {"industries": ["工贸"]}},
    ).json()
    task_id = uuid.UUID(task["id"])
    common = fetch(
        db_urls["admin"],
        "SELECT o.uscc FROM registry_objects o WHERE o.tenant_id = $1 AND EXISTS"
        " (SELECT 1 FROM registry_objects x WHERE x.uscc = o.uscc AND x.tenant_id = $2) AND EXISTS"
        " (SELECT 1 FROM registry_objects y WHERE y.uscc = o.uscc AND y.tenant_id = $3) LIMIT 1",
        YJJ,
        XF,
        SCJG,
    )[0][0]
    runtime = db_urls["runtime"]
    ids = {}
    for tenant in (YJJ, XF, SCJG):
        ids[tenant] = uuid.uuid4()
        fetch(
            runtime,
            "INSERT INTO inspection_results (id, tenant_id, task_id, uscc, object_id, check_end, due_on,"
            " entered_by, entered_by_name, summary) SELECT $1, $2, $3, $4::varchar, o.id, '2023-07-31', '2023-08-28', '00000000-0000-4000-8000-0000000000ee',"
            " '测试', $5 FROM registry_objects o WHERE o.uscc = $4::varchar",
            ids[tenant],
            tenant,
            task_id,
            common,
            f"草稿 {tenant}",
            tenant=tenant,
        )
    for tenant in (YJJ, XF, SCJG):
        seen = fetch(
            runtime, "SELECT id, summary FROM inspection_results WHERE task_id = $1", task_id, tenant=tenant
        )
        assert [r["id"] for r in seen] == [ids[tenant]]
    assert as_user("xf-admin").get(f"/api/results/{ids[SCJG]}").status_code == 404
    assert as_user("scjg-admin").get(f"/api/results/{ids[XF]}").status_code == 404
    assert as_user("scjg-admin").get(f"/api/results/{ids[YJJ]}").status_code == 404
    assert as_user("yjj-reviewer").get(f"/api/results/{ids[SCJG]}").status_code == 404
    # A department that has not accepted cannot write a result row for a joint task (the trigger refuses it).
    declined = _joint_plan(as_user, ["130528-xfjy"])
    other_task = lead.post(f"/api/plans/{declined['plan']['id']}/tasks", LIAN_TASK).json()
    try:
        fetch(
            runtime,
            "INSERT INTO inspection_results (id, tenant_id, task_id, uscc, object_id, check_end, due_on,"
            " entered_by, entered_by_name) SELECT $1, $2, $3, $4::varchar, o.id, '2023-07-31', '2023-08-28', '00000000-0000-4000-8000-0000000000ee', '测试'"
            " FROM registry_objects o WHERE o.uscc = $4::varchar",
            uuid.uuid4(),
            XF,
            uuid.UUID(other_task["id"]),
            common,
            tenant=XF,
        )
    except asyncpg.ForeignKeyViolationError:
        pass
    else:
        raise AssertionError("a department that has not accepted wrote a result for the joint task")
