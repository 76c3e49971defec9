"""Open data: the county's published records as a documented, stable bulk export (CSV and JSON), one file per county
and year, downloadable without login. The columns and their order are fixed by ``FIELDS`` (schema version 1); a new
column is only ever added at the end, under a new schema version. CSV goes through ``shared.cells``."""

from __future__ import annotations

import csv
import io
from typing import Any

import msgspec

from services.disclosure.schemas import RecordRow
from shared.cells import csv_row

SCHEMA_VERSION = "spotcheck-open-results-v1"
LICENCE = (
    "本数据依据《政府信息公开条例》和“双随机、一公开”监管要求公开，可自由复制、传播和再利用（含商业用途），"
    "请注明来源“县双随机、一公开监管平台”并保持数据原意；数据以各部门公示为准，更正后以最新版本为准。"
)

# (field name, type, description) — the JSON keys and the CSV columns, in this order.
FIELDS: tuple[tuple[str, str, str], ...] = (
    ("record_id", "string (uuid)", "公示记录编号，长期不变"),
    ("region_code", "string", "行政区划代码"),
    ("department_code", "string", "实施机关编码（牵头部门）"),
    ("department_name", "string", "实施机关名称（牵头部门）"),
    ("departments", "string", "部门联合检查的全部部门，以“；”分隔"),
    ("plan_number", "string", "抽查计划编号"),
    ("plan_name", "string", "抽查计划名称"),
    ("task_number", "string", "抽查任务编号"),
    ("task_name", "string", "抽查任务名称"),
    ("draw_id", "string (uuid) or empty", "随机抽取编号，证明文件见 /public/draws/{draw_id}/proof.json"),
    ("uscc", "string", "统一社会信用代码"),
    ("enterprise_name", "string", "检查对象名称"),
    ("address", "string", "检查对象地址"),
    ("items", "string", "抽查事项"),
    ("check_date", "string (YYYY-MM-DD)", "检查完成日期"),
    ("categories", "string", "检查结果（多项以“；”分隔）"),
    ("hazard_count", "integer", "发现隐患数量"),
    ("follow_up", "string", "后续处置"),
    ("published_at", "string (YYYY-MM-DD)", "公示日期"),
    ("back_entry", "boolean", "是否为检查实施后补录"),
)


def _value(row: RecordRow, name: str) -> Any:
    if name == "record_id":
        return str(row.id)
    if name == "departments":
        return "；".join(d.department_name for d in row.departments)
    if name == "draw_id":
        return str(row.draw_id) if row.draw_id else ""
    if name == "categories":
        return "；".join(row.categories)
    if name == "check_date":
        return row.check_date.isoformat()
    if name == "published_at":
        return row.published_at.date().isoformat()
    return getattr(row, name)


def records(rows: list[RecordRow]) -> list[dict[str, Any]]:
    return [{name: _value(r, name) for name, _, _ in FIELDS} for r in rows]


def to_csv(rows: list[RecordRow]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([name for name, _, _ in FIELDS])
    for r in rows:
        writer.writerow(
            csv_row(
                "true" if v is True else "false" if v is False else v
                for v in (_value(r, n) for n, _, _ in FIELDS)
            )
        )
    return "\ufeff".encode() + buffer.getvalue().encode()


def to_json(region: str, year: int, rows: list[RecordRow]) -> bytes:
    return msgspec.json.encode(
        {
            "schema": SCHEMA_VERSION,
            "licence": LICENCE,
            "region_code": region,
            "year": year,
            "records": records(rows),
        }
    )


def schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of one record, with the licence and the download addresses."""
    kinds = {"integer": "integer", "boolean": "boolean"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_VERSION,
        "title": "双随机、一公开 抽查结果公示记录",
        "description": "每县每年一个文件：/public/open-data/{行政区划代码}/{年度}/results.csv 或 results.json（JSON 的 records 数组）。"
        " CSV 为 UTF-8（带 BOM），首行为字段名；以 =、+、-、@ 开头的文字前加单引号以防表格软件执行公式。",
        "licence": LICENCE,
        "type": "object",
        "required": [name for name, _, _ in FIELDS],
        "properties": {
            name: {"type": kinds.get(kind, "string"), "description": description}
            for name, kind, description in FIELDS
        },
    }
