"""Fewer visits: the county overseer sees overlapping checks across departments, two departments merge them into a
joint visit, and the county's per-enterprise annual cap (operator CLI) is respected by later draws of any
department. Plan year 2041, used by no other test."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from services.federation.visits import set_county_cap
from services.identity.provisioning import department_id
from shared import cli
from tests.federation.test_joint_results import fetch
from tests.support.services import run

YEAR = 2041
XF = department_id("130528-xfjy")
YJJ = department_id("130528-yjj")


def _drawn_task(planner: Any, section: str, body: dict[str, Any]) -> dict[str, Any]:
    plan = planner.post("/api/plans", {"year": YEAR, "kind": "本部门", "initiating_section": section}).json()
    created = planner.post(f"/api/plans/{plan['id']}/tasks", body)
    assert created.status_code == 201, created.text
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 200
    announced = planner.post(f"/api/tasks/{created.json()['id']}/announce", {})
    assert announced.status_code == 201, announced.text
    drawn = planner.post(f"/api/tasks/{created.json()['id']}/draw", {})
    assert drawn.status_code == 200, drawn.text
    return {"task": created.json(), "draw": drawn.json(), "announced": announced.json()}


def _selected(db_urls: dict[str, str], draw_id: str) -> set[str]:
    return {
        r[0]
        for r in fetch(
            db_urls["admin"], "SELECT uscc FROM draw_selected WHERE draw_id = $1", uuid.UUID(draw_id)
        )
    }


def _eligible(db_urls: dict[str, str], draw_id: str) -> set[str]:
    data = fetch(db_urls["admin"], "SELECT eligible_list FROM draws WHERE id = $1", uuid.UUID(draw_id))[0][0]
    return {line.split(b"\t")[0].decode() for line in bytes(data).splitlines() if line}


YJJ_TASK = {
    "name": "危化企业安全生产检查",
    "draw_type": "定向",
    "ratio": "50%",
    "item_codes": ["YJ-001"],
    "scope": {"industries": ["危化"]},
    "start_month": f"{YEAR}-06",
    "end_month": f"{YEAR}-07",
    "min_inspectors": 2,
}
XF_TASK = {
    "name": "消防安全检查",
    "draw_type": "不定向",
    "ratio": "100%",
    "item_codes": ["XF-001"],
    "start_month": f"{YEAR}-05",
    "end_month": f"{YEAR}-06",
    "min_inspectors": 2,
}


def test_overlaps_joint_visit_and_county_cap(as_user: Any, db_urls: dict[str, str]) -> None:
    yjj, xf = as_user("yjj-planner"), as_user("xf-planner")
    fire = _drawn_task(xf, "fhjdk", XF_TASK)
    first = _drawn_task(yjj, "zfjdg", YJJ_TASK)
    both = _selected(db_urls, fire["draw"]["id"]) & _selected(db_urls, first["draw"]["id"])
    assert both, "the demo registries overlap: some enterprises are drawn by both departments"

    # The overseer sees them (month windows 05–06 and 06–07 overlap); departments may not call this.
    overseer = as_user("county-overseer")
    listed = overseer.get("/api/federation/overlaps", params={"year": YEAR})
    assert listed.status_code == 200, listed.text
    pairs = {o["uscc"]: o for o in listed.json()}
    assert both <= set(pairs)
    uscc = sorted(both)[0]
    assert {c["department_code"] for c in pairs[uscc]["checks"]} == {"130528-yjj", "130528-xfjy"}
    assert not pairs[uscc]["merged"]
    assert yjj.get("/api/federation/overlaps", params={"year": YEAR}).status_code == 403
    assert overseer.get("/api/federation/overlaps", params={"year": 1999}).json()["error"]["field"] == "year"

    # The two departments merge the checks into one visit (only inside both windows: June).
    visit = {
        "task_id": first["task"]["id"],
        "partner_department": "130528-xfjy",
        "partner_task_id": fire["task"]["id"],
        "uscc": uscc,
        "visit_date": f"{YEAR}-06-12",
    }
    for body, field in [
        ({**visit, "visit_date": f"{YEAR}-05-12"}, "visit_date"),
        ({**visit, "partner_department": "999999-x"}, "partner_department"),
        ({**visit, "partner_department": "130528-yjj"}, "partner_department"),
        ({**visit, "partner_task_id": str(uuid.uuid4())}, "partner_task_id"),
    ]:
        bad = yjj.post("/api/federation/visits", body)
        assert 400 <= bad.status_code < 500 and bad.json()["error"]["field"] == field, bad.text
    proposed = yjj.post("/api/federation/visits", visit)
    assert proposed.status_code == 201, proposed.text
    assert proposed.json()["status"] == "待确认"
    assert yjj.post("/api/federation/visits", visit).status_code == 409
    assert yjj.post(f"/api/federation/visits/{proposed.json()['id']}/confirm").status_code == 409
    confirmed = xf.post(f"/api/federation/visits/{proposed.json()['id']}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "已确认"
    for who, task in ((yjj, first), (xf, fire)):
        shown = who.get(f"/api/federation/tasks/{task['task']['id']}/visits").json()
        assert [(v["uscc"], v["visit_date"], v["status"]) for v in shown] == [
            (uscc, f"{YEAR}-06-12", "已确认")
        ]
    assert as_user("scjg-admin").get(f"/api/federation/tasks/{fire['task']['id']}/visits").json() == []
    assert {o["uscc"]: o for o in overseer.get("/api/federation/overlaps", params={"year": YEAR}).json()}[
        uscc
    ]["merged"]

    # The county cap: the operator command validates its input, then a cap of 1 check per enterprise and year.
    with pytest.raises(SystemExit):
        cli.main(["county-cap", "--region", "130528"])
    assert cli.main(["county-cap", "--region", "130528", "--cap", "0"]) == 2
    run(set_county_cap, db_urls["admin"], "130528", 1)
    try:
        # The function is narrow: counts per USCC of the caller's county only, nothing without a department.
        counts = fetch(db_urls["runtime"], "SELECT * FROM county_draw_counts($1)", YEAR, tenant=YJJ)
        assert {r["uscc"] for r in counts} >= both and [c for c in counts[0].keys()] == ["uscc", "draws"]
        assert fetch(db_urls["runtime"], "SELECT * FROM county_draw_counts($1)", YEAR) == []
        # …and it leaves the caller's scope as it was.
        after = fetch(
            db_urls["runtime"],
            "SELECT count(*) FROM county_draw_counts($1) c,"
            " LATERAL (SELECT current_setting('app.overseer_region', true) AS r) s WHERE s.r <> ''",
            YEAR,
            tenant=YJJ,
        )
        assert after[0][0] == 0
        second = _drawn_task(yjj, "zfjdg", {**YJJ_TASK, "ratio": "100%"})
        eligible = _eligible(db_urls, second["draw"]["id"])
        drawn_before = _selected(db_urls, fire["draw"]["id"]) | _selected(db_urls, first["draw"]["id"])
        assert eligible and not (eligible & drawn_before)
        in_scope = {
            r[0]
            for r in fetch(
                db_urls["admin"],
                "SELECT uscc FROM registry_objects WHERE tenant_id = $1"
                " AND industry = '危化' AND active AND status = '在营'",
                YJJ,
            )
        }
        assert eligible == in_scope - drawn_before
    finally:
        run(set_county_cap, db_urls["admin"], "130528", None)
