"""The registry API over real HTTP with real tokens: CRUD, validation errors, roles, tenant isolation, import jobs."""

from __future__ import annotations

import io
import uuid
from typing import Any

import asyncpg
import httpx
import pytest
from openpyxl import load_workbook

from services.identity.provisioning import department_id
from shared.db import asyncpg_dsn
from shared.runtime import Runtime
from shared.worker import load_job_modules
from tests.registry.conftest import VALID_UNTIL_YEAR, csv_bytes, object_row, uscc
from tests.shared.test_jobs import _drain
from tests.support.stack import AppServer

XF = "130528-xfjy"
SCJG = "130528-scjg"


def _error(response: httpx.Response, status: int, field: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] and error["message"]
    assert error.get("field") == field, error
    return error


async def _xf_ids(db_urls: dict[str, str]) -> dict[str, uuid.UUID]:
    conn = await asyncpg.connect(asyncpg_dsn(db_urls["admin"]))
    try:
        xf = department_id(XF)
        return {
            "objects": await conn.fetchval(
                "SELECT id FROM registry_objects WHERE tenant_id = $1 LIMIT 1", xf
            ),
            "inspectors": await conn.fetchval("SELECT id FROM inspectors WHERE tenant_id = $1 LIMIT 1", xf),
            "items": await conn.fetchval("SELECT id FROM inspection_items WHERE tenant_id = $1 LIMIT 1", xf),
            "tags": await conn.fetchval("SELECT id FROM tags WHERE tenant_id = $1 LIMIT 1", xf),
        }
    finally:
        await conn.close()


def test_object_lifecycle_and_validation(api: httpx.Client, auth: Any) -> None:
    admin = auth("scjg-admin")
    code = uscc(880001)
    body = {
        "uscc": code,
        "name": "接口测试有限公司",
        "industry": "工贸",
        "tags": ["一般单位"],
        "risk_class": "C",
    }
    created = api.post("/api/registry/objects", json=body, headers=admin)
    assert created.status_code == 201, created.text
    obj = created.json()
    assert obj["uscc"] == code and obj["department_code"] == SCJG and obj["status"] == "在营"

    _error(api.post("/api/registry/objects", json=body, headers=admin), 409, "uscc")
    bad_check = {**body, "uscc": code[:-1] + ("0" if code[-1] != "0" else "1")}
    assert (
        "校验位错误"
        in _error(api.post("/api/registry/objects", json=bad_check, headers=admin), 422, "uscc")["message"]
    )
    _error(
        api.post(
            "/api/registry/objects", json={**body, "uscc": uscc(880002), "tags": ["无此标签"]}, headers=admin
        ),
        422,
        "tags",
    )
    _error(
        api.post(
            "/api/registry/objects", json={**body, "uscc": uscc(880002), "industry": "餐饮"}, headers=admin
        ),
        422,
        "industry",
    )
    _error(
        api.post(
            "/api/registry/objects", json={**body, "uscc": uscc(880002), "risk_class": "Z"}, headers=admin
        ),
        422,
        "risk_class",
    )
    _error(
        api.post(
            "/api/registry/objects",
            json={**body, "uscc": uscc(880002), "licence_expiry": "明天"},
            headers=admin,
        ),
        422,
        "licence_expiry",
    )
    _error(api.post("/api/registry/objects", json={**body, "colour": "red"}, headers=admin), 422, "colour")
    _error(
        api.post("/api/registry/objects", json={k: v for k, v in body.items() if k != "name"}, headers=admin),
        422,
        "name",
    )

    patched = api.patch(
        f"/api/registry/objects/{obj['id']}", json={"status": "停业", "major_hazard_level": 2}, headers=admin
    )
    assert (
        patched.status_code == 200
        and patched.json()["status"] == "停业"
        and patched.json()["major_hazard_level"] == 2
    )
    _error(
        api.patch(f"/api/registry/objects/{obj['id']}", json={"status": "倒闭"}, headers=admin), 422, "status"
    )

    found = api.get("/api/registry/objects", params={"q": "接口测试", "status": "停业"}, headers=admin).json()
    assert [o["uscc"] for o in found["items"]] == [code] and found["total"] == 1
    by_tag = api.get(
        "/api/registry/objects", params={"uscc": code.lower(), "tag": "一般单位"}, headers=admin
    ).json()
    assert by_tag["total"] == 1

    off = api.post(f"/api/registry/objects/{obj['id']}/deactivate", headers=admin)
    assert off.status_code == 200 and off.json()["active"] is False
    assert api.get("/api/registry/objects", params={"uscc": code}, headers=admin).json()["total"] == 0
    assert (
        api.get("/api/registry/objects", params={"uscc": code, "active": "all"}, headers=admin).json()[
            "total"
        ]
        == 1
    )
    assert api.post(f"/api/registry/objects/{obj['id']}/activate", headers=admin).json()["active"] is True
    _error(api.get("/api/registry/objects", params={"page_size": 10_000}, headers=admin), 422, "page_size")


