"""What each registry's import checks: the key, the low-cardinality columns, the free-text columns, cross rules."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

import asyncpg

from services.registry import values as v
from services.registry.columns import Kind
from services.registry.imports import merge
from services.registry.schemas import ObjectStatus


@dataclass
class Context:
    """The department's vocabulary, loaded once per import (RLS limits it to the scope's department)."""

    tags: dict[str, set[str]]
    sections: dict[str, uuid.UUID]  # name and code → id


async def load_context(conn: asyncpg.Connection) -> Context:
    tags: dict[str, set[str]] = {c: set() for c in v.TAG_CATEGORIES}
    for r in await conn.fetch("SELECT category, name FROM tags WHERE active"):
        tags[r["category"]].add(r["name"])
    sections: dict[str, uuid.UUID] = {}
    for r in await conn.fetch("SELECT id, code, name FROM sections WHERE active"):
        sections[r["name"]] = r["id"]
        sections[r["code"]] = r["id"]
    return Context(tags, sections)


@dataclass(frozen=True)
class DistinctRule:
    parse: Callable[[str], Any]
    sql_type: str  # text | text[] | date | smallint | boolean | uuid
    # For values ``parse`` accepts, an SQL expression over ``{c}`` (the raw cell, trimmed as ``{t}``) giving the same
    # value. A trim alone is cheaper than joining a map table over a million rows; anything more (upper(), a list of
    # words) costs more than the join, so such columns are mapped.
    inline: str | None = None

    def to_sql_text(self, value: Any) -> str | None:
        if value is None:
            return None
        if self.sql_type == "text[]":
            return "\x1f".join(value)
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def sql_cast(self, column: str) -> str:
        if self.sql_type == "text[]":
            return f"string_to_array({column}, E'\\x1f')"
        return f"{column}::{self.sql_type}"


@dataclass(frozen=True)
class KindSpec:
    kind: Kind
    parse_key: Callable[[str], str]
    key_suspects: Callable[[list[str]], Iterable[int]]
    distinct_rules: Callable[[Context], dict[str, DistinctRule]]
    text_rules: dict[str, tuple[bool, int]]  # key → (required, max length)
    cross_checks_sql: str  # returns (row_no, column key, reason, value) from {norm}
    merge: Callable[[asyncpg.Connection, str, bool], Awaitable[tuple[int, int, int]]]
    scientific: tuple[str, ...] = ()  # text columns of numbers where Excel's 1.3E+12 is refused
    width_folded: tuple[str, ...] = ()  # text columns of numbers stored NFKC-folded (full-width digits)


def _plain_key(max_length: int) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        return v.parse_identifier(raw, max_length)

    return parse


def _plain_suspects(keys: list[str]) -> list[int]:
    """Keys that may not be in their stored form: blank, padded, too long, full-width, or Excel's 1.3E+12."""
    return [
        i
        for i, k in enumerate(keys)
        if not k or k != k.strip(v.TRIM) or len(k) > 50 or not k.isascii() or "E+" in k or "e+" in k
    ]


def _vocabulary(context: Context, category: str, label: str) -> Callable[[str], list[str]]:
    def parse(raw: str) -> list[str]:
        return v.parse_tags(raw, context.tags[category], label)

    return parse


