"""Codes per visit, the public scan with "why us" from the proof, evaluations once and only for the overseer, the
enterprise's self-service, and the department's refusals across tenants."""

from __future__ import annotations

import hashlib
from typing import Any

import asyncpg
import httpx

from services.draw.proof import load_proof
from services.draw.verify import standard_checks, verify_proof
from services.enterprise import codes
from services.identity.provisioning import department_id
from shared.db import asyncpg_dsn
from shared.settings import Settings

YJJ = department_id("130528-yjj")


def _secret(settings: Settings, code: str) -> str:
    return codes.secret_for(settings.app.secret_key, code)


def test_every_drawn_enterprise_gets_one_stable_code(task_with_codes: dict[str, Any], as_user: Any) -> None:
    visits = task_with_codes["visits"]
    teams = task_with_codes["teams"]["teams"]
    assert sorted(v["uscc"] for v in visits) == sorted(t["uscc"] for t in teams)
    assert all(codes.looks_like_code(v["code"]) and v["kind"] == "随机抽查" for v in visits)
    assert len({v["code"] for v in visits}) == len(visits)
    again = as_user("yjj-planner").get(f"/api/tasks/{task_with_codes['id']}/visits").json()
    assert {v["uscc"]: v["code"] for v in again} == {v["uscc"]: v["code"] for v in visits}
    # The API never hands out a secret part.
    assert "secret" not in str(again).lower()


def test_scan_shows_who_and_why_and_never_the_secret(
    task_with_codes: dict[str, Any], http: httpx.Client, settings: Settings
) -> None:
    visit = task_with_codes["visits"][0]
    secret = _secret(settings, visit["code"])
    scanned = http.get(f"/api/public/visits/{codes.grouped(visit['code']).lower()}")
    assert scanned.status_code == 200, scanned.text
    body = scanned.json()
    assert body["status"] == "有效" and body["uscc"] == visit["uscc"]
    assert body["card"]["departments"] == ["宁晋县应急管理局"]
    assert body["card"]["items"] and body["card"]["task_name"] == task_with_codes["name"]
    team = next(t for t in task_with_codes["teams"]["teams"] if t["uscc"] == visit["uscc"])
    assert [i["name"] for i in body["inspectors"]] == [m["name"] for m in team["members"]]
    for inspector, member in zip(body["inspectors"], team["members"], strict=True):
        assert inspector["licence"] != member["licence_no"] and "*" in inspector["licence"]
        assert inspector["licence_valid"] is True
    # "Why us" recomputes from the published proof with the independent verifier.
    why = body["why_us"]
    proof = load_proof(http.get(why["proof_url"]).content)
    assert verify_proof(proof, standard_checks()).ok
    seed = bytes.fromhex(proof.seed)
    stratum = [e.uscc for e in proof.eligible if e.stratum == why["stratum"]]
    ranked = sorted(stratum, key=lambda u: (hashlib.sha256(seed + u.encode()).digest(), u))
    assert ranked.index(visit["uscc"]) + 1 == why["rank"]
    assert hashlib.sha256(seed + visit["uscc"].encode()).hexdigest() == why["score"]
    assert why["stratum_size"] == len(stratum)
    assert why["stratum_drawn"] == len(proof.selected[why["stratum"]]) >= why["rank"]
    assert why["drawn_total"] == task_with_codes["draw"]["selected_count"]
    assert why["eligible_total"] == len(proof.eligible)
    # Secret parts never appear on public pages or answers.
    page = http.get(f"/v/{visit['code']}")
    assert page.status_code == 200 and visit["uscc"] in page.text
    for text in (scanned.text, page.text, http.get(f"/v/{visit['code']}/evaluate").text):
        assert secret not in text and codes.grouped(secret, 4) not in text


def test_unknown_and_cancelled_codes_say_so(
    task_with_codes: dict[str, Any], http: httpx.Client, as_user: Any
) -> None:
    unknown = http.get("/api/public/visits/ZZZZZZZZZZ")
    assert unknown.status_code == 404 and "检查码不存在" in unknown.json()["error"]["message"]
    assert http.get("/api/public/visits/not-a-code").status_code == 404
    page = http.get("/v/ZZZZZZZZZZ")
    assert page.status_code == 404 and "检查码不存在" in page.text
    visit = task_with_codes["visits"][-1]
    planner = as_user("yjj-planner")
    short = planner.post(f"/api/visits/{visit['id']}/cancel", {"reason": "改"})
    assert short.status_code == 422 and short.json()["error"]["field"] == "reason"
    assert (
        as_user("xf-planner")
        .post(f"/api/visits/{visit['id']}/cancel", {"reason": "越权取消检查"})
        .status_code
        == 404
    )
    assert (
        planner.post(f"/api/visits/{visit['id']}/cancel", {"reason": "企业已注销，取消检查"}).status_code
        == 200
    )
    scanned = http.get(f"/api/public/visits/{visit['code']}").json()
    assert scanned["status"] == "已取消"
    assert "本次检查已取消" in http.get(f"/v/{visit['code']}").text


