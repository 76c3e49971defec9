"""Plans, tasks and the verifiable draw through the API: the seed's plan 2023001 end to end."""

from __future__ import annotations

import datetime as dt
import math
import re
import threading
from collections import Counter
from typing import Any

import httpx

from services.draw.proof import load_proof
from services.draw.verify import verify_proof
from tests.planning.conftest import SEED_TASK_2023001


def _create_published_task(as_user: Any, task: dict[str, Any] | None = None) -> tuple[dict, dict]:
    planner = as_user("yjj-planner")
    plan = planner.post(
        "/api/plans",
        {
            "year": 2023,
            "kind": "内部联合",
            "initiating_section": "zfjdg",
            "joint_sections": ["whjgg", "whjcg"],
            "table_date": "2023-01-13",
        },
    )
    assert plan.status_code == 201, plan.text
    created = planner.post(f"/api/plans/{plan.json()['id']}/tasks", task or SEED_TASK_2023001)
    assert created.status_code == 201, created.text
    published = planner.post(f"/api/plans/{plan.json()['id']}/publish")
    assert published.status_code == 200, published.text
    return published.json(), created.json()


def test_seed_plan_2023001_runs_and_verifies(as_user: Any, http: httpx.Client) -> None:
    planner = as_user("yjj-planner")
    plan, task = _create_published_task(as_user)
    assert plan["number"].startswith("2023") and len(plan["number"]) == 7
    assert plan["name"] == f"2023年宁晋县应急管理局内部门联合抽查{plan['number'][-3:]}"
    assert plan["kind"] == "内部联合" and plan["initiating_section"]["name"] == "执法监督股"
    assert [s["name"] for s in plan["joint_sections"]] == ["危化监管股", "危化监察股"]
    assert re.fullmatch(r"\d{3}号", task["number"]) and task["period_label"] == "5月-6月"
    assert task["ratios"] == {"A": "0.05", "B": "0.05", "C": "0.05", "D": "0.05"}

    announced = planner.post(
        f"/api/tasks/{task['id']}/announce", {"entropy_source": "见证人现场报出的三组数字"}
    )
    assert announced.status_code == 201, announced.text
    a = announced.json()
    assert a["status"] == "已公告" and a["eligible_count"] > 0 and len(a["commitment"]) == 64
    # Before the draw the public sees the commitment and the list hash, not the secret or the result.
    public = http.get(f"/api/public/draws/{a['id']}").json()
    assert public["commitment"] == a["commitment"] and public["population_hash"] == a["population_hash"]
    assert http.get(f"/public/draws/{a['id']}/proof.json").status_code == 404

    missing = planner.post(f"/api/tasks/{task['id']}/draw", {"public_entropy": ""})
    assert missing.status_code == 422 and missing.json()["error"]["field"] == "public_entropy"
    drawn = planner.post(f"/api/tasks/{task['id']}/draw", {"public_entropy": "17,42,93"})
    assert drawn.status_code == 200, drawn.text
    d = drawn.json()
    assert d["status"] == "已抽取"

    proof_response = http.get(f"/public/draws/{a['id']}/proof.json")
    assert proof_response.status_code == 200
    proof = load_proof(proof_response.content)
    report = verify_proof(proof)
    assert report.ok, report.findings
    sizes = Counter(e.stratum for e in proof.eligible)
    for stratum, n in sizes.items():
        assert len(proof.selected[stratum]) == min(n, math.ceil(n * 0.05))
    assert d["selected_count"] == sum(len(v) for v in proof.selected.values())
    listed = planner.get(f"/api/draws/{d['id']}").json()["selected"]
    assert {s["uscc"] for s in listed} == {u for v in proof.selected.values() for u in v}
    assert proof.public_entropy == "17,42,93" and proof.task_number == f"{plan['number']}/{task['number']}"

    page = http.get(f"/public/draws/{a['id']}")
    assert page.status_code == 200 and listed[0]["name"] in page.text and listed[0]["uscc"] in page.text
    assert "各风险等级均为 5%" in page.text  # the proof's 0.05 for each class, shown as people write it
    again = planner.post(f"/api/tasks/{task['id']}/draw", {"public_entropy": "1"})
    assert again.status_code == 409
    assert planner.post(f"/api/tasks/{task['id']}/announce", {}).status_code == 409