def test_inspector_conflicts_and_licence(api: httpx.Client, auth: Any) -> None:
    admin = auth("scjg-admin")
    sections = api.get("/api/sections", headers=admin).json()
    body = {
        "name": "接口测试员",
        "licence_no": f"API{uuid.uuid4().hex[:8]}",
        "licence_expiry": f"{VALID_UNTIL_YEAR}-01-01",
        "section_id": sections[0]["id"],
        "specialties": ["市场监管"],
        "is_team_leader": True,
    }
    created = api.post("/api/registry/inspectors", json=body, headers=admin)
    assert created.status_code == 201, created.text
    inspector = created.json()
    assert inspector["licence_valid"] and inspector["section_name"] == sections[0]["name"]
    _error(api.post("/api/registry/inspectors", json=body, headers=admin), 409, "licence_no")
    _error(
        api.post(
            "/api/registry/inspectors",
            json={**body, "licence_no": "X1", "licence_expiry": "2020-01-01"},
            headers=admin,
        ),
        422,
        "licence_expiry",
    )
    _error(
        api.post(
            "/api/registry/inspectors",
            json={**body, "licence_no": "X2", "section_id": str(uuid.uuid4())},
            headers=admin,
        ),
        422,
        "section_id",
    )
    declared = api.post(
        f"/api/registry/inspectors/{inspector['id']}/conflicts",
        json={"uscc": uscc(880001), "reason": "配偶任职"},
        headers=admin,
    )
    assert declared.status_code == 201 and [c["uscc"] for c in declared.json()["conflicts"]] == [uscc(880001)]
    _error(
        api.post(
            f"/api/registry/inspectors/{inspector['id']}/conflicts",
            json={"uscc": "123", "reason": "x"},
            headers=admin,
        ),
        422,
        "uscc",
    )
    withdrawn = api.delete(
        f"/api/registry/inspectors/{inspector['id']}/conflicts/{uscc(880001)}", headers=admin
    )
    assert withdrawn.status_code == 200 and withdrawn.json()["conflicts"] == []
    expired = api.get("/api/registry/inspectors", params={"licence": "expired"}, headers=admin).json()
    assert all(not i["licence_valid"] for i in expired["items"])