def test_evaluation_once_with_the_secret_and_only_the_overseer_reads_it(
    task_with_codes: dict[str, Any], http: httpx.Client, as_user: Any, settings: Settings
) -> None:
    visit = task_with_codes["visits"][0]
    rating = {"conduct": 5, "credentials_shown": True, "burden": 4, "improper": False, "comment": "检查规范"}
    url = f"/api/public/visits/{visit['code']}/evaluation"
    wrong = http.post(url, json={**rating, "secret": "ABCD-EFGH-JKMN"})
    assert wrong.status_code == 403 and wrong.json()["error"]["field"] == "secret"
    assert http.post(url, json={**rating, "secret": "短"}).status_code == 422
    assert (
        http.post(url, json={**rating, "conduct": 9, "secret": _secret(settings, visit["code"])}).status_code
        == 422
    )
    secret = codes.grouped(_secret(settings, visit["code"]), 4).lower()
    done = http.post(url, json={**rating, "secret": secret})
    assert done.status_code == 201, done.text
    again = http.post(url, json={**rating, "secret": secret})
    assert again.status_code == 409 and "只能评价一次" in again.json()["error"]["message"]
    assert http.get(f"/api/public/visits/{visit['code']}").json()["evaluated"] is True

    # Inspectors and planners cannot read evaluations; the overseer sees them per department and team.
    for username in ("yjj-insp-whjg", "yjj-planner"):
        assert as_user(username).get("/api/oversight/evaluations").status_code == 403
    seen = as_user("county-overseer").get("/api/oversight/evaluations")
    assert seen.status_code == 200, seen.text
    team = next(t for t in task_with_codes["teams"]["teams"] if t["uscc"] == visit["uscc"])
    names = "、".join(m["name"] for m in team["members"])
    groups = [g for g in seen.json()["by_team"] if g["team"] == names]
    assert groups and groups[0]["department"] == "宁晋县应急管理局" and "检查规范" in groups[0]["comments"]
    assert visit["uscc"] not in seen.text and task_with_codes["visits"][0]["code"] not in seen.text


async def test_departments_read_no_evaluation_at_the_database(
    runtime: object, db_urls: dict[str, str]
) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(db_urls["runtime"]))
    try:
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.tenant_id', $1, true)", str(YJJ))
            assert await conn.fetchval("SELECT count(*) FROM visit_evaluations") == 0
            # A department's scope cannot write one either (only the anonymous scope may).
            try:
                async with conn.transaction():
                    await conn.execute(
                        "INSERT INTO visit_evaluations (id, code, region_code, department_id, team, conduct,"
                        " credentials_shown, burden, improper) SELECT gen_random_uuid(), code, region_code,"
                        " department_id, 'x', 1, false, 1, true FROM public_visits LIMIT 1"
                    )
                raise AssertionError("a department wrote an evaluation")
            except asyncpg.InsufficientPrivilegeError:
                pass
        async with conn.transaction():
            await conn.execute("SELECT set_config('app.overseer_region', '130528', true)")
            assert await conn.fetchval("SELECT count(*) FROM visit_evaluations") >= 0
    finally:
        await conn.close()


def test_self_service_needs_a_matching_code(task_with_codes: dict[str, Any], http: httpx.Client) -> None:
    visit = task_with_codes["visits"][0]
    other = task_with_codes["visits"][1]
    found = http.post("/api/public/enterprise", json={"uscc": visit["uscc"], "code": visit["code"]})
    assert found.status_code == 200, found.text
    body = found.json()
    assert body["uscc"] == visit["uscc"]
    assert visit["code"] in [p["code"] for p in body["pending"]]
    mismatch = http.post("/api/public/enterprise", json={"uscc": visit["uscc"], "code": other["code"]})
    assert mismatch.status_code == 403 and mismatch.json()["error"]["field"] == "code"


