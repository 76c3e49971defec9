"""Public registers planted straight into the tables (as the owner), for the public site's tests: a department of its
own (a code no other test uses), its published records of one year and its draws, one of them voided."""

from __future__ import annotations

import datetime as dt
import json
import secrets
import uuid
from dataclasses import dataclass, field
from typing import Any

import asyncpg

from services.disclosure import search
from shared.db import asyncpg_dsn
from tests.support.services import run

CHINA = dt.timezone(dt.timedelta(hours=8))


def uscc() -> str:
    """A valid-looking USCC no other test uses."""
    return "91" + "".join(secrets.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(16))


@dataclass
class Planted:
    year: int
    code: str
    name: str
    records: list[dict[str, Any]] = field(default_factory=list)
    draws: list[dict[str, Any]] = field(default_factory=list)
    published_uscc: str = ""  # published in task A, drawn again in task B (not published there)
    drawn_only_uscc: str = ""  # drawn in task B only
    voided_uscc: str = ""  # drawn only by a voided draw
    task_a: uuid.UUID = field(default_factory=uuid.uuid4)
    task_b: uuid.UUID = field(default_factory=uuid.uuid4)
    name_stem: str = ""


def _record(
    p: Planted,
    task: uuid.UUID,
    code: str,
    name: str,
    check: dt.date,
    published: dt.datetime,
    categories: list[str],
    back_entry: bool = False,
) -> dict[str, Any]:
    return {
        "id": uuid.uuid4(),
        "task_id": task,
        "draw_id": None,
        "department_code": p.code,
        "department_name": p.name,
        "region_code": "130528",
        "plan_number": f"{p.year}-公示-1",
        "plan_name": "公示测试计划",
        "task_number": "1",
        "task_name": "公示测试任务",
        "uscc": code,
        "enterprise_name": name,
        "name_key": search.normalise(name),
        "name_grams": search.name_grams(name),
        "address": "测试地址",
        "items": "测试事项",
        "check_date": check,
        "categories": categories,
        "hazard_count": 0,
        "follow_up": "无需后续处置",
        "published_at": published,
        "back_entry": back_entry,
    }


def _draw(
    p: Planted, task: uuid.UUID, status: str, drawn: dt.datetime, names: dict[str, str]
) -> dict[str, Any]:
    return {
        "draw_id": uuid.uuid4(),
        "task_id": task,
        "department_code": p.code,
        "department_name": p.name,
        "region_code": "130528",
        "plan_number": f"{p.year}-公示-1",
        "plan_name": "公示测试计划",
        "task_number": "2",
        "protocol_task_number": f"{p.code}-2",
        "task_name": "公示测试任务二",
        "status": status,
        "ratios": json.dumps({"全部": "0.05"}),
        "population_hash": "0" * 64,
        "eligible_count": 100,
        "commitment": "1" * 64,
        "entropy_source": "无",
        "announced_at": drawn - dt.timedelta(days=3),
        "drawn_at": drawn,
        "selected_count": len(names),
        "selected": json.dumps({"全部": list(names)}),
        "selected_objects": json.dumps(
            [
                {"stratum": "全部", "rank": i, "uscc": u, "name": n}
                for i, (u, n) in enumerate(names.items(), 1)
            ]
        ),
        "voided_at": drawn + dt.timedelta(days=1) if status == "已作废" else None,
        "void_reason": "测试作废" if status == "已作废" else None,
    }


def plant(db_urls: dict[str, str], year: int) -> Planted:
    """25 published records of ``year`` (21 未发现问题, 4 发现问题已责令改正; 3 published late, 1 back-entered), a
    drawn draw of 3 enterprises (one of them also published in task A) and a voided draw of one more."""
    stem = "公示" + secrets.token_hex(2).upper()
    p = Planted(
        year=year,
        code=f"99{secrets.randbelow(10**4):04d}-pub{secrets.token_hex(2)}",
        name=f"测试县{stem}监督局",
        name_stem=stem,
    )
    p.published_uscc, p.drawn_only_uscc, p.voided_uscc = uscc(), uscc(), uscc()
    for i in range(25):
        code = p.published_uscc if i == 0 else uscc()
        check = dt.date(year, 3, 2 + i)
        late = i in (3, 4, 5)
        published = dt.datetime.combine(check + dt.timedelta(days=60 if late else 7), dt.time(10), CHINA)
        categories = ["发现问题已责令改正"] if i % 6 == 1 else ["未发现问题"]
        p.records.append(
            _record(
                p,
                p.task_a,
                code,
                f"{stem}测试企业{i:02d}有限公司",
                check,
                published,
                categories,
                back_entry=i == 7,
            )
        )
    drawn = dt.datetime(year, 5, 6, 9, tzinfo=CHINA)
    p.draws.append(
        _draw(
            p,
            p.task_b,
            "已抽取",
            drawn,
            {
                p.published_uscc: p.records[0]["enterprise_name"],
                p.drawn_only_uscc: f"{stem}抽中待查有限公司",
                uscc(): f"{stem}另一家有限公司",
            },
        )
    )
    p.draws.append(_draw(p, uuid.uuid4(), "已作废", drawn, {p.voided_uscc: f"{stem}作废抽取有限公司"}))
    run(_insert, db_urls["admin"], p)
    return p


async def _insert(url: str, p: Planted) -> None:
    conn = await asyncpg.connect(asyncpg_dsn(url))
    try:
        for table, rows in (("public_results", p.records), ("public_draws", p.draws)):
            columns = list(rows[0])
            casts = {"ratios": "::jsonb", "selected": "::json", "selected_objects": "::json"}
            values = ", ".join(f"${i}{casts.get(c, '')}" for i, c in enumerate(columns, 1))
            await conn.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})",
                [tuple(r[c] for c in columns) for r in rows],
            )
    finally:
        await conn.close()