def test_items_and_tags(api: httpx.Client, auth: Any) -> None:
    admin = auth("scjg-admin")
    tag_name = f"测试{uuid.uuid4().hex[:4]}"
    tag = api.post("/api/registry/tags", json={"category": "专业特长", "name": tag_name}, headers=admin)
    assert tag.status_code == 201, tag.text
    _error(
        api.post("/api/registry/tags", json={"category": "专业特长", "name": tag_name}, headers=admin),
        409,
        "name",
    )
    _error(
        api.post("/api/registry/tags", json={"category": "颜色", "name": "红"}, headers=admin),
        422,
        "category",
    )
    _error(
        api.post("/api/registry/tags", json={"category": "资质", "name": "甲；乙"}, headers=admin),
        422,
        "name",
    )

    item = api.post(
        "/api/registry/items",
        json={
            "code": f"SJ-{uuid.uuid4().hex[:4]}",
            "name": "测试事项",
            "category": "一般",
            "check_points": ["甲", "乙"],
            "check_methods": ["书面检查"],
            "specialties": [tag_name],
        },
        headers=admin,
    )
    assert item.status_code == 201, item.text
    assert item.json()["check_points"] == ["甲", "乙"]
    _error(
        api.post("/api/registry/items", json={"code": "Z", "name": "z", "category": "特别"}, headers=admin),
        422,
        "category",
    )
    _error(
        api.post(
            "/api/registry/items",
            json={"code": "Z", "name": "z", "category": "一般", "check_methods": ["飞检"]},
            headers=admin,
        ),
        422,
        "check_methods",
    )

    renamed = api.patch(
        f"/api/registry/tags/{tag.json()['id']}", json={"name": tag_name + "改"}, headers=admin
    )
    assert renamed.status_code == 200
    assert api.get(f"/api/registry/items/{item.json()['id']}", headers=admin).json()["specialties"] == [
        tag_name + "改"
    ]
    assert (
        api.post(f"/api/registry/tags/{tag.json()['id']}/deactivate", headers=admin).json()["active"] is False
    )
    _error(
        api.patch(
            f"/api/registry/items/{item.json()['id']}", json={"specialties": [tag_name + "改"]}, headers=admin
        ),
        422,
        "specialties",
    )


def test_roles(api: httpx.Client, auth: Any) -> None:
    for user in ("yjj-planner", "yjj-reviewer", "yjj-insp-whjg"):
        listing = api.get("/api/registry/objects", headers=auth(user))
        assert listing.status_code == 200 and {o["department_code"] for o in listing.json()["items"]} == {
            "130528-yjj"
        }
        _error(
            api.post(
                "/api/registry/objects",
                json={"uscc": uscc(1), "name": "x", "industry": "危化"},
                headers=auth(user),
            ),
            403,
            None,
        )
    overseer = auth("county-overseer")
    county = api.get(
        "/api/registry/objects",
        params={
            "uscc": api.get("/api/registry/objects", headers=auth("xf-admin")).json()["items"][0]["uscc"]
        },
        headers=overseer,
    ).json()
    # The same enterprise in several departments: one USCC, each department's own tags and risk class.
    assert len({o["department_code"] for o in county["items"]}) >= 2
    assert len({tuple(o["tags"]) for o in county["items"]}) >= 2
    _error(
        api.post("/api/registry/tags", json={"category": "资质", "name": "x"}, headers=overseer), 403, None
    )
    multi = auth("multi-dept")
    _error(api.get("/api/registry/objects", headers=multi), 403, "X-Department")
    assert (
        api.get("/api/registry/objects", headers=auth("multi-dept", XF)).json()["items"][0]["department_code"]
        == XF
    )
    _error(api.get("/api/registry/objects"), 401, None)


async def test_cross_tenant_access_is_not_found(
    app_server: AppServer, auth: Any, db_urls: dict[str, str]
) -> None:
    ids = await _xf_ids(db_urls)
    async with httpx.AsyncClient(base_url=app_server.url, timeout=60) as api:
        await _cross_tenant(api, auth, ids)
    # Nothing changed on the other side.
    conn = await asyncpg.connect(asyncpg_dsn(db_urls["admin"]))
    try:
        assert await conn.fetchval("SELECT count(*) FROM registry_objects WHERE name = '被篡改'") == 0
        assert await conn.fetchval(
            "SELECT bool_and(active) FROM registry_objects WHERE id = $1", ids["objects"]
        )
    finally:
        await conn.close()


