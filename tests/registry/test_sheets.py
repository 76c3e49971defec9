"""Staff's own spreadsheets (issue #16): imported as they are, refused with a reason, never a crash."""

from __future__ import annotations

import csv
import io
import uuid

import pytest
from openpyxl import load_workbook
from sqlalchemy import text

from services.registry import exporter
from services.registry.imports import FileRejected, ImportRejected, ImportReport, import_file
from services.registry.values import SCIENTIFIC_REASON
from shared import audit
from shared.cells import TRIGGERS, csv_text
from shared.runtime import Runtime
from shared.tenancy import system_scope
from tests.registry import staff_files as staff
from tests.registry.conftest import VALID_UNTIL_YEAR, csv_bytes, inspector_row, object_row, uscc


async def _import(
    runtime: Runtime, dept: uuid.UUID, kind: str, data: bytes, *, ignore_unknown: bool = False
) -> ImportReport:
    async with runtime.unit_of_work(system_scope(dept)) as session:
        return await import_file(
            session,
            dept,
            audit.Actor("test", "测试"),
            kind,  # type: ignore[arg-type]
            io.BytesIO(data),
            len(data),
            filename="staff",
            ignore_unknown=ignore_unknown,
        )


async def _rows(runtime: Runtime, dept: uuid.UUID, sql: str) -> list[tuple[object, ...]]:
    async with runtime.unit_of_work(system_scope(dept)) as session:
        return [tuple(r) for r in (await session.execute(text(sql))).all()]


async def test_staff_workbook_is_imported_as_it_is(runtime: Runtime, dept: uuid.UUID) -> None:
    """Title row merged across, blank row, own header wording, 序号, hidden lookup sheet first, 行业 merged down,
    full-width code and letters: every column is read, from the visible sheet."""
    rows = [
        staff.object_cells(1, uscc=staff.full_width(uscc(1)), risk="Ｃ"),
        staff.object_cells(2, industry="工贸", direct="是"),
        staff.object_cells(3, industry=""),  # merged with the row above: 工贸
        staff.object_cells(4, industry="", expiry=staff.full_width(f"{VALID_UNTIL_YEAR}-01-31")),
    ]
    data = staff.workbook(staff.OBJECT_HEADERS, rows, hidden_lookup=True, merge_down=(5, 1, 3))
    report = await _import(runtime, dept, "objects", data)
    assert (report.total_rows, report.added) == (4, 4)
    stored = await _rows(
        runtime,
        dept,
        "SELECT uscc, name, industry, risk_class, direct_supervision, licence_expiry::text FROM registry_objects "
        "ORDER BY name",
    )
    assert stored == [
        (uscc(1), "宁晋县测试1（集团）有限公司", "危化", "C", False, f"{VALID_UNTIL_YEAR}-01-31"),
        (uscc(2), "宁晋县测试2（集团）有限公司", "工贸", "B", True, f"{VALID_UNTIL_YEAR}-01-31"),
        (uscc(3), "宁晋县测试3（集团）有限公司", "工贸", "B", False, f"{VALID_UNTIL_YEAR}-01-31"),
        (uscc(4), "宁晋县测试4（集团）有限公司", "工贸", "B", False, f"{VALID_UNTIL_YEAR}-01-31"),
    ]
    assert await _rows(runtime, dept, "SELECT count(*) FROM registry_objects WHERE name LIKE '%查找表%'") == [
        (0,)
    ]


async def test_a_column_with_data_that_matches_nothing_is_named_not_dropped(
    runtime: Runtime, dept: uuid.UUID
) -> None:
    headers = [*staff.OBJECT_HEADERS, "备注", "联系人（不导入）"]
    rows = [[*staff.object_cells(n), "重点关注" if n == 2 else "", ""] for n in (1, 2)]
    data = staff.workbook(headers, rows)
    with pytest.raises(ImportRejected) as caught:
        await _import(runtime, dept, "objects", data)
    message = caught.value.message
    assert "第10列“备注”" in message and "忽略无法识别的列" in message, message
    assert "联系人" not in message  # empty: nothing would be lost
    assert await _rows(runtime, dept, "SELECT count(*) FROM registry_objects") == [(0,)]
    report = await _import(runtime, dept, "objects", data, ignore_unknown=True)
    assert report.added == 2 and "备注" in report.ignored


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("utf-8-sig", ","), ("utf-8", "\t"), ("gbk", ","), ("gb18030", "\t"), ("utf-16", "\t"), ("utf-16", ",")],
)
async def test_csv_as_excel_saves_it(
    runtime: Runtime, dept: uuid.UUID, encoding: str, delimiter: str
) -> None:
    """Title row, blank row, own headers; blank lines (and a line of separators) at the end."""
    table = staff.text_table(
        staff.OBJECT_HEADERS, [staff.object_cells(1), staff.object_cells(2)], delimiter=delimiter
    )
    data = staff.encoded(table + "\r\n" + delimiter * 8 + "\r\n\r\n", encoding)
    report = await _import(runtime, dept, "objects", data)
    assert (report.total_rows, report.added) == (2, 2)
    assert await _rows(runtime, dept, "SELECT name, risk_class FROM registry_objects ORDER BY name") == [
        ("宁晋县测试1（集团）有限公司", "B"),
        ("宁晋县测试2（集团）有限公司", "B"),
    ]