def test_concurrent_draws_cannot_both_win(as_user: Any) -> None:
    planner = as_user("yjj-planner")
    _, task = _create_published_task(as_user)
    assert planner.post(f"/api/tasks/{task['id']}/announce", {}).status_code == 201
    results: list[int] = []

    def draw() -> None:
        results.append(planner.post(f"/api/tasks/{task['id']}/draw", {}).status_code)

    threads = [threading.Thread(target=draw) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [200, 409, 409, 409]


def test_void_needs_a_reason_and_stays_public(as_user: Any, http: httpx.Client) -> None:
    planner = as_user("yjj-planner")
    _, task = _create_published_task(as_user)
    draw = planner.post(f"/api/tasks/{task['id']}/announce", {}).json()
    planner.post(f"/api/tasks/{task['id']}/draw", {})
    short = planner.post(f"/api/tasks/{task['id']}/void", {"reason": "不要"})
    assert short.status_code == 422 and short.json()["error"]["field"] == "reason"
    voided = planner.post(
        f"/api/tasks/{task['id']}/void", {"reason": "抽取范围误选了工贸行业，经局务会研究作废"}
    )
    assert voided.status_code == 200 and voided.json()["status"] == "已作废"
    public = http.get(f"/api/public/draws/{draw['id']}").json()
    assert public["status"] == "已作废" and "局务会" in public["void_reason"]
    assert planner.post(f"/api/tasks/{task['id']}/draw", {}).status_code == 409
    assert planner.post(f"/api/tasks/{task['id']}/announce", {}).status_code == 409
    page = http.get(f"/public/draws/{draw['id']}")
    assert "本次抽取已于" in page.text and "局务会" in page.text


def test_bad_inputs_name_the_field_and_change_nothing(as_user: Any) -> None:
    planner = as_user("yjj-planner")
    before = len(planner.get("/api/plans").json())
    cases = [
        ({"year": 1999, "kind": "本部门", "initiating_section": "zfjdg"}, "year"),
        ({"year": 2023, "kind": "其他", "initiating_section": "zfjdg"}, "kind"),
        ({"year": 2023, "kind": "本部门", "initiating_section": "nosuch"}, "initiating_section"),
        ({"year": 2023, "kind": "内部联合", "initiating_section": "zfjdg"}, "joint_sections"),
        (
            {"year": 2023, "kind": "内部联合", "initiating_section": "zfjdg", "joint_sections": ["zfjdg"]},
            "joint_sections",
        ),
        ({"year": 2023, "kind": "部门联合", "initiating_section": "zfjdg"}, "kind"),
        ({"year": 2023, "kind": "本部门", "initiating_section": "zfjdg", "extra": 1}, "extra"),
        ({"kind": "本部门", "initiating_section": "zfjdg"}, "year"),
    ]
    for body, field in cases:
        response = planner.post("/api/plans", body)
        assert 400 <= response.status_code < 500, (body, response.text)
        assert response.json()["error"].get("field", "").startswith(field), (body, response.json())
    assert len(planner.get("/api/plans").json()) == before

    plan = planner.post("/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}).json()
    task_cases = [
        ({"ratio": "abc"}, "ratio"),
        ({"ratio": "5"}, "ratio"),
        ({"ratio": "0"}, "ratio"),
        ({"ratio": "120%"}, "ratio"),
        ({"class_ratios": {"A": "5%", "B": "5%"}}, "class_ratios"),
        ({"ratio": "5%", "item_codes": ["NOPE"]}, "item_codes[0]"),
        ({"ratio": "5%", "start_month": "2023-13"}, "start_month"),
        ({"ratio": "5%", "start_month": "2023-07", "end_month": "2023-05"}, "end_month"),
        ({"ratio": "5%", "start_month": "2024-05", "end_month": "2024-06"}, "start_month"),
        ({"ratio": "5%", "min_inspectors": 1}, "min_inspectors"),
        ({"ratio": "5%", "scope": {}}, "scope"),
        ({"ratio": "5%", "draw_type": "不定向"}, "scope"),
        ({"ratio": "5%", "scope": {"risk_classes": ["E"]}}, "scope.risk_classes"),
    ]
    base = {k: v for k, v in SEED_TASK_2023001.items() if k != "class_ratios"}
    for patch, field in task_cases:
        body = {**base, **patch}
        response = planner.post(f"/api/plans/{plan['id']}/tasks", body)
        assert 400 <= response.status_code < 500, (patch, response.text)
        assert response.json()["error"].get("field", "").startswith(field), (patch, response.json())
    assert planner.get(f"/api/plans/{plan['id']}").json()["tasks"] == []
    # Publishing an empty plan is refused; the plan stays a draft.
    assert planner.post(f"/api/plans/{plan['id']}/publish").status_code == 409


def test_other_departments_and_roles_cannot_touch_the_plan(as_user: Any) -> None:
    plan, task = _create_published_task(as_user)
    fire = as_user("xf-planner")
    assert fire.get(f"/api/plans/{plan['id']}").status_code == 404
    assert fire.get(f"/api/tasks/{task['id']}").status_code == 404
    assert fire.post(f"/api/tasks/{task['id']}/announce", {}).status_code == 404
    assert fire.post(f"/api/plans/{plan['id']}/tasks", SEED_TASK_2023001).status_code == 404
    assert all(p["id"] != plan["id"] for p in fire.get("/api/plans").json())
    # A multi-department person acting for the fire brigade does not see 应急管理局's plan either.
    assert as_user("multi-dept", "130528-xfjy").get(f"/api/plans/{plan['id']}").status_code == 404
    # Read-only roles of the same department read but do not write.
    inspector = as_user("yjj-insp-whjg")
    assert inspector.get(f"/api/plans/{plan['id']}").status_code == 200
    assert inspector.post(f"/api/tasks/{task['id']}/announce", {}).status_code == 403
    overseer = as_user("county-overseer")
    assert (
        overseer.post(
            "/api/plans", {"year": 2023, "kind": "本部门", "initiating_section": "zfjdg"}
        ).status_code
        == 403
    )


def test_cli_draw_proof_and_verify_draw(as_user: Any, app_server: Any, tmp_path: Any) -> None:
    import subprocess
    import sys

    planner = as_user("yjj-planner")
    _, task = _create_published_task(as_user)
    planner.post(f"/api/tasks/{task['id']}/announce", {})
    assert planner.post(f"/api/tasks/{task['id']}/draw", {}).status_code == 200
    proof_file = tmp_path / "proof.json"
    env = app_server.env
    fetched = subprocess.run(
        [sys.executable, "-m", "shared.cli", "draw-proof", task["id"], "-o", str(proof_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert fetched.returncode == 0, fetched.stderr
    ok = subprocess.run(
        [sys.executable, "-m", "shared.cli", "verify-draw", str(proof_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ok.returncode == 0 and ok.stdout.startswith("VALID"), ok.stdout + ok.stderr
    tampered = proof_file.read_text().replace('"public_entropy":""', '"public_entropy":"1"')
    proof_file.write_text(tampered)
    bad = subprocess.run(
        [sys.executable, "-m", "shared.cli", "verify-draw", str(proof_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert bad.returncode == 1 and "INVALID" in bad.stdout and "seed" in bad.stdout


def test_task_numbers_run_per_department_and_year(as_user: Any) -> None:
    """As in the seed: 2023001 has task 001号, 2023002 has 002号 — one sequence per department and year."""
    planner = as_user("yjj-planner")
    numbers = []
    for _ in range(2):
        plan = planner.post(
            "/api/plans", {"year": 2031, "kind": "本部门", "initiating_section": "zfjdg"}
        ).json()
        body = {**SEED_TASK_2023001, "start_month": "2031-05", "end_month": "2031-06"}
        numbers.append(
            (plan["number"], planner.post(f"/api/plans/{plan['id']}/tasks", body).json()["number"])
        )
    # Other tests may have numbered 2031 plans of this department before: the two are consecutive.
    (first_plan, first_task), (second_plan, second_task) = numbers
    assert first_plan.startswith("2031") and int(second_plan) == int(first_plan) + 1
    assert first_task.endswith("号") and int(second_task[:-1]) == int(first_task[:-1]) + 1


def test_back_entry_is_set_at_creation_and_shown(as_user: Any) -> None:
    """A plan of a past period is 补录: a past year is entered so (and refused as live); a live plan cannot hold a
    task whose whole window is over; a back-entry cannot be of a period not yet begun."""
    planner, fire = as_user("yjj-planner"), as_user("xf-planner")
    today = dt.date.today()
    base = {"kind": "本部门", "initiating_section": "zfjdg"}
    before = len(planner.get("/api/plans", params={"year": 2023}).json())
    refused = planner.post("/api/plans", {**base, "year": 2023, "back_entry": False})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "back_entry"
    assert "补录" in refused.json()["error"]["message"]
    future = planner.post("/api/plans", {**base, "year": today.year + 1, "back_entry": True})
    assert future.status_code == 422 and future.json()["error"]["field"] == "back_entry"
    bad = planner.post("/api/plans", {**base, "year": 2023, "back_entry": "yes"})
    assert 400 <= bad.status_code < 500
    assert len(planner.get("/api/plans", params={"year": 2023}).json()) == before  # nothing created

    past = planner.post("/api/plans", {**base, "year": 2023})
    assert past.status_code == 201, past.text
    assert past.json()["back_entry"] is True
    assert planner.get(f"/api/plans/{past.json()['id']}").json()["back_entry"] is True
    assert any(p["id"] == past.json()["id"] and p["back_entry"] for p in planner.get("/api/plans").json())
    task = planner.post(f"/api/plans/{past.json()['id']}/tasks", SEED_TASK_2023001)
    assert task.status_code == 201, task.text
    # Another department does not see it at all.
    assert fire.get(f"/api/plans/{past.json()['id']}").status_code == 404

    # The current year: live unless asked; a back-entry of this year holds tasks that have begun only.
    live = planner.post("/api/plans", {**base, "year": today.year})
    assert live.status_code == 201 and live.json()["back_entry"] is False
    late = planner.post("/api/plans", {**base, "year": today.year, "back_entry": True})
    assert late.status_code == 201 and late.json()["back_entry"] is True
    this_month = f"{today.year}-{today.month:02d}"
    ahead = (today.replace(day=28) + dt.timedelta(days=5)).strftime("%Y-%m")
    not_begun = planner.post(
        f"/api/plans/{late.json()['id']}/tasks",
        {**SEED_TASK_2023001, "start_month": ahead, "end_month": ahead},
    )
    assert not_begun.status_code == 422 and not_begun.json()["error"]["field"] == "start_month"
    begun = planner.post(
        f"/api/plans/{late.json()['id']}/tasks",
        {**SEED_TASK_2023001, "start_month": this_month, "end_month": this_month},
    )
    assert begun.status_code == 201, begun.text

    # A joint plan (部门联合) of a past year is 补录 as well, and refused as live.
    joint = planner.post("/api/federation/plans", {"year": 2023, "partners": ["130528-xfjy"]})
    assert joint.status_code == 201, joint.text
    assert joint.json()["plan"]["back_entry"] is True
    live_joint = planner.post(
        "/api/federation/plans", {"year": 2023, "partners": ["130528-xfjy"], "back_entry": False}
    )
    assert live_joint.status_code == 422 and live_joint.json()["error"]["field"] == "back_entry"
