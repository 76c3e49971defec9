"""Rules of the registries: validation (the same ``values`` rules the import uses), uniqueness, audit.

Inputs arrive typed (API) or as form strings (pages); ``_field`` accepts both, so there is one rule per field.
Another department's row is invisible under RLS, so every lookup by id answers "not found", never "forbidden".
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from typing import Any

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository as repo
from services.registry import values as v
from services.registry.importer_kinds import split_points
from shared import audit
from shared.context import Principal
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

LABELS = {
    "uscc": "统一社会信用代码",
    "name": "名称",
    "industry": "行业",
    "address": "地址",
    "region_code": "行政区划代码",
    "object_type": "对象类型",
    "tags": "分类标注",
    "major_hazard_level": "重大危险源等级",
    "direct_supervision": "是否直接监管",
    "risk_class": "信用风险分类",
    "status": "经营状态",
    "licence_no": "证号",
    "licence_expiry": "有效期",
    "section_id": "所属股室",
    "specialties": "专业特长",
    "qualifications": "资质",
    "is_expert": "是否专家",
    "is_team_leader": "可任组长",
    "phone": "联系电话",
    "code": "事项编码",
    "category": "类别",
    "item_type": "事项类别",
    "check_points": "抽查内容",
    "check_methods": "检查方式",
    "legal_basis": "检查依据",
    "subject": "检查主体",
    "ratio_frequency": "抽查比例和频次",
    "reason": "原因",
    "description": "说明",
}
NOT_FOUND = {
    "objects": "检查对象不存在",
    "inspectors": "执法检查人员不存在",
    "items": "抽查事项不存在",
    "tags": "标签不存在",
}


def actor_of(principal: Principal) -> audit.Actor:
    return audit.Actor(id=str(principal.user_id), name=principal.name or principal.username)


async def _tenant(session: AsyncSession) -> uuid.UUID:
    tenant = await repo.scope_tenant(session)
    if tenant is None:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")
    return tenant


def _field(name: str, parse: Callable[[Any], Any], value: Any) -> Any:
    try:
        return parse(value)
    except ValueError as exc:
        raise InvalidInput(f"{LABELS.get(name, name)}：{exc}", field=name) from None


def _as_list(value: Any) -> list[str]:
    if isinstance(value, str):
        return v.split_list(value)
    return [v.clean(str(x)) for x in value or [] if v.clean(str(x))]


def _vocab_list(vocab: dict[str, set[str]], category: str) -> Callable[[Any], list[str]]:
    def parse(value: Any) -> list[str]:
        items = list(dict.fromkeys(_as_list(value)))
        unknown = [x for x in items if x not in vocab.get(category, set())]
        if unknown:
            raise ValueError(f"“{'、'.join(unknown)}”不在本部门标签字库（{category}）中")
        return items

    return parse


def _date(required: bool = False) -> Callable[[Any], date | None]:
    def parse(value: Any) -> date | None:
        if isinstance(value, date):
            return value
        return v.parse_date(value, required=required)

    return parse


def _bool(default: bool) -> Callable[[Any], bool]:
    def parse(value: Any) -> bool:
        return value if isinstance(value, bool) else v.parse_bool(value, default)

    return parse


def _hazard(value: Any) -> int | None:
    if value is None or isinstance(value, int):
        if value is not None and not 1 <= value <= 4:
            raise ValueError("应为1～4级")
        return value
    return v.parse_hazard_level(value)


def _tag_in(vocab: dict[str, set[str]], category: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        name = v.parse_required(value, 40)
        if name not in vocab.get(category, set()):
            raise ValueError(f"“{name}”不在本部门标签字库（{category}）中")
        return name

    return parse


def _changes(old: dict[str, Any] | None, new: dict[str, Any]) -> dict[str, Any]:
    if old is None:
        return dict(new)
    return {k: val for k, val in new.items() if old.get(k) != val}


def _audit_data(old: dict[str, Any] | None, changed: dict[str, Any]) -> dict[str, Any]:
    return {k: {"from": (old or {}).get(k), "to": val} for k, val in changed.items()}


def _merge(current: dict[str, Any] | None, patch: msgspec.Struct | dict[str, Any]) -> dict[str, Any]:
    given = (
        patch
        if isinstance(patch, dict)
        else {k: getattr(patch, k) for k in patch.__struct_fields__ if getattr(patch, k) is not msgspec.UNSET}
    )
    return {**(current or {}), **given}


# ---- objects ----------------------------------------------------------------------------------------------------
def object_values(raw: dict[str, Any], vocab: dict[str, set[str]]) -> dict[str, Any]:
    return {
        "uscc": _field("uscc", v.parse_uscc, raw.get("uscc")),
        "name": _field("name", lambda x: v.parse_required(x, 200), raw.get("name")),
        "address": _field("address", lambda x: v.parse_optional_text(x, 300), raw.get("address")),
        "region_code": _field("region_code", v.parse_region, raw.get("region_code")),
        "industry": _field("industry", _tag_in(vocab, "行业"), raw.get("industry")),
        "object_type": _field(
            "object_type", lambda x: v.parse_optional_text(x, 20) or "企业", raw.get("object_type")
        ),
        "tags": _field("tags", _vocab_list(vocab, "分类标注"), raw.get("tags")),
        "major_hazard_level": _field("major_hazard_level", _hazard, raw.get("major_hazard_level")),
        "direct_supervision": _field("direct_supervision", _bool(True), raw.get("direct_supervision")),
        "risk_class": _field(
            "risk_class", lambda x: v.parse_choice(x, v.RISK_CLASSES), raw.get("risk_class")
        ),
        "status": _field("status", lambda x: v.parse_choice(x, v.OBJECT_STATUSES, "在营"), raw.get("status")),
        "licence_no": _field("licence_no", lambda x: v.parse_optional_text(x, 100), raw.get("licence_no")),
        "licence_expiry": _field("licence_expiry", _date(), raw.get("licence_expiry")),
    }


async def save_object(
    session: AsyncSession,
    principal: Principal,
    data: msgspec.Struct | dict[str, Any],
    object_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    tenant = await _tenant(session)
    current = None
    if object_id is not None:
        current = await repo.get_object(session, object_id)
        if current is None:
            raise NotFound(NOT_FOUND["objects"], field="id")
    values = object_values(_merge(current, data), await repo.vocabulary(session))
    if await repo.key_taken(session, "registry_objects", "uscc", values["uscc"], object_id):
        raise Conflict(f"统一社会信用代码 {values['uscc']} 已在本部门名录库中", field="uscc")
    changed = _changes(current, values)
    if object_id is None:
        object_id = await repo.insert(session, "registry_objects", values)
        action = "registry.object.create"
    else:
        await repo.update(session, "registry_objects", object_id, changed)
        action = "registry.object.update"
    if changed:
        await audit.record(
            session,
            tenant,
            actor_of(principal),
            action,
            "registry_object",
            object_id,
            _audit_data(current, changed),
        )
    return await repo.get_object(session, object_id) or {}


# ---- inspectors -------------------------------------------------------------------------------------------------
async def inspector_values(
    session: AsyncSession, raw: dict[str, Any], vocab: dict[str, set[str]]
) -> dict[str, Any]:
    section = raw.get("section_id")
    if isinstance(section, str):
        section = _field("section_id", lambda x: uuid.UUID(x) if v.clean(x) else None, section)
    if section is not None and not await repo.section_exists(session, section):
        raise InvalidInput("所属股室：不存在", field="section_id")
    values = {
        "name": _field("name", lambda x: v.parse_required(x, 50), raw.get("name")),
        "licence_no": _field("licence_no", lambda x: v.parse_required(x, 50), raw.get("licence_no")),
        "licence_expiry": _field("licence_expiry", _date(required=True), raw.get("licence_expiry")),
        "section_id": section,
        "specialties": _field("specialties", _vocab_list(vocab, "专业特长"), raw.get("specialties")),
        "qualifications": _field("qualifications", _vocab_list(vocab, "资质"), raw.get("qualifications")),
        "is_expert": _field("is_expert", _bool(False), raw.get("is_expert")),
        "is_team_leader": _field("is_team_leader", _bool(False), raw.get("is_team_leader")),
        "phone": _field("phone", lambda x: v.parse_optional_text(x, 30), raw.get("phone")),
    }
    if raw.get("active", True) and values["licence_expiry"] < date.today():
        raise InvalidInput("有效期：执法证已过期，在岗人员须持有效执法证", field="licence_expiry")
    return values


async def save_inspector(
    session: AsyncSession,
    principal: Principal,
    data: msgspec.Struct | dict[str, Any],
    inspector_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    tenant = await _tenant(session)
    current = None
    if inspector_id is not None:
        current = await repo.get_inspector(session, inspector_id)
        if current is None:
            raise NotFound(NOT_FOUND["inspectors"], field="id")
    values = await inspector_values(session, _merge(current, data), await repo.vocabulary(session))
    if await repo.key_taken(session, "inspectors", "licence_no", values["licence_no"], inspector_id):
        raise Conflict(f"执法证号 {values['licence_no']} 已存在", field="licence_no")
    changed = _changes(current, values)
    if inspector_id is None:
        inspector_id = await repo.insert(session, "inspectors", values)
        action = "registry.inspector.create"
    else:
        await repo.update(session, "inspectors", inspector_id, changed)
        action = "registry.inspector.update"
    if changed:
        await audit.record(
            session,
            tenant,
            actor_of(principal),
            action,
            "inspector",
            inspector_id,
            _audit_data(current, changed),
        )
    return await repo.get_inspector(session, inspector_id) or {}


async def declare_conflict(
    session: AsyncSession, principal: Principal, inspector_id: uuid.UUID, uscc: Any, reason: Any
) -> None:
    tenant = await _tenant(session)
    if await repo.get_inspector(session, inspector_id) is None:
        raise NotFound(NOT_FOUND["inspectors"], field="id")
    code = _field("uscc", v.parse_uscc, uscc)
    text = _field("reason", lambda x: v.parse_required(x, 200), reason)
    await repo.add_conflict(session, inspector_id, code, text)
    await audit.record(
        session,
        tenant,
        actor_of(principal),
        "registry.inspector.conflict_declared",
        "inspector",
        inspector_id,
        {"uscc": code, "reason": text},
    )


async def withdraw_conflict(
    session: AsyncSession, principal: Principal, inspector_id: uuid.UUID, uscc: str
) -> None:
    tenant = await _tenant(session)
    if await repo.get_inspector(session, inspector_id) is None:
        raise NotFound(NOT_FOUND["inspectors"], field="id")
    if not await repo.remove_conflict(session, inspector_id, uscc):
        raise NotFound("该人员未申报与此企业的利害关系", field="uscc")
    await audit.record(
        session,
        tenant,
        actor_of(principal),
        "registry.inspector.conflict_withdrawn",
        "inspector",
        inspector_id,
        {"uscc": uscc},
    )


# ---- items ------------------------------------------------------------------------------------------------------
def item_values(raw: dict[str, Any], vocab: dict[str, set[str]]) -> dict[str, Any]:
    def points(value: Any) -> list[str]:
        return split_points(value) if isinstance(value, str) else split_points("\n".join(value or []))

    def methods(value: Any) -> list[str]:
        return v.parse_methods(value if isinstance(value, str) else "；".join(value or []))

    def category(value: Any) -> str:
        result = v.parse_choice(value, v.ITEM_CATEGORIES)
        if result is None:
            raise ValueError("必填")
        return result

    return {
        "code": _field("code", lambda x: v.parse_required(x, 50), raw.get("code")),
        "name": _field("name", lambda x: v.parse_required(x, 200), raw.get("name")),
        "category": _field("category", category, raw.get("category")),
        "item_type": _field("item_type", lambda x: v.parse_optional_text(x, 100), raw.get("item_type")),
        "object_type": _field("object_type", lambda x: v.parse_optional_text(x, 100), raw.get("object_type")),
        "check_points": _field("check_points", points, raw.get("check_points")),
        "check_methods": _field("check_methods", methods, raw.get("check_methods")),
        "legal_basis": _field(
            "legal_basis", lambda x: v.parse_optional_text(x, 2000), raw.get("legal_basis")
        ),
        "subject": _field("subject", lambda x: v.parse_optional_text(x, 100), raw.get("subject")),
        "ratio_frequency": _field(
            "ratio_frequency", lambda x: v.parse_optional_text(x, 200), raw.get("ratio_frequency")
        ),
        "specialties": _field("specialties", _vocab_list(vocab, "专业特长"), raw.get("specialties")),
    }


async def save_item(
    session: AsyncSession,
    principal: Principal,
    data: msgspec.Struct | dict[str, Any],
    item_id: uuid.UUID | None = None,
) -> dict[str, Any]:
    tenant = await _tenant(session)
    current = None
    if item_id is not None:
        current = await repo.get_item(session, item_id)
        if current is None:
            raise NotFound(NOT_FOUND["items"], field="id")
    values = item_values(_merge(current, data), await repo.vocabulary(session))
    if await repo.key_taken(session, "inspection_items", "code", values["code"], item_id):
        raise Conflict(f"事项编码 {values['code']} 已存在", field="code")
    changed = _changes(current, values)
    row = {k: val for k, val in values.items() if k != "check_points"}
    if item_id is None:
        item_id = await repo.insert(session, "inspection_items", row)
        action = "registry.item.create"
    else:
        await repo.update(
            session, "inspection_items", item_id, {k: x for k, x in changed.items() if k != "check_points"}
        )
        action = "registry.item.update"
    if "check_points" in changed:
        await repo.replace_check_points(session, item_id, values["check_points"])
    if changed:
        await audit.record(
            session,
            tenant,
            actor_of(principal),
            action,
            "inspection_item",
            item_id,
            _audit_data(current, changed),
        )
    return await repo.get_item(session, item_id) or {}


# ---- activation (all kinds) ---------------------------------------------------------------------------------------
GETTERS = {
    "objects": repo.get_object,
    "inspectors": repo.get_inspector,
    "items": repo.get_item,
    "tags": repo.get_tag,
}


async def set_active(
    session: AsyncSession, principal: Principal, kind: str, row_id: uuid.UUID, active: bool
) -> dict[str, Any]:
    tenant = await _tenant(session)
    current = await GETTERS[kind](session, row_id)
    if current is None or not await repo.exists(session, repo.TABLES[kind], row_id):
        raise NotFound(NOT_FOUND[kind], field="id")
    if (
        kind == "inspectors"
        and active
        and current["licence_expiry"]
        and current["licence_expiry"] < date.today()
    ):
        raise InvalidInput("有效期：执法证已过期，请先更新有效期再启用", field="licence_expiry")
    if current["active"] != active:
        await repo.update(session, repo.TABLES[kind], row_id, {"active": active})
        await audit.record(
            session,
            tenant,
            actor_of(principal),
            f"registry.{kind}.{'activate' if active else 'deactivate'}",
            kind,
            row_id,
            {},
        )
    return await GETTERS[kind](session, row_id) or {}


# ---- tags -------------------------------------------------------------------------------------------------------
def _tag_name(value: Any) -> str:
    name = v.parse_required(value, 40)
    if v.LIST_SEPARATORS.search(name):
        raise ValueError("不能包含分隔符（；;、，,或换行）")
    return name


async def create_tag(session: AsyncSession, principal: Principal, data: Any) -> dict[str, Any]:
    tenant = await _tenant(session)
    raw = data if isinstance(data, dict) else msgspec.structs.asdict(data)
    category = _field(
        "category", lambda x: v.parse_choice(x, v.TAG_CATEGORIES) or _missing(), raw.get("category")
    )
    name = _field("name", _tag_name, raw.get("name"))
    description = _field("description", lambda x: v.parse_optional_text(x, 200), raw.get("description"))
    if name in (await repo.vocabulary_all(session)).get(category, set()):
        raise Conflict(f"标签“{name}”已在“{category}”类中", field="name")
    tag_id = await repo.insert(
        session, "tags", {"category": category, "name": name, "description": description}
    )
    await audit.record(
        session,
        tenant,
        actor_of(principal),
        "registry.tag.create",
        "tag",
        tag_id,
        {"category": category, "name": name},
    )
    return await repo.get_tag(session, tag_id) or {}


async def update_tag(
    session: AsyncSession, principal: Principal, tag_id: uuid.UUID, patch: Any
) -> dict[str, Any]:
    tenant = await _tenant(session)
    current = await repo.get_tag(session, tag_id)
    if current is None or not await repo.exists(session, "tags", tag_id):
        raise NotFound(NOT_FOUND["tags"], field="id")
    merged = _merge(current, patch)
    name = _field("name", _tag_name, merged.get("name"))
    description = _field("description", lambda x: v.parse_optional_text(x, 200), merged.get("description"))
    changed = _changes(current, {"name": name, "description": description})
    if "name" in changed:
        if name in (await repo.vocabulary_all(session)).get(current["category"], set()):
            raise Conflict(f"标签“{name}”已在“{current['category']}”类中", field="name")
        await repo.rename_tag_usage(session, current["category"], current["name"], name)
    if changed:
        await repo.update(session, "tags", tag_id, changed)
        await audit.record(
            session,
            tenant,
            actor_of(principal),
            "registry.tag.update",
            "tag",
            tag_id,
            _audit_data(current, changed),
        )
    return await repo.get_tag(session, tag_id) or {}


def _missing() -> str:
    raise ValueError("必填")


async def mark_checked(session: AsyncSession, object_id: uuid.UUID, on: date) -> None:
    """A published check of an enterprise: its last-checked date feeds the "checked within N months" exclusion."""
    await repo.mark_checked(session, object_id, on)
