"""Rules of the registries: validation (``validation``, the same ``values`` rules the import uses), uniqueness,
activation, audit. Rows come back as the schemas' Structs.

Inputs arrive typed (API) or as form strings (pages); the field rules accept both, so there is one rule per field.
Another department's row is invisible under RLS, so every lookup by id answers "not found", never "forbidden".
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date
from typing import TypeVar

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository as repo
from services.registry import repository_tags as tags_repo
from services.registry import values as v
from services.registry.schemas import CheckPointRef, InspectorOut, ItemOut, ObjectOut, TagIn, TagOut, TagPatch
from services.registry.validation import (
    Raw,
    field,
    inspector_values,
    item_values,
    missing,
    object_values,
    tag_name,
)
from shared import audit
from shared.context import Principal
from shared.errors import Conflict, Forbidden, InvalidInput, NotFound

NOT_FOUND = {
    "objects": "检查对象不存在",
    "inspectors": "执法检查人员不存在",
    "items": "抽查事项不存在",
    "tags": "标签不存在",
}
Row = ObjectOut | InspectorOut | ItemOut | TagOut
T = TypeVar("T")


def actor_of(principal: Principal) -> audit.Actor:
    return audit.Actor(id=str(principal.user_id), name=principal.name or principal.username)


async def _tenant(session: AsyncSession) -> uuid.UUID:
    tenant = await repo.scope_tenant(session)
    if tenant is None:
        raise Forbidden("请先选择部门（X-Department）", field="X-Department")
    return tenant


def _changes(old: msgspec.Struct | None, new: msgspec.Struct) -> dict[str, object]:
    """The columns of ``new`` that differ from the stored row (all of them for a new row)."""
    columns = msgspec.structs.asdict(new)
    if old is None:
        return columns
    return {k: val for k, val in columns.items() if getattr(old, k, None) != val}


def _audit_data(old: msgspec.Struct | None, changed: Mapping[str, object]) -> dict[str, object]:
    return {k: {"from": getattr(old, k, None), "to": val} for k, val in changed.items()}


def _merge(current: msgspec.Struct | None, patch: msgspec.Struct | Raw) -> dict[str, object]:
    """The stored row overlaid with what was given (a patch's unset fields keep the stored value)."""
    given = (
        dict(patch)
        if isinstance(patch, Mapping)
        else {k: getattr(patch, k) for k in patch.__struct_fields__ if getattr(patch, k) is not msgspec.UNSET}
    )
    return {**(msgspec.structs.asdict(current) if current is not None else {}), **given}


async def _required(found: Awaitable[T | None]) -> T:
    row = await found
    assert row is not None  # written or read by this transaction under the same scope
    return row


# ---- reads ------------------------------------------------------------------------------------------------------
async def get_object(session: AsyncSession, object_id: uuid.UUID) -> ObjectOut:
    row = await repo.get_object(session, object_id)
    if row is None:
        raise NotFound(NOT_FOUND["objects"], field="id")
    return row


async def get_item(session: AsyncSession, item_id: uuid.UUID) -> ItemOut:
    row = await repo.get_item(session, item_id)
    if row is None:
        raise NotFound(NOT_FOUND["items"], field="id")
    return row


async def inspector_detail(session: AsyncSession, inspector_id: uuid.UUID) -> InspectorOut:
    """An inspector with the conflicts of interest they declared."""
    row = await repo.get_inspector(session, inspector_id)
    if row is None:
        raise NotFound(NOT_FOUND["inspectors"], field="id")
    row.conflicts = await repo.conflicts(session, inspector_id)
    return row


# ---- objects ----------------------------------------------------------------------------------------------------
async def save_object(
    session: AsyncSession,
    principal: Principal,
    data: msgspec.Struct | Raw,
    object_id: uuid.UUID | None = None,
) -> ObjectOut:
    tenant = await _tenant(session)
    current = None
    if object_id is not None:
        current = await repo.get_object(session, object_id)
        if current is None:
            raise NotFound(NOT_FOUND["objects"], field="id")
    values = object_values(_merge(current, data), await tags_repo.vocabulary(session))
    if await repo.key_taken(session, "registry_objects", "uscc", values.uscc, object_id):
        raise Conflict(f"统一社会信用代码 {values.uscc} 已在本部门名录库中", field="uscc")
    changed = _changes(current, values)
    if object_id is None:
        object_id = await repo.insert(session, "registry_objects", msgspec.structs.asdict(values))
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
    return await _required(repo.get_object(session, object_id))


# ---- inspectors -------------------------------------------------------------------------------------------------
async def save_inspector(
    session: AsyncSession,
    principal: Principal,
    data: msgspec.Struct | Raw,
    inspector_id: uuid.UUID | None = None,
) -> InspectorOut:
    tenant = await _tenant(session)
    current = None
    if inspector_id is not None:
        current = await repo.get_inspector(session, inspector_id)
        if current is None:
            raise NotFound(NOT_FOUND["inspectors"], field="id")
    values = await inspector_values(session, _merge(current, data), await tags_repo.vocabulary(session))
    if await repo.key_taken(session, "inspectors", "licence_no", values.licence_no, inspector_id):
        raise Conflict(f"执法证号 {values.licence_no} 已存在", field="licence_no")
    changed = _changes(current, values)
    if inspector_id is None:
        inspector_id = await repo.insert(session, "inspectors", msgspec.structs.asdict(values))
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
    return await _required(repo.get_inspector(session, inspector_id))


async def declare_conflict(
    session: AsyncSession, principal: Principal, inspector_id: uuid.UUID, uscc: object, reason: object
) -> None:
    tenant = await _tenant(session)
    if await repo.get_inspector(session, inspector_id) is None:
        raise NotFound(NOT_FOUND["inspectors"], field="id")
    code = field("uscc", v.parse_uscc, uscc)
    text = field("reason", lambda x: v.parse_required(x, 200), reason)
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
async def save_item(
    session: AsyncSession,
    principal: Principal,
    data: msgspec.Struct | Raw,
    item_id: uuid.UUID | None = None,
) -> ItemOut:
    tenant = await _tenant(session)
    current = None
    if item_id is not None:
        current = await repo.get_item(session, item_id)
        if current is None:
            raise NotFound(NOT_FOUND["items"], field="id")
    values = item_values(_merge(current, data), await tags_repo.vocabulary(session))
    if await repo.key_taken(session, "inspection_items", "code", values.code, item_id):
        raise Conflict(f"事项编码 {values.code} 已存在", field="code")
    changed = _changes(current, values)
    row = {k: val for k, val in msgspec.structs.asdict(values).items() if k != "check_points"}
    if item_id is None:
        item_id = await repo.insert(session, "inspection_items", row)
        action = "registry.item.create"
    else:
        await repo.update(
            session, "inspection_items", item_id, {k: x for k, x in changed.items() if k != "check_points"}
        )
        action = "registry.item.update"
    if "check_points" in changed:
        await repo.replace_check_points(session, item_id, values.check_points)
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
    return await _required(repo.get_item(session, item_id))


# ---- activation (all kinds) ---------------------------------------------------------------------------------------
GETTERS: dict[str, Callable[[AsyncSession, uuid.UUID], Awaitable[Row | None]]] = {
    "objects": repo.get_object,
    "inspectors": repo.get_inspector,
    "items": repo.get_item,
    "tags": tags_repo.get_tag,
}


async def set_active(
    session: AsyncSession, principal: Principal, kind: str, row_id: uuid.UUID, active: bool
) -> Row:
    tenant = await _tenant(session)
    current = await GETTERS[kind](session, row_id)
    if current is None or not await repo.exists(session, repo.TABLES[kind], row_id):
        raise NotFound(NOT_FOUND[kind], field="id")
    if (
        isinstance(current, InspectorOut)
        and active
        and current.licence_expiry
        and current.licence_expiry < date.today()
    ):
        raise InvalidInput("有效期：执法证已过期，请先更新有效期再启用", field="licence_expiry")
    if current.active != active:
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
    return await _required(GETTERS[kind](session, row_id))


# ---- tags -------------------------------------------------------------------------------------------------------
async def create_tag(session: AsyncSession, principal: Principal, data: TagIn | Raw) -> TagOut:
    tenant = await _tenant(session)
    raw = data if isinstance(data, Mapping) else msgspec.structs.asdict(data)
    category = field(
        "category", lambda x: v.parse_choice(x, v.TAG_CATEGORIES) or missing(), raw.get("category")
    )
    name = field("name", tag_name, raw.get("name"))
    description = field("description", lambda x: v.parse_optional_text(x, 200), raw.get("description"))
    if name in (await tags_repo.vocabulary_all(session)).get(category, set()):
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
    return await _required(tags_repo.get_tag(session, tag_id))


async def update_tag(
    session: AsyncSession, principal: Principal, tag_id: uuid.UUID, patch: TagPatch | Raw
) -> TagOut:
    tenant = await _tenant(session)
    current = await tags_repo.get_tag(session, tag_id)
    if current is None or not await repo.exists(session, "tags", tag_id):
        raise NotFound(NOT_FOUND["tags"], field="id")
    merged = _merge(current, patch)
    name = field("name", tag_name, merged.get("name"))
    description = field("description", lambda x: v.parse_optional_text(x, 200), merged.get("description"))
    changed = {
        k: val for k, val in (("name", name), ("description", description)) if getattr(current, k) != val
    }
    if "name" in changed:
        if name in (await tags_repo.vocabulary_all(session)).get(current.category, set()):
            raise Conflict(f"标签“{name}”已在“{current.category}”类中", field="name")
        await tags_repo.rename_tag_usage(session, current.category, current.name, name)
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
    return await _required(tags_repo.get_tag(session, tag_id))


async def mark_checked(session: AsyncSession, object_id: uuid.UUID, on: date) -> None:
    """A published check of an enterprise: its last-checked date feeds the "checked within N months" exclusion."""
    await repo.mark_checked(session, object_id, on)


async def check_points(session: AsyncSession, item_ids: list[uuid.UUID]) -> list[CheckPointRef]:
    """The check points of the given items, in item and sequence order."""
    return await repo.check_points_of(session, item_ids)
