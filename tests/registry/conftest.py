"""Registry test helpers: a department of our own for imports, spreadsheet builders, API headers."""

from __future__ import annotations

import csv
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any

import asyncpg
import httpx
import pytest
from stdnum.cn import uscc as uscc_lib

from services.identity.provisioning import ensure_department
from services.registry.columns import COLUMNS
from services.registry.imports import ImportReport, import_file
from shared import audit
from shared.db import asyncpg_dsn
from shared.runtime import Runtime
from shared.tenancy import system_scope
from tests.support.stack import SSO, AppServer

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
# Licences in test rows stay valid whenever the suite runs (the app refuses active inspectors with expired ones).
VALID_UNTIL_YEAR = dt.date.today().year + 5
TAGS = [
    ("行业", "危化"),
    ("行业", "工贸"),
    ("分类标注", "直接监管"),
    ("分类标注", "危险化学品"),
    ("分类标注", "重大危险源"),
    ("分类标注", "粉尘涉爆"),
    ("专业特长", "危险化学品"),
    ("专业特长", "工贸安全"),
    ("资质", "行政执法证"),
]


def uscc(n: int, region: str = "130528") -> str:
    body = "91" + region + "".join(ALPHABET[(n // 31**i) % 31] for i in range(9))
    return body + uscc_lib.calc_check_digit(body)


def object_row(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "uscc": uscc(n),
        "name": f"测试企业{n}有限公司",
        "address": f"宁晋县凤凰镇{n}号",
        "region_code": "130528",
        "industry": "危化",
        "object_type": "企业",
        "tags": "直接监管；危险化学品",
        "hazard_level": "",
        "direct": "是",
        "risk_class": "B",
        "status": "在营",
        "licence_no": f"冀危化〔2023〕{n}",
        "licence_expiry": f"{VALID_UNTIL_YEAR}-01-31",
    }
    row.update(overrides)
    return row


def inspector_row(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "licence_no": f"T{n:06d}",
        "name": f"测试员{n}",
        "section": "危化监管股",
        "licence_expiry": f"{VALID_UNTIL_YEAR}-12-31",
        "specialties": "危险化学品",
        "qualifications": "行政执法证",
        "is_expert": "否",
        "is_team_leader": "是",
        "phone": "13800000000",
        "conflicts": "",
        "status": "在岗",
    }
    row.update(overrides)
    return row


def item_row(n: int, **overrides: str) -> dict[str, str]:
    row = {
        "code": f"T-{n:03d}",
        "name": f"测试事项{n}",
        "category": "重点",
        "item_type": "安全生产",
        "object_type": "生产经营单位",
        "check_points": "第一条\n第二条；含分号",
        "check_methods": "现场检查；书面检查",
        "legal_basis": "《安全生产法》",
        "subject": "测试局",
        "ratio_frequency": "每年不少于1次",
        "specialties": "危险化学品",
    }
    row.update(overrides)
    return row


def csv_bytes(kind: str, rows: list[dict[str, str]], *, encoding: str = "utf-8-sig") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    columns = COLUMNS[kind]  # type: ignore[index]
    writer.writerow([c.header for c in columns])
    for row in rows:
        writer.writerow([row.get(c.key, "") for c in columns])
    return buffer.getvalue().encode(encoding)


def xlsx_bytes(kind: str, rows: list[dict[str, Any]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    columns = COLUMNS[kind]  # type: ignore[index]
    sheet.append([c.header for c in columns])
    for row in rows:
        sheet.append([row.get(c.key, "") for c in columns])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


async def do_import(
    runtime: Runtime, dept: uuid.UUID, kind: str, data: bytes, *, replace: bool = False
) -> ImportReport:
    async with runtime.unit_of_work(system_scope(dept)) as session:
        return await import_file(
            session,
            dept,
            audit.Actor("test", "测试"),
            kind,
            io.BytesIO(data),
            len(data),  # type: ignore[arg-type]
            filename="test",
            replace=replace,
        )


async def count(runtime: Runtime, dept: uuid.UUID, sql: str) -> int:
    async with runtime.unit_of_work(system_scope(dept)) as session:
        from sqlalchemy import text

        return int((await session.execute(text(sql))).scalar_one())


async def make_department(admin_url: str, code: str) -> uuid.UUID:
    dept = await ensure_department(admin_url, code, "130528", f"测试部门{code[-4:]}", "测试部门")
    conn = await asyncpg.connect(asyncpg_dsn(admin_url))
    try:
        await conn.executemany(
            "INSERT INTO tags (id, tenant_id, category, name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
            [(uuid.uuid4(), dept, c, n) for c, n in TAGS],
        )
        await conn.execute(
            "INSERT INTO sections (id, tenant_id, code, name) VALUES ($1, $2, 'whjgg', '危化监管股') ON CONFLICT DO NOTHING",
            uuid.uuid4(),
            dept,
        )
    finally:
        await conn.close()
    return dept


@pytest.fixture
async def dept(runtime: Runtime, db_urls: dict[str, str]) -> uuid.UUID:
    """A fresh, empty department per test (imports in it cannot disturb the demo county's data)."""
    return await make_department(db_urls["admin"], f"130528-t{uuid.uuid4().hex[:10]}")


@pytest.fixture(scope="module")
def api(app_server: AppServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=app_server.url, timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def auth(sso: SSO) -> Any:
    def headers(username: str, department: str | None = None) -> dict[str, str]:
        result = {"Authorization": f"Bearer {sso.token(username)}"}
        if department:
            result["X-Department"] = department
        return result

    return headers