async def _cross_tenant(api: httpx.AsyncClient, auth: Any, ids: dict[str, uuid.UUID]) -> None:
    admin = auth("yjj-admin")
    attempts = [
        ("GET", f"/api/registry/objects/{ids['objects']}", None),
        ("PATCH", f"/api/registry/objects/{ids['objects']}", {"name": "被篡改"}),
        ("POST", f"/api/registry/objects/{ids['objects']}/deactivate", None),
        ("POST", f"/api/registry/objects/{ids['objects']}/activate", None),
        ("GET", f"/api/registry/inspectors/{ids['inspectors']}", None),
        ("PATCH", f"/api/registry/inspectors/{ids['inspectors']}", {"name": "被篡改"}),
        ("POST", f"/api/registry/inspectors/{ids['inspectors']}/deactivate", None),
        ("POST", f"/api/registry/inspectors/{ids['inspectors']}/activate", None),
        ("POST", f"/api/registry/inspectors/{ids['inspectors']}/conflicts", {"uscc": uscc(5), "reason": "x"}),
        ("DELETE", f"/api/registry/inspectors/{ids['inspectors']}/conflicts/{uscc(5)}", None),
        ("GET", f"/api/registry/items/{ids['items']}", None),
        ("PATCH", f"/api/registry/items/{ids['items']}", {"name": "被篡改"}),
        ("POST", f"/api/registry/items/{ids['items']}/deactivate", None),
        ("POST", f"/api/registry/items/{ids['items']}/activate", None),
        ("PATCH", f"/api/registry/tags/{ids['tags']}", {"name": "被篡改"}),
        ("POST", f"/api/registry/tags/{ids['tags']}/deactivate", None),
        ("POST", f"/api/registry/tags/{ids['tags']}/activate", None),
        (
            "GET",
            f"/api/registry/objects/{uuid.uuid4()}",
            None,
        ),  # same answer as for an id that does not exist
        ("GET", "/api/registry/objects/not-a-uuid", None),
    ]
    for method, path, body in attempts:
        response = await api.request(method, path, json=body, headers=admin)
        assert response.status_code == 404, (method, path, response.text)
        assert response.json()["error"]["code"] == "not_found"
    # Lists, searches and exports never show another department's rows.
    xf_uscc = (await api.get(f"/api/registry/objects/{ids['objects']}", headers=auth("xf-admin"))).json()[
        "uscc"
    ]
    listed = (await api.get("/api/registry/objects", params={"uscc": xf_uscc}, headers=admin)).json()["items"]
    assert all(o["department_code"] == "130528-yjj" for o in listed)
    tags = (await api.get("/api/registry/tags", headers=admin)).json()
    assert all(t["department_code"] == "130528-yjj" for t in tags)
    exported = (await api.get("/api/registry/items/export", params={"format": "csv"}, headers=admin)).text
    assert "XF-001" not in exported and "YJ-001" in exported


def test_import_over_http_reports_rows_and_stores_nothing(api: httpx.Client, auth: Any) -> None:
    admin = auth("scjg-admin")
    rows = [object_row(770000 + i, industry="工贸", tags="一般单位") for i in range(3)]
    rows[1]["uscc"] = rows[1]["uscc"][:-1] + ("0" if rows[1]["uscc"][-1] != "0" else "1")
    rejected = api.post(
        "/api/registry/objects/imports",
        headers=admin,
        files={"file": ("对象.csv", csv_bytes("objects", rows), "text/csv")},
    )
    error = _error(rejected, 422, "file")
    assert error["code"] == "import_invalid" and error["error_count"] == 1
    assert error["rows"][0]["row"] == 3 and error["rows"][0]["column"] == "统一社会信用代码"
    assert (
        api.get("/api/registry/objects", params={"uscc": rows[0]["uscc"]}, headers=admin).json()["total"] == 0
    )
    batch = api.get(f"/api/registry/imports/{error['batch_id']}", headers=admin).json()
    assert batch["status"] == "failed" and batch["errors"][0]["row"] == 3

    rows[1] = object_row(770001, industry="工贸", tags="一般单位")
    ok = api.post(
        "/api/registry/objects/imports",
        headers=admin,
        files={"file": ("对象.csv", csv_bytes("objects", rows), "text/csv")},
    )
    assert ok.status_code == 200, ok.text
    assert (ok.json()["status"], ok.json()["added"]) == ("succeeded", 3)

    _error(
        api.post(
            "/api/registry/objects/imports",
            headers=admin,
            files={"file": ("a.pdf", b"%PDF-1.4\x00\x01", "application/pdf")},
        ),
        422,
        "file",
    )
    _error(
        api.post(
            "/api/registry/objects/imports", headers=admin, files={"file": ("empty.csv", b"", "text/csv")}
        ),
        422,
        "file",
    )
    _error(api.post("/api/registry/objects/imports", headers=admin, data={"replace": "1"}), 422, "file")
    _error(
        api.post(
            "/api/registry/objects/imports",
            headers=auth("yjj-planner"),
            files={"file": ("a.csv", csv_bytes("objects", rows), "text/csv")},
        ),
        403,
        None,
    )


