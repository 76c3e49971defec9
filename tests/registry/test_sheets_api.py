"""Staff's own spreadsheets against the live app server: files that used to crash it answer 4xx and it stays up;
every attempt is in the import history; the annotated copy of a rejected file can be downloaded."""

from __future__ import annotations

import io
from typing import Any

import httpx
from openpyxl import load_workbook

from tests.registry import staff_files as staff
from tests.registry.conftest import csv_bytes, object_row

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _upload(
    api: httpx.Client, headers: dict[str, str], name: str, data: bytes, **form: str
) -> httpx.Response:
    return api.post(
        "/api/registry/objects/imports", headers=headers, files={"file": (name, data, XLSX)}, data=form
    )


def _rows(start: int, count: int) -> list[dict[str, str]]:
    return [object_row(start + i, industry="工贸", tags="一般单位") for i in range(count)]


def test_crash_files_answer_4xx_and_the_server_stays_up(api: httpx.Client, auth: Any) -> None:
    admin = auth("scjg-admin")
    refused = {
        "stray.xlsx": (staff.stray_cell(), "单元格 XFD1048576 有内容"),
        "lying.xlsx": (staff.lying_dimension(), "超过了上限"),
        "note.xlsx": (staff.stray_cell("XFD2"), "单元格 XFD2 有内容"),
        "page.xlsx": (staff.HTML_AS_XLSX, "网页（HTML）"),
    }
    batches = {}
    for name, (data, reason) in refused.items():
        response = _upload(api, admin, name, data)
        assert response.status_code == 422, response.text
        error = response.json()["error"]
        assert error["code"] == "bad_file" and error["field"] == "file" and reason in error["message"], error
        assert "<html" not in response.text.lower()
        batches[name] = error["batch_id"]
    # Every refusal is in the history with its reason.
    history = {b["id"]: b for b in api.get("/api/registry/imports?kind=objects", headers=admin).json()}
    for name, batch_id in batches.items():
        assert history[batch_id]["status"] == "failed" and history[batch_id]["filename"] == name
        assert refused[name][1] in history[batch_id]["message"]
    # The same server goes on importing.
    ok = _upload(api, admin, "good.csv", csv_bytes("objects", _rows(881_000, 2)))
    assert ok.status_code == 200 and ok.json()["added"] == 2, ok.text


def test_rejected_rows_come_back_as_an_annotated_copy(api: httpx.Client, auth: Any) -> None:
    admin = auth("scjg-admin")
    rows = _rows(882_000, 3)
    rows[1]["risk_class"] = "E"
    response = _upload(api, admin, "对象.csv", csv_bytes("objects", rows))
    error = response.json()["error"]
    assert response.status_code == 422 and error["rows"][0]["row"] == 3
    batch = api.get(f"/api/registry/imports/{error['batch_id']}", headers=admin).json()
    assert batch["annotated"] is True
    copy = api.get(f"/api/registry/imports/{error['batch_id']}/annotated", headers=admin)
    assert copy.status_code == 200 and "filename*=UTF-8''" in copy.headers["content-disposition"]
    sheet = load_workbook(io.BytesIO(copy.content)).active
    assert sheet is not None
    assert sheet.cell(row=1, column=14).value == "错误说明"
    assert "信用风险分类" in str(sheet.cell(row=3, column=14).value)
    assert sheet.cell(row=2, column=14).value is None
    # Another department cannot fetch it; a succeeded batch has none.
    assert (
        api.get(f"/api/registry/imports/{error['batch_id']}/annotated", headers=auth("yjj-admin")).status_code
        == 404
    )
    ok = _upload(api, admin, "好.csv", csv_bytes("objects", _rows(882_100, 1)))
    assert api.get(f"/api/registry/imports/{ok.json()['id']}/annotated", headers=admin).status_code == 404


def test_unknown_columns_need_confirmation_and_header_only_files(api: httpx.Client, auth: Any) -> None:
    admin = auth("scjg-admin")
    headers = [*staff.OBJECT_HEADERS, "备注"]
    rows = [[*staff.object_cells(883_000 + n, industry="工贸"), "已整改"] for n in range(2)]
    data = staff.workbook(headers, rows)
    asked = _upload(api, admin, "自有表格.xlsx", data)
    assert asked.status_code == 422 and "第10列“备注”" in asked.json()["error"]["message"], asked.text
    confirmed = _upload(api, admin, "自有表格.xlsx", data, ignore_unknown="1")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["added"] == 2 and "备注" in confirmed.json()["message"]

    empty = _upload(api, admin, "空表.xlsx", staff.workbook(staff.OBJECT_HEADERS, []))
    error = empty.json()["error"]
    assert empty.status_code == 422 and "表头在第3行" in error["message"]
    batch = api.get(f"/api/registry/imports/{error['batch_id']}", headers=admin).json()
    assert (batch["status"], batch["error_count"]) == ("failed", 0) and "没有数据行" in batch["message"]
