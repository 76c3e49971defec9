"""Bulk import through the real code path (COPY, set-based validation, merge) on the test PostgreSQL."""

from __future__ import annotations

import io
import uuid

import pytest
from sqlalchemy import text

from services.registry import exporter
from services.registry.imports import FileRejected, ImportRejected
from shared.runtime import Runtime
from shared.tenancy import system_scope
from tests.registry.conftest import (
    count,
    csv_bytes,
    do_import,
    inspector_row,
    item_row,
    object_row,
    uscc,
    xlsx_bytes,
)


async def _rejected(runtime: Runtime, dept: uuid.UUID, kind: str, data: bytes) -> list[tuple[int, str, str]]:
    with pytest.raises(ImportRejected) as caught:
        await do_import(runtime, dept, kind, data)
    return [(e.row, e.column, e.reason) for e in caught.value.report.errors]


async def test_objects_import_then_reimport_counts(runtime: Runtime, dept: uuid.UUID) -> None:
    rows = [object_row(i) for i in range(1, 6)]
    report = await do_import(runtime, dept, "objects", csv_bytes("objects", rows))
    assert (report.total_rows, report.added, report.updated, report.unchanged) == (5, 5, 0, 0)
    assert await count(runtime, dept, "SELECT count(*) FROM registry_objects") == 5

    rows[0]["name"] = "改名后的企业有限公司"
    rows[1]["tags"] = "粉尘涉爆"
    again = await do_import(runtime, dept, "objects", csv_bytes("objects", [*rows[:4], object_row(9)]))
    assert (again.added, again.updated, again.unchanged, again.deactivated) == (1, 2, 2, 0)
    # Without “完整替换” the row missing from the file stays active.
    assert await count(runtime, dept, "SELECT count(*) FROM registry_objects WHERE active") == 6

    full = await do_import(runtime, dept, "objects", csv_bytes("objects", rows[:2]), replace=True)
    assert (full.added, full.updated, full.unchanged, full.deactivated) == (0, 0, 2, 4)
    assert await count(runtime, dept, "SELECT count(*) FROM registry_objects WHERE active") == 2
    # A deactivated row that comes back is reactivated and counted as updated.
    back = await do_import(runtime, dept, "objects", csv_bytes("objects", rows[:3]))
    assert (back.added, back.updated, back.unchanged) == (0, 1, 2)


@pytest.mark.parametrize(
    ("row", "column", "reason"),
    [
        ({"uscc": uscc(1)[:-1] + ("0" if uscc(1)[-1] != "0" else "1")}, "统一社会信用代码", "校验位错误"),
        ({"uscc": "91130528ABC"}, "统一社会信用代码", "应为18位"),
        ({"uscc": "9.11305E+17"}, "统一社会信用代码", "科学计数法"),
        ({"uscc": ""}, "统一社会信用代码", "必填"),
        ({"name": "  "}, "单位名称", "必填"),
        ({"industry": "餐饮"}, "行业", "不在本部门标签字库"),
        ({"tags": "直接监管；不存在的标签"}, "分类标注", "不存在的标签"),
        ({"licence_expiry": "2023-02-30"}, "许可证有效期至", "不是有效日期"),
        ({"licence_expiry": "明年"}, "许可证有效期至", "日期格式"),
        ({"risk_class": "E"}, "信用风险分类", "A、B、C、D"),
        ({"hazard_level": "五级"}, "重大危险源等级", "一级"),
        ({"status": "倒闭"}, "经营状态", "在营"),
    ],
)
async def test_each_kind_of_bad_object_row(
    runtime: Runtime, dept: uuid.UUID, row: dict[str, str], column: str, reason: str
) -> None:
    rows = [object_row(1), object_row(2, **row), object_row(3)]
    errors = await _rejected(runtime, dept, "objects", csv_bytes("objects", rows))
    assert len(errors) == 1, errors
    assert errors[0][0] == 3 and errors[0][1] == column and reason in errors[0][2], errors
    assert await count(runtime, dept, "SELECT count(*) FROM registry_objects") == 0


async def test_every_bad_row_is_reported_and_nothing_is_stored(runtime: Runtime, dept: uuid.UUID) -> None:
    rows = [object_row(i) for i in range(1, 201)]
    rows[9]["uscc"] = rows[4]["uscc"]  # duplicate in file: row 11 repeats row 6
    rows[49]["industry"] = ""
    rows[149]["licence_expiry"] = "2024/13/01"
    rows[199]["tags"] = "未知"
    errors = await _rejected(runtime, dept, "objects", csv_bytes("objects", rows))
    assert errors == [
        (11, "统一社会信用代码", "与第6行重复"),
        (51, "行业", "必填"),
        (151, "许可证有效期至", "不是有效日期"),
        (201, "分类标注", "分类标注“未知”不在本部门标签字库中"),
    ]
    assert await count(runtime, dept, "SELECT count(*) FROM registry_objects") == 0