def _single_tag(context: Context, category: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = v.clean(raw)
        if not value:
            raise ValueError("必填")
        if value not in context.tags[category]:
            raise ValueError(f"{category}“{value}”不在本部门标签字库中")
        return value

    return parse


def _object_rules(context: Context) -> dict[str, DistinctRule]:
    return {
        "region_code": DistinctRule(v.parse_region, "text", "nullif({t}, '')"),
        "industry": DistinctRule(_single_tag(context, "行业"), "text", "{t}"),
        "object_type": DistinctRule(
            lambda raw: v.parse_optional_text(raw, 20) or "企业", "text", "coalesce(nullif({t}, ''), '企业')"
        ),
        "tags": DistinctRule(_vocabulary(context, "分类标注", "分类标注"), "text[]"),
        "hazard_level": DistinctRule(v.parse_hazard_level, "smallint"),
        "direct": DistinctRule(lambda raw: v.parse_bool(raw, True), "boolean"),
        "risk_class": DistinctRule(lambda raw: v.parse_choice(raw, v.RISK_CLASSES), "text"),
        "status": DistinctRule(
            lambda raw: v.parse_choice(raw, v.OBJECT_STATUSES, ObjectStatus.OPERATING),
            "text",
            "coalesce(nullif({t}, ''), '在营')",
        ),
        "licence_expiry": DistinctRule(v.parse_date, "date"),
    }


def parse_section(context: Context) -> Callable[[str], uuid.UUID | None]:
    def parse(raw: str) -> uuid.UUID | None:
        value = v.clean(raw)
        if not value:
            return None
        if value not in context.sections:
            raise ValueError(f"股室“{value}”不存在，应为本部门的股室名称")
        return context.sections[value]

    return parse


def parse_conflicts(raw: str) -> list[str]:
    codes = []
    for part in v.split_list(raw):
        try:
            codes.append(v.parse_uscc(part))
        except ValueError as exc:
            raise ValueError(f"“{part}”不是有效的统一社会信用代码：{exc}") from None
    return sorted(set(codes))


def _inspector_rules(context: Context) -> dict[str, DistinctRule]:
    return {
        "section": DistinctRule(parse_section(context), "uuid"),
        "licence_expiry": DistinctRule(lambda raw: v.parse_date(raw, required=True), "date"),
        "specialties": DistinctRule(_vocabulary(context, "专业特长", "专业特长"), "text[]"),
        "qualifications": DistinctRule(_vocabulary(context, "资质", "资质"), "text[]"),
        "is_expert": DistinctRule(lambda raw: v.parse_bool(raw, False), "boolean"),
        "is_team_leader": DistinctRule(lambda raw: v.parse_bool(raw, False), "boolean"),
        "conflicts": DistinctRule(parse_conflicts, "text[]"),
        "status": DistinctRule(
            lambda raw: v.parse_choice(raw, v.INSPECTOR_STATUSES, "在岗") == "在岗", "boolean"
        ),
    }


def _item_rules(context: Context) -> dict[str, DistinctRule]:
    return {
        "category": DistinctRule(lambda raw: v.parse_choice(raw, v.ITEM_CATEGORIES) or _missing(), "text"),
        "check_points": DistinctRule(v.split_points, "text[]"),
        "check_methods": DistinctRule(v.parse_methods, "text[]"),
        "specialties": DistinctRule(_vocabulary(context, "专业特长", "所需专业"), "text[]"),
    }


def _missing() -> str:
    raise ValueError("必填")


_EXPIRED = (
    "SELECT row_no, 'licence_expiry', '执法证已于' || to_char(licence_expiry, 'YYYY-MM-DD') || "
    "'过期：在岗人员须持有效执法证（更新有效期，或将人员状态填为“停用”）', to_char(licence_expiry, 'YYYY-MM-DD') "
    "FROM {norm} AS x WHERE status AND licence_expiry < current_date "
    # An inspector the registry already holds as active with this very expiry is accepted unchanged (export →
    # import is an identity); only a file that newly asserts an expired licence as 在岗 is refused.
    "AND NOT EXISTS (SELECT 1 FROM inspectors o WHERE o.tenant_id = app_tenant() AND o.licence_no = x.key "
    "AND o.active AND o.licence_expiry = x.licence_expiry) ORDER BY row_no LIMIT 1000"
)

SPECS: dict[Kind, KindSpec] = {
    "objects": KindSpec(
        kind="objects",
        parse_key=v.parse_uscc,
        key_suspects=lambda keys: v.uscc_suspects(keys).tolist(),
        distinct_rules=_object_rules,
        text_rules={"name": (True, 200), "address": (False, 300), "licence_no": (False, 100)},
        cross_checks_sql="",
        merge=merge.merge_objects,
        scientific=("licence_no",),
    ),
    "inspectors": KindSpec(
        kind="inspectors",
        parse_key=_plain_key(50),
        key_suspects=_plain_suspects,
        distinct_rules=_inspector_rules,
        text_rules={"name": (True, 50), "phone": (False, 30)},
        cross_checks_sql=_EXPIRED,
        merge=merge.merge_inspectors,
        scientific=("phone",),
        width_folded=("phone",),
    ),
    "items": KindSpec(
        kind="items",
        parse_key=_plain_key(50),
        key_suspects=_plain_suspects,
        distinct_rules=_item_rules,
        text_rules={
            "name": (True, 200),
            "item_type": (False, 100),
            "object_type": (False, 100),
            "legal_basis": (False, 2000),
            "subject": (False, 100),
            "ratio_frequency": (False, 200),
        },
        cross_checks_sql="",
        merge=merge.merge_items,
    ),
}