async def test_large_import_runs_as_a_job(app_server: AppServer, auth: Any, runtime: Runtime) -> None:
    load_job_modules()
    admin = auth("scjg-admin")
    rows = [
        object_row(600000 + i, industry="工贸", tags="一般单位", address="宁晋县" * 30) for i in range(30_000)
    ]
    data = csv_bytes("objects", rows)
    assert len(data) > 4 * 1024 * 1024
    async with httpx.AsyncClient(base_url=app_server.url, timeout=60) as api:
        queued = await api.post(
            "/api/registry/objects/imports", headers=admin, files={"file": ("大文件.csv", data, "text/csv")}
        )
        assert queued.status_code == 202, queued.text
        assert queued.json()["status"] == "queued"
        first = {"uscc": rows[0]["uscc"]}
        # Nothing is visible before the job ran.
        assert (await api.get("/api/registry/objects", params=first, headers=admin)).json()["total"] == 0
        await _drain(runtime)
        batch = (await api.get(f"/api/registry/imports/{queued.json()['id']}", headers=admin)).json()
        assert (batch["status"], batch["added"], batch["progress"]) == ("succeeded", 30_000, 1.0), batch
        assert (await api.get("/api/registry/objects", params=first, headers=admin)).json()["total"] == 1
        assert batch["id"] in [
            b["id"] for b in (await api.get("/api/registry/imports", headers=admin)).json()
        ]
        # Another department cannot see the batch.
        other = await api.get(f"/api/registry/imports/{batch['id']}", headers=auth("yjj-admin"))
        assert other.status_code == 404


def test_templates_and_export(api: httpx.Client, auth: Any) -> None:
    admin = auth("yjj-admin")
    template = api.get("/api/registry/objects/template", headers=admin)
    assert template.status_code == 200 and "filename*=UTF-8''" in template.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(template.content)).active
    assert [c.value for c in sheet[1]][:2] == ["统一社会信用代码", "单位名称"]
    csv_template = api.get("/api/registry/inspectors/template", params={"format": "csv"}, headers=admin)
    assert csv_template.content.startswith(
        b"\xef\xbb\xbf\xe6\x89\xa7\xe6\xb3\x95\xe8\xaf\x81\xe5\x8f\xb7"
    )  # BOM + 执法证号
    exported = api.get("/api/registry/objects/export", params={"format": "xlsx"}, headers=admin)
    assert exported.status_code == 200
    total = api.get("/api/registry/objects", headers=admin).json()["total"]
    assert load_workbook(io.BytesIO(exported.content)).active.max_row == total + 1 > 1
    _error(api.get("/api/registry/objects/export", params={"format": "pdf"}, headers=admin), 422, "format")


@pytest.mark.parametrize("kind", ["objects", "inspectors", "items"])
def test_demo_data_round_trips(api: httpx.Client, auth: Any, kind: str) -> None:
    """Exporting the demo county's registry and importing it back reports every row unchanged, inspectors whose
    licence has expired since the demo data was written included."""
    admin = auth("xf-admin")
    exported = api.get(f"/api/registry/{kind}/export", params={"format": "csv"}, headers=admin)
    response = api.post(
        f"/api/registry/{kind}/imports",
        headers=admin,
        files={"file": (f"{kind}.csv", exported.content, "text/csv")},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert (
        body["added"] == body["updated"] == body["deactivated"] == 0
        and body["unchanged"] == body["total_rows"] > 0
    )