async def test_import_failing_halfway_stores_nothing(runtime: Runtime, dept: uuid.UUID) -> None:
    await do_import(runtime, dept, "objects", csv_bytes("objects", [object_row(1)]))
    # 3,000 good rows, then bytes that are not UTF-8: COPY has already loaded the first rows when it fails.
    good = csv_bytes("objects", [object_row(i) for i in range(2, 3002)])
    broken = good + b"\xff\xfe\xfa,bad\r\n"
    with pytest.raises(FileRejected) as caught:
        await do_import(runtime, dept, "objects", broken)
    assert "第3002行" in caught.value.message
    assert await count(runtime, dept, "SELECT count(*) FROM registry_objects") == 1

    # A failure after the merge started (the caller's transaction aborts) also leaves nothing behind.
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with runtime.unit_of_work(system_scope(dept)) as session:
            from services.registry.imports import import_file
            from shared import audit

            data = csv_bytes("objects", [object_row(i) for i in range(2, 500)])
            report = await import_file(session, dept, audit.SYSTEM, "objects", io.BytesIO(data), len(data))
            assert report.added == 498
            raise Boom()
    assert await count(runtime, dept, "SELECT count(*) FROM registry_objects") == 1


async def test_inspector_rows(runtime: Runtime, dept: uuid.UUID) -> None:
    rows = [
        inspector_row(1, conflicts=f"{uscc(5)}；{uscc(6)}"),
        inspector_row(2),
        inspector_row(3, status="停用", licence_expiry="2020-01-01"),
    ]
    report = await do_import(runtime, dept, "inspectors", csv_bytes("inspectors", rows))
    assert report.added == 3
    assert await count(runtime, dept, "SELECT count(*) FROM inspector_conflicts") == 2
    assert await count(runtime, dept, "SELECT count(*) FROM inspectors WHERE active") == 2

    bad = [
        inspector_row(1),
        inspector_row(2, licence_expiry="2021-06-30"),
        inspector_row(1, name="重复"),
        inspector_row(4, section="不存在股"),
        inspector_row(5, specialties="飞行"),
        inspector_row(6, conflicts="91130528XXXXXXXXX1"),
        inspector_row(7, name=""),
    ]
    errors = await _rejected(runtime, dept, "inspectors", csv_bytes("inspectors", bad))
    assert [(r, c) for r, c, _ in errors] == [
        (3, "执法证有效期至"),
        (4, "执法证号"),
        (5, "所属股室"),
        (6, "专业特长"),
        (7, "回避企业统一社会信用代码"),
        (8, "姓名"),
    ]
    assert "已于2021-06-30过期" in errors[0][2]
    assert "与第2行重复" in errors[1][2]

    # Re-import: conflicts follow the file, unchanged rows stay unchanged.
    rows[0]["conflicts"] = uscc(6)
    again = await do_import(runtime, dept, "inspectors", csv_bytes("inspectors", rows))
    assert (again.updated, again.unchanged) == (1, 2)
    assert await count(runtime, dept, "SELECT count(*) FROM inspector_conflicts") == 1


async def test_items_with_check_points(runtime: Runtime, dept: uuid.UUID) -> None:
    report = await do_import(runtime, dept, "items", csv_bytes("items", [item_row(1), item_row(2)]))
    assert report.added == 2
    assert await count(runtime, dept, "SELECT count(*) FROM check_points") == 4
    changed = item_row(1, check_points="只剩一条")
    again = await do_import(runtime, dept, "items", csv_bytes("items", [changed, item_row(2)]))
    assert (again.updated, again.unchanged) == (1, 1)
    assert await count(runtime, dept, "SELECT count(*) FROM check_points") == 3
    errors = await _rejected(
        runtime, dept, "items", csv_bytes("items", [item_row(3, category="特别", check_methods="飞检")])
    )
    assert [(r, c) for r, c, _ in errors] == [(2, "抽查类别"), (2, "检查方式")]