async def test_bad_rows_are_numbered_as_in_the_file(runtime: Runtime, dept: uuid.UUID) -> None:
    rows = [staff.object_cells(1), staff.object_cells(2, risk="E")]
    for data in (
        staff.workbook(staff.OBJECT_HEADERS, rows),
        staff.encoded(staff.text_table(staff.OBJECT_HEADERS, rows), "gbk"),
    ):
        with pytest.raises(ImportRejected) as caught:
            await _import(runtime, dept, "objects", data)
        errors = [(e.row, e.column) for e in caught.value.report.errors]
        assert errors == [(5, "信用风险分类")]  # title, blank, header, row 1, then the bad one


async def test_excel_scientific_notation_in_numbers_is_refused(runtime: Runtime, dept: uuid.UUID) -> None:
    rows = [
        inspector_row(1, licence_no="1.30528E+12"),
        inspector_row(2, phone="1.38001E+10"),
        inspector_row(3, licence_no="Ｔ０００００３", phone="１３８００００００００"),
    ]
    with pytest.raises(ImportRejected) as caught:
        await _import(runtime, dept, "inspectors", csv_bytes("inspectors", rows))
    assert [(e.row, e.column, e.reason) for e in caught.value.report.errors] == [
        (2, "执法证号", SCIENTIFIC_REASON),
        (3, "联系电话", SCIENTIFIC_REASON),
    ]
    report = await _import(runtime, dept, "inspectors", csv_bytes("inspectors", rows[2:]))
    assert report.added == 1
    assert await _rows(runtime, dept, "SELECT licence_no, phone FROM inspectors") == [
        ("T000003", "13800000000")
    ]


async def test_stray_far_cell_is_named_and_never_allocated(runtime: Runtime, dept: uuid.UUID) -> None:
    for ref, column in (("XFD1048576", "第16384列"), ("XFD2", "第16384列")):
        with pytest.raises(FileRejected) as caught:
            await _import(runtime, dept, "objects", staff.stray_cell(ref))
        assert f"单元格 {ref} 有内容" in caught.value.message and column in caught.value.message
        assert "最多200列" in caught.value.message


async def test_a_file_past_the_checks_only_costs_the_child(runtime: Runtime, dept: uuid.UUID) -> None:
    """The sheet claims A1:I2 but holds XFD1048576: the reader in the child runs out of its memory limit and dies;
    the upload is refused with the limits, and this process goes on."""
    with pytest.raises(FileRejected) as caught:
        await _import(runtime, dept, "objects", staff.lying_dimension())
    assert "超过了上限" in caught.value.message and "3 GB" in caught.value.message
    assert (await _import(runtime, dept, "objects", csv_bytes("objects", [object_row(1)]))).added == 1


async def test_web_page_saved_as_xlsx_is_not_echoed(runtime: Runtime, dept: uuid.UUID) -> None:
    with pytest.raises(FileRejected) as caught:
        await _import(runtime, dept, "objects", staff.HTML_AS_XLSX)
    assert "网页（HTML）" in caught.value.message and "<" not in caught.value.message


async def test_header_only_files_say_so(runtime: Runtime, dept: uuid.UUID) -> None:
    for data, row in (
        (csv_bytes("objects", []), 1),
        (staff.workbook(staff.OBJECT_HEADERS, []), 3),
        (staff.encoded(staff.text_table(staff.OBJECT_HEADERS, []) + "\r\n\r\n", "gbk"), 3),
    ):
        with pytest.raises(ImportRejected) as caught:
            await _import(runtime, dept, "objects", data)
        assert caught.value.message == f"文件中没有数据行：表头在第{row}行，其下没有任何数据"


async def test_annotated_copy_marks_the_bad_cells(runtime: Runtime, dept: uuid.UUID) -> None:
    rows = [staff.object_cells(1), staff.object_cells(2, risk="E", industry="餐饮"), staff.object_cells(3)]
    with pytest.raises(ImportRejected) as caught:
        await _import(runtime, dept, "objects", staff.workbook(staff.OBJECT_HEADERS, rows))
    assert caught.value.annotated is not None
    sheet = load_workbook(caught.value.annotated).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == staff.TITLE and values[2][-1] == "错误说明"
    assert values[3][-1] is None and values[4][1] == "宁晋县测试2（集团）有限公司"
    assert "信用风险分类：应为A、B、C、D之一" in values[4][-1] and "行业" in values[4][-1]
    marked = [c.column_letter for c in sheet[5] if c.fill.fgColor.rgb.endswith("FFC7CE")]
    assert marked == ["E", "F"]  # 所属行业, 信用风险分类


