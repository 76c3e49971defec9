"""A department admin in Chromium: download the template, import a file with a bad row, read the exact error,
fix it, import again and find the result with the search form."""

from __future__ import annotations

import io
from pathlib import Path

from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.conftest import login
from tests.registry.conftest import object_row, uscc
from tests.support.stack import AppServer


def test_admin_imports_objects_from_the_template(page: Page, app_server: AppServer, tmp_path: Path) -> None:
    login(page, app_server.url, "scjg-admin")
    page.click("#nav-objects")
    page.click("#import-link")
    expect(page.locator("h1")).to_have_text("批量导入：检查对象名录库")

    with page.expect_download() as download_info:
        page.click("#template-xlsx")
    template = tmp_path / "template.xlsx"
    download_info.value.save_as(template)
    workbook = load_workbook(template)
    sheet = workbook["导入模板"]
    headers = [c.value for c in sheet[1]]
    assert headers[0] == "统一社会信用代码" and "分类标注" in headers

    # Fill it in as a user would in Excel: the second row has a wrong check character.
    rows = [
        object_row(990001, industry="工贸", tags="一般单位", name="浏览器导入甲有限公司"),
        object_row(990002, industry="工贸", tags="一般单位", name="浏览器导入乙有限公司"),
    ]
    good_code = rows[1]["uscc"]
    rows[1]["uscc"] = good_code[:-1] + ("0" if good_code[-1] != "0" else "1")
    keys = [
        "uscc",
        "name",
        "address",
        "region_code",
        "industry",
        "object_type",
        "tags",
        "hazard_level",
        "direct",
        "risk_class",
        "status",
        "licence_no",
        "licence_expiry",
    ]
    for r, row in enumerate(rows, start=2):
        for c, key in enumerate(keys, start=1):
            sheet.cell(row=r, column=c, value=row[key])
    filled = tmp_path / "objects.xlsx"
    workbook.save(filled)

    page.set_input_files("#import-file", str(filled))
    page.click("#import-submit")
    expect(page.locator("#import-result")).to_contain_text("共 1 处错误，未导入任何数据")
    error_row = page.locator("#import-errors tbody tr")
    expect(error_row).to_have_count(1)
    expect(error_row.locator("td").nth(0)).to_have_text("第 3 行")
    expect(error_row.locator("td").nth(1)).to_have_text("统一社会信用代码")
    expect(error_row.locator("td").nth(2)).to_contain_text(f"第18位应为“{good_code[-1]}”")
    # Their own file comes back with the bad cell marked and the reason in a last column.
    with page.expect_download() as annotated_info:
        page.click("#annotated-download")
    marked = load_workbook(io.BytesIO(Path(annotated_info.value.path()).read_bytes())).active
    assert marked is not None and marked.cell(row=1, column=14).value == "错误说明"
    assert f"第18位应为“{good_code[-1]}”" in str(marked.cell(row=3, column=14).value)
    assert marked.cell(row=3, column=1).fill.fgColor.rgb.endswith("FFC7CE")

    # Fix the cell and import again.
    sheet.cell(row=3, column=1, value=good_code)
    workbook.save(filled)
    page.set_input_files("#import-file", str(filled))
    page.click("#import-submit")
    expect(page.locator("#import-result")).to_contain_text("导入成功")
    expect(page.locator("#count-added")).to_have_text("2")

    page.click("#nav-objects")
    page.fill("#search-q", "浏览器导入")
    page.click("#search")
    table = page.locator("#objects-table tbody")
    expect(table.locator("tr")).to_have_count(2)
    expect(table).to_contain_text("浏览器导入乙有限公司")
    expect(table).to_contain_text(good_code)
    expect(page.locator("#total")).to_have_text("共 2 条")

    # The export gives the same columns back.
    with page.expect_download() as export_info:
        page.click("#export-xlsx")
    exported = load_workbook(io.BytesIO(Path(export_info.value.path()).read_bytes())).active
    assert [c.value for c in exported[1]] == headers
    assert {exported.cell(row=r, column=1).value for r in range(2, exported.max_row + 1)} >= {
        uscc(990001),
        good_code,
    }


def test_planner_sees_registry_read_only(page: Page, app_server: AppServer) -> None:
    login(page, app_server.url, "yjj-planner")
    page.click("#nav-inspectors")
    expect(page.locator("h1")).to_have_text("执法检查人员名录库")
    expect(page.locator("#new-row")).to_have_count(0)
    expect(page.locator("#import-link")).to_have_count(0)
    page.locator("#inspectors-table tbody tr a").first.click()
    expect(page.locator("#save")).to_have_count(0)
    response = page.goto(app_server.url + "/registry/objects/import")
    assert response is not None and response.status == 403
