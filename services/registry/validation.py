"""Field rules of the registry forms and API: the same ``values`` rules the import uses, one rule per field.

Inputs arrive typed (API) or as form strings (pages); each parser accepts both, and a failure names the field in
Chinese (``LABELS``). Codes and numbers are folded as the import folds them (full-width → ASCII), so a record typed
in a form and the same record imported from a file are the same. The result is the validated row as a Struct whose fields are the table's columns.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import Any, TypeVar, cast

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry import repository as repo
from services.registry import values as v
from services.registry.schemas import ObjectStatus
from shared.errors import InvalidInput

T = TypeVar("T")
# Field → value as given: typed by the API schema, or the text (and lists) of a page's form.
Raw = Mapping[str, object]

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


class ObjectFields(msgspec.Struct, kw_only=True):
    uscc: str
    name: str
    address: str
    region_code: str | None
    industry: str
    object_type: str
    tags: list[str]
    major_hazard_level: int | None
    direct_supervision: bool
    risk_class: str | None
    status: str
    licence_no: str
    licence_expiry: date | None


class InspectorFields(msgspec.Struct, kw_only=True):
    name: str
    licence_no: str
    licence_expiry: date
    section_id: uuid.UUID | None
    specialties: list[str]
    qualifications: list[str]
    is_expert: bool
    is_team_leader: bool
    phone: str


class ItemFields(msgspec.Struct, kw_only=True):
    code: str
    name: str
    category: str
    item_type: str
    object_type: str
    check_points: list[str]
    check_methods: list[str]
    legal_basis: str
    subject: str
    ratio_frequency: str
    specialties: list[str]


class RowInvalid(InvalidInput):
    """Every field of a row that failed, at once; as an error it is the first of them (its message and field), so
    API answers keep their shape while the pages show each one beside its input."""

    def __init__(self, errors: list[InvalidInput]) -> None:
        super().__init__(errors[0].message, field=errors[0].field)
        self.errors = errors


_collected: ContextVar[list[InvalidInput] | None] = ContextVar("registry_field_errors", default=None)


@contextmanager
def every_field() -> Iterator[None]:
    """Parse a whole row: ``field`` records each refusal (its value left ``None``) and the block ends by raising
    ``RowInvalid`` with all of them."""
    errors: list[InvalidInput] = []
    token = _collected.set(errors)
    try:
        yield
    finally:
        _collected.reset(token)
    if errors:
        raise RowInvalid(errors)


def field(name: str, parse: Callable[[Any], T], value: object) -> T:
    try:
        return parse(value)
    except ValueError as exc:
        error = InvalidInput(f"{LABELS.get(name, name)}：{exc}", field=name)
        collected = _collected.get()
        if collected is None:
            raise error from None
        collected.append(error)
        return cast(T, None)  # never used: every_field raises when the row is done


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


def _date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    return v.parse_date(value)


def _required_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    parsed = v.parse_date(value, required=True)
    if parsed is None:  # parse_date(required=True) raises instead; this only narrows the type
        raise ValueError("必填")
    return parsed


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


def missing() -> str:
    raise ValueError("必填")


def tag_name(value: Any) -> str:
    name = v.parse_required(value, 40)
    if v.LIST_SEPARATORS.search(name):
        raise ValueError("不能包含分隔符（；;、，,或换行）")
    return name


def object_values(raw: Raw, vocab: dict[str, set[str]]) -> ObjectFields:
    with every_field():
        row = ObjectFields(
            uscc=field("uscc", v.parse_uscc, raw.get("uscc")),
            name=field("name", lambda x: v.parse_required(x, 200), raw.get("name")),
            address=field("address", lambda x: v.parse_optional_text(x, 300), raw.get("address")),
            region_code=field("region_code", v.parse_region, raw.get("region_code")),
            industry=field("industry", _tag_in(vocab, "行业"), raw.get("industry")),
            object_type=field(
                "object_type", lambda x: v.parse_optional_text(x, 20) or "企业", raw.get("object_type")
            ),
            tags=field("tags", _vocab_list(vocab, "分类标注"), raw.get("tags")),
            major_hazard_level=field("major_hazard_level", _hazard, raw.get("major_hazard_level")),
            direct_supervision=field("direct_supervision", _bool(True), raw.get("direct_supervision")),
            risk_class=field(
                "risk_class", lambda x: v.parse_choice(x, v.RISK_CLASSES), raw.get("risk_class")
            ),
            # With a default, parse_choice returns a status or raises; ``or`` only narrows the type.
            status=field(
                "status",
                lambda x: v.parse_choice(x, v.OBJECT_STATUSES, ObjectStatus.OPERATING),
                raw.get("status"),
            )
            or ObjectStatus.OPERATING,
            licence_no=field("licence_no", lambda x: v.parse_optional_text(x, 100), raw.get("licence_no")),
            licence_expiry=field("licence_expiry", _date, raw.get("licence_expiry")),
        )
    return row


async def inspector_values(session: AsyncSession, raw: Raw, vocab: dict[str, set[str]]) -> InspectorFields:
    given = raw.get("section_id")
    section: uuid.UUID | None
    if isinstance(given, str):
        section = field("section_id", lambda x: uuid.UUID(x) if v.clean(x) else None, given)
    else:
        section = given if isinstance(given, uuid.UUID) else None
    if section is not None and not await repo.section_exists(session, section):
        raise InvalidInput("所属股室：不存在", field="section_id")
    with every_field():
        values = InspectorFields(
            name=field("name", lambda x: v.parse_required(x, 50), raw.get("name")),
            licence_no=field("licence_no", lambda x: v.parse_identifier(x, 50), raw.get("licence_no")),
            licence_expiry=field("licence_expiry", _required_date, raw.get("licence_expiry")),
            section_id=section,
            specialties=field("specialties", _vocab_list(vocab, "专业特长"), raw.get("specialties")),
            qualifications=field("qualifications", _vocab_list(vocab, "资质"), raw.get("qualifications")),
            is_expert=field("is_expert", _bool(False), raw.get("is_expert")),
            is_team_leader=field("is_team_leader", _bool(False), raw.get("is_team_leader")),
            phone=field("phone", lambda x: v.parse_optional_text(v.fold(x), 30), raw.get("phone")),
        )
    if raw.get("active", True) and values.licence_expiry < date.today():
        raise InvalidInput("有效期：执法证已过期，在岗人员须持有效执法证", field="licence_expiry")
    return values


def item_values(raw: Raw, vocab: dict[str, set[str]]) -> ItemFields:
    def points(value: Any) -> list[str]:
        return v.split_points(value) if isinstance(value, str) else v.split_points("\n".join(value or []))

    def methods(value: Any) -> list[str]:
        return v.parse_methods(value if isinstance(value, str) else "；".join(value or []))

    def category(value: Any) -> str:
        result = v.parse_choice(value, v.ITEM_CATEGORIES)
        if result is None:
            raise ValueError("必填")
        return result

    with every_field():
        row = ItemFields(
            code=field("code", lambda x: v.parse_identifier(x, 50), raw.get("code")),
            name=field("name", lambda x: v.parse_required(x, 200), raw.get("name")),
            category=field("category", category, raw.get("category")),
            item_type=field("item_type", lambda x: v.parse_optional_text(x, 100), raw.get("item_type")),
            object_type=field("object_type", lambda x: v.parse_optional_text(x, 100), raw.get("object_type")),
            check_points=field("check_points", points, raw.get("check_points")),
            check_methods=field("check_methods", methods, raw.get("check_methods")),
            legal_basis=field(
                "legal_basis", lambda x: v.parse_optional_text(x, 2000), raw.get("legal_basis")
            ),
            subject=field("subject", lambda x: v.parse_optional_text(x, 100), raw.get("subject")),
            ratio_frequency=field(
                "ratio_frequency", lambda x: v.parse_optional_text(x, 200), raw.get("ratio_frequency")
            ),
            specialties=field("specialties", _vocab_list(vocab, "专业特长"), raw.get("specialties")),
        )
    return row