def _csv_cells(data: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_values_that_look_like_formulas_round_trip_as_text(
    runtime: Runtime, dept: uuid.UUID, fmt: str
) -> None:
    rows = [
        object_row(1, name="=1+2", address="-abc", licence_no="@x"),
        object_row(2, name="'=already quoted", address="+86 宁晋", licence_no="'plain"),
    ]
    # Written as the product writes CSV (a person typing ``=1+2`` in Excel would get a formula).
    await _import(
        runtime, dept, "objects", csv_bytes("objects", [{k: csv_text(v) for k, v in r.items()} for r in rows])
    )
    async with runtime.unit_of_work(system_scope(dept)) as session:
        query = exporter.export_filter("objects", {}, True)
        if fmt == "csv":
            exported = b"".join([c async for c in exporter.csv_chunks(session, "objects", query)])
        else:
            exported = (await exporter.xlsx_file(session, "objects", query)).read()
    if fmt == "csv":
        cells = [c for row in _csv_cells(exported) for c in row]
        assert not [c for c in cells if c.startswith(TRIGGERS)]
        assert "'=1+2" in cells and "''=already quoted" in cells and "'plain" in cells
    else:
        book = load_workbook(io.BytesIO(exported))
        cells = [c for sheet in book.worksheets for row in sheet.iter_rows() for c in row]
        assert [c.data_type for c in cells if c.data_type == "f"] == []
        assert "=1+2" in [c.value for c in cells]
    again = await _import(runtime, dept, "objects", exported)
    assert (again.total_rows, again.unchanged, again.updated, again.added) == (2, 2, 0, 0)
    assert await _rows(
        runtime, dept, "SELECT name, address, licence_no FROM registry_objects ORDER BY uscc"
    ) == [
        ("=1+2", "-abc", "@x"),
        ("'=already quoted", "+86 宁晋", "'plain"),
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_inspectors_with_expired_licences_round_trip(
    runtime: Runtime, dept: uuid.UUID, fmt: str, db_urls: dict[str, str]
) -> None:
    """An active inspector whose licence has expired since it was entered is exported and read back unchanged;
    a file newly stating an expired licence as 在岗 is still refused."""
    import asyncpg

    from shared.db import asyncpg_dsn

    await _import(runtime, dept, "inspectors", csv_bytes("inspectors", [inspector_row(1), inspector_row(2)]))
    admin = await asyncpg.connect(asyncpg_dsn(db_urls["admin"]))
    try:  # time passes: the first licence expires while the inspector stays 在岗
        await admin.execute(
            "UPDATE inspectors SET licence_expiry = DATE '2021-06-30' WHERE tenant_id = $1 AND licence_no = $2",
            dept,
            "T000001",
        )
    finally:
        await admin.close()
    async with runtime.unit_of_work(system_scope(dept)) as session:
        query = exporter.export_filter("inspectors", {}, None)
        if fmt == "csv":
            exported = b"".join([c async for c in exporter.csv_chunks(session, "inspectors", query)])
        else:
            exported = (await exporter.xlsx_file(session, "inspectors", query)).read()
    again = await _import(runtime, dept, "inspectors", exported)
    assert (again.total_rows, again.unchanged, again.updated, again.added) == (2, 2, 0, 0)
    newly = csv_bytes("inspectors", [inspector_row(3, licence_expiry="2021-06-30")])
    with pytest.raises(ImportRejected) as caught:
        await _import(runtime, dept, "inspectors", newly)
    assert "已于2021-06-30过期" in caught.value.report.errors[0].reason


async def test_control_characters_in_a_file_are_refused_with_the_row(
    runtime: Runtime, dept: uuid.UUID
) -> None:
    """A BEL pasted into a name (issue #15): refused with its row (UTF-8 and GBK), nothing stored."""
    bad = staff.object_cells(2)
    bad[1] = "宁晋县\x07测试2（集团）有限公司"
    rows = [staff.object_cells(1), bad]
    for data in (
        staff.encoded(staff.text_table(staff.OBJECT_HEADERS, rows), "utf-8"),
        staff.encoded(staff.text_table(staff.OBJECT_HEADERS, rows), "gbk"),
    ):
        with pytest.raises(FileRejected) as caught:
            await _import(runtime, dept, "objects", data)
        assert (
            "第5行" in str(caught.value) and "控制字符" in str(caught.value) and "U+0007" in str(caught.value)
        )
    assert await _rows(runtime, dept, "SELECT name FROM registry_objects") == []