@pytest.mark.parametrize("kind", ["objects", "inspectors", "items"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
async def test_round_trip_changes_nothing(runtime: Runtime, dept: uuid.UUID, kind: str, fmt: str) -> None:
    rows = {
        "objects": [
            object_row(1),
            object_row(
                2,
                hazard_level="二级",
                tags="",
                risk_class="",
                licence_expiry="",
                region_code="",
                direct="否",
                status="停业",
            ),
            object_row(3, name='引号"与,逗号'),
        ],
        "inspectors": [
            inspector_row(1, conflicts=uscc(9)),
            inspector_row(2, section="", specialties="", is_expert="是"),
        ],
        "items": [item_row(1), item_row(2, check_points="", check_methods="", specialties="")],
    }[kind]
    first = await do_import(
        runtime, dept, kind, xlsx_bytes(kind, rows) if fmt == "xlsx" else csv_bytes(kind, rows)
    )
    assert first.added == len(rows)
    async with runtime.unit_of_work(system_scope(dept)) as session:
        if fmt == "csv":
            exported = b"".join(
                [c async for c in exporter.csv_chunks(session, kind, exporter.export_filter(kind, {}, True))]
            )
        else:
            exported = (
                await exporter.xlsx_file(session, kind, exporter.export_filter(kind, {}, True))
            ).read()
    again = await do_import(runtime, dept, kind, exported)
    assert (again.total_rows, again.added, again.updated, again.unchanged) == (len(rows), 0, 0, len(rows))


async def test_gb18030_csv_and_bom_and_blank_rows(runtime: Runtime, dept: uuid.UUID) -> None:
    data = csv_bytes("objects", [object_row(1), object_row(2)], encoding="gb18030") + b",,,,,,,,,,,,\r\n"
    report = await do_import(runtime, dept, "objects", data)
    assert report.added == 2 and report.total_rows == 2
    async with runtime.unit_of_work(system_scope(dept)) as session:
        names = (
            (await session.execute(text("SELECT name FROM registry_objects ORDER BY name"))).scalars().all()
        )
    assert names == ["测试企业1有限公司", "测试企业2有限公司"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "文件为空"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 20, "不是电子表格文件"),
        (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\x00\x00", "不是电子表格文件"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "旧版 .xls"),
        (b"PK\x03\x04 this is not really a zip", "XLSX 文件已损坏"),
        ("名称,地址\r\n某公司,某地\r\n".encode(), "缺少必需的列：统一社会信用代码、行业"),
        (csv_bytes("objects", []), "没有数据行"),
    ],
)
async def test_files_that_are_not_importable(
    runtime: Runtime, dept: uuid.UUID, data: bytes, message: str
) -> None:
    with pytest.raises((FileRejected, ImportRejected)) as caught:
        await do_import(runtime, dept, "objects", data)
    assert message in caught.value.message
    assert caught.value.field == "file"


async def test_column_count_mismatch_names_the_row(runtime: Runtime, dept: uuid.UUID) -> None:
    data = csv_bytes("objects", [object_row(1)]) + f"{uscc(2)},只有两列\r\n".encode()
    with pytest.raises(FileRejected) as caught:
        await do_import(runtime, dept, "objects", data)
    assert caught.value.message == "第3行：列数与表头不一致"


async def test_fifty_megabytes(runtime: Runtime, dept: uuid.UUID) -> None:
    rows = [
        object_row(i, address="河北省邢台市宁晋县凤凰镇工业园区经济开发区" * 3) for i in range(1, 190_001)
    ]
    data = csv_bytes("objects", rows)
    assert len(data) > 50_000_000
    report = await do_import(runtime, dept, "objects", data)
    assert report.added == 190_000
    assert await count(runtime, dept, "SELECT count(*) FROM registry_objects") == 190_000


async def test_an_import_job_given_up_marks_its_batch_failed(runtime: Runtime, dept: uuid.UUID) -> None:
    """An import whose job never finished (killed by its timeout again and again) ends as a failed batch with a
    message and no stored file, never as 'running' for ever; a finished batch is left as it is."""
    from services.registry import jobs as registry_jobs
    from services.registry.imports import enqueue_import
    from shared import audit

    data = csv_bytes("objects", [object_row(1)])
    async with runtime.unit_of_work(system_scope(dept)) as session:
        batch = await enqueue_import(
            session, dept, audit.SYSTEM, "objects", io.BytesIO(data), len(data), "企业.csv", False
        )
    async with runtime.unit_of_work(system_scope(dept)) as session:
        await registry_jobs.give_up_import(session, dept, batch_id=str(batch))
        await registry_jobs.give_up_import(
            session, dept, batch_id=str(batch)
        )  # twice: no change the second time
    async with runtime.unit_of_work(system_scope(dept)) as session:
        row = (
            await session.execute(
                text("SELECT status, message FROM import_batches WHERE id = :id"), {"id": batch}
            )
        ).one()
        chunks = (
            await session.execute(
                text("SELECT count(*) FROM import_chunks WHERE batch_id = :id"), {"id": batch}
            )
        ).scalar_one()
        objects = (await session.execute(text("SELECT count(*) FROM registry_objects"))).scalar_one()
    assert row.status == "failed" and "多次未能完成" in row.message and chunks == 0 and objects == 0