def test_other_visits_need_a_reason_and_thresholds_fire_once_per_crossing(
    as_user: Any, http: httpx.Client
) -> None:
    import datetime as dt
    import random

    from tests.registry.conftest import uscc

    enterprise = uscc(random.randrange(10**6, 10**7))
    day = dt.date(2031, 3, 12)  # a Wednesday no other test uses
    xf, yjj = as_user("xf-planner"), as_user("yjj-planner")
    visit = {
        "uscc": enterprise,
        "enterprise_name": "频次测试有限公司",
        "kind": "投诉举报",
        "visit_date": day.isoformat(),
    }
    missing = xf.post("/api/visits", {**visit, "reason": ""})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "reason"
    assert (
        xf.post("/api/visits", {**visit, "kind": "随机抽查", "reason": "群众投诉油烟扰民"}).status_code == 422
    )
    assert (
        xf.post("/api/visits", {**visit, "uscc": "91130528MA0000000X", "reason": "群众投诉"}).status_code
        == 422
    )

    first = xf.post("/api/visits", {**visit, "reason": "群众投诉消防通道堵塞"})
    assert first.status_code == 201, first.text
    assert first.json()["warnings"] == [] and first.json()["visit"]["kind"] == "投诉举报"
    assert yjj.get(f"/api/visits/burden?uscc={enterprise}&date={day.isoformat()}").json()[0]["period"] == "日"
    second = yjj.post("/api/visits", {**visit, "kind": "转办交办", "reason": "县政府转办安全隐患线索"})
    warnings = {w["period"]: w for w in second.json()["warnings"]}
    assert warnings["日"]["new_alert"] is True and warnings["日"]["visits"] == 2 and "周" not in warnings
    third = yjj.post("/api/visits", {**visit, "kind": "其他", "reason": "复查整改落实情况"})
    warnings = {w["period"]: w for w in third.json()["warnings"]}
    assert warnings["日"]["new_alert"] is False  # the day's crossing was already raised
    assert warnings["周"]["new_alert"] is True and warnings["周"]["visits"] == 3
    alerts = as_user("county-overseer").get("/api/oversight/alerts?year=2031").json()
    mine = [a for a in alerts if a["uscc"] == enterprise]
    assert sorted(a["period"] for a in mine) == ["周", "日"]
    ledger = as_user("county-overseer").get("/api/oversight/burden?year=2031").json()
    row = next(r for r in ledger["most_visited"] if r["uscc"] == enterprise)
    assert row["visits"] == 3 and set(row["departments"]) == {"宁晋县应急管理局", "宁晋县消防救援大队"}
    # The overseer proposes one joint visit: both departments are told.
    proposal = as_user("county-overseer").post("/api/oversight/joint-proposals", {"uscc": enterprise})
    assert proposal.status_code == 200, proposal.text
    assert set(proposal.json()["notified"]) == {"宁晋县应急管理局", "宁晋县消防救援大队"}
    # Cross-tenant: a department cannot see, date or cancel another department's visit.
    theirs = first.json()["visit"]["id"]
    assert yjj.post(f"/api/visits/{theirs}/date", {"visit_date": day.isoformat()}).status_code == 404
    assert theirs not in str(yjj.get("/api/visits").json())
    assert xf.get(f"/api/tasks/{third.json()['visit']['id']}/visits").status_code == 404


def test_findings_by_class_and_open_data(as_user: Any, http: httpx.Client) -> None:
    assert as_user("yjj-insp-whjg").get("/api/oversight/findings-by-class?year=2023").status_code == 403
    findings = as_user("county-overseer").get("/api/oversight/findings-by-class?year=2023")
    assert findings.status_code == 200, findings.text
    for row in findings.json()["rows"]:
        assert 0 <= row["with_problems"] <= row["checks"] and row["risk_class"] in "ABCD-"
    csv = http.get("/public/open-data/130528/2023/results.csv")
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.content.decode("utf-8-sig").splitlines()[0].startswith("record_id,region_code,department_code")
    data = http.get("/public/open-data/130528/2023/results.json").json()
    assert data["schema"] == "spotcheck-open-results-v1" and data["licence"]
    schema = http.get("/public/open-data/schema.json").json()
    assert list(schema["properties"])[:2] == ["record_id", "region_code"]
    for record in data["records"]:
        assert set(record) == set(schema["properties"])
    assert http.get("/public/open-data/1305x8/2023/results.csv").status_code == 404
