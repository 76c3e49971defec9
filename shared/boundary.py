"""The validated boundary: constrained types for every text, number and identifier that comes in.

Every request body (API JSON and page forms alike, both decoded into the same msgspec Structs) declares its text
fields with one of the kinds below, so that the published schema states each limit and msgspec refuses a value before
any service sees it:

- no NUL, no other C0/C1 control character, no DEL (only ``Lines`` kinds keep tab and line breaks);
- a maximum length for the kind of field (codes 40, names 200, notes 2,000 …);
- integers bounded (page numbers, slots, years, counts), decimals finite and checked after normalising.

Structs that take input derive from :class:`Input`: after decoding, every text field is NFC-normalised and trimmed
(a required field that is only spaces is refused). The same rules guard path and query parameters and form bodies in
:mod:`shared.web.boundary`, so that a value no schema declares is refused too.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Annotated, Any

import msgspec

from shared.errors import InvalidInput

# C0 controls, DEL and C1 controls; one-line texts refuse them all, multi-line texts keep tab, LF and CR.
SINGLE_LINE = r"^[^\x00-\x1f\x7f-\x9f]*$"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

MAX_INT = 2**31 - 1  # PostgreSQL's integer


def text(max_length: int, *, min_length: int = 0, lines: bool = False, description: str | None = None) -> Any:
    """The constraint of one kind of text field (use as ``Annotated[str, text(200)]``)."""
    return msgspec.Meta(
        min_length=min_length,
        max_length=max_length,
        pattern=MULTI_LINE if lines else SINGLE_LINE,
        description=description,
    )


# ---- kinds of text ---------------------------------------------------------------------------------------------
# Required kinds (at least one character after trimming):
Code = Annotated[str, text(40, min_length=1, description="编码或证号（不超过40个字符）")]
Uscc = Annotated[str, text(40, min_length=1, description="统一社会信用代码")]
Name = Annotated[str, text(200, min_length=1, description="名称（不超过200个字符）")]
Label = Annotated[str, text(40, min_length=1, description="标签、类别、行业等短词（不超过40个字符）")]
# Optional kinds (may be empty):
Text40 = Annotated[str, text(40, description="短文字（不超过40个字符）")]
Text200 = Annotated[str, text(200, description="一行文字（不超过200个字符）")]
Text1000 = Annotated[str, text(1000, description="一段文字（不超过1000个字符）")]
Reason = Annotated[str, text(500, lines=True, description="理由或说明（不超过500个字符）")]
Note = Annotated[str, text(2000, lines=True, description="备注或描述（不超过2000个字符）")]
Summary = Annotated[str, text(5000, lines=True, description="检查情况等长文字（不超过5000个字符）")]
Keyword = Annotated[str, text(100, description="检索词（不超过100个字符）")]
Entropy = Annotated[str, text(300, description="公开随机源")]

# ---- numbers ---------------------------------------------------------------------------------------------------
Page = Annotated[int, msgspec.Meta(ge=1, le=100_000, description="页码")]
PageSize = Annotated[int, msgspec.Meta(ge=1, le=500, description="每页条数")]
Slot = Annotated[int, msgspec.Meta(ge=0, le=99, description="组内岗位序号")]
Year = Annotated[int, msgspec.Meta(ge=2000, le=2100, description="年度")]
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000, description="数量")]


class Input(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every Struct that carries input: text is NFC-normalised and trimmed once decoded.

    msgspec has already refused control characters and over-long values (the field kinds above); what is left here
    needs the decoded value: normalisation, and "only spaces" for a required text.
    """

    def __post_init__(self) -> None:
        for name, min_length in _text_fields(type(self)):
            value = getattr(self, name)
            if isinstance(value, str):
                cleaned = normalize(value)
                if min_length and not cleaned:
                    raise ValueError(f"`{name}` 不能为空白")
                if cleaned != value:
                    setattr(self, name, cleaned)
            elif isinstance(value, list) and value and isinstance(value[0], str):
                setattr(self, name, [normalize(v) if isinstance(v, str) else v for v in value])


@cache
def _text_fields(cls: type[msgspec.Struct]) -> tuple[tuple[str, int], ...]:
    """(field name, minimum length) of every text or list-of-text field of ``cls``."""
    info = msgspec.inspect.type_info(cls)
    found: list[tuple[str, int]] = []
    for field in getattr(info, "fields", ()):
        kind = _unwrap(field.type)
        if isinstance(kind, msgspec.inspect.UnionType):
            kinds = [_unwrap(t) for t in kind.types if not isinstance(t, msgspec.inspect.NoneType)]
            kind = kinds[0] if len(kinds) == 1 else kind
        if isinstance(kind, msgspec.inspect.StrType):
            found.append((field.name, kind.min_length or 0))
        elif isinstance(kind, (msgspec.inspect.ListType, msgspec.inspect.SetType)) and isinstance(
            _unwrap(kind.item_type), msgspec.inspect.StrType
        ):
            found.append((field.name, 0))
    return tuple(found)


def _unwrap(kind: Any) -> Any:
    return kind.type if isinstance(kind, msgspec.inspect.Metadata) else kind


def normalize(value: str) -> str:
    """NFC and trimmed: what a person typed, in the one form the database compares."""
    return unicodedata.normalize("NFC", value).strip()


def control_character(value: str, *, lines: bool = False) -> str | None:
    """The first forbidden control character of ``value`` (as ``U+0000``), or None."""
    found = (_CONTROL_EXCEPT_LINES if lines else _CONTROL).search(value)
    return None if found is None else f"U+{ord(found.group()):04X}"


def strip_controls(value: str, *, lines: bool = True) -> str:
    """``value`` without its forbidden control characters (for cleaning data stored before the boundary)."""
    return (_CONTROL_EXCEPT_LINES if lines else _CONTROL).sub("", value)


# ---- decimals --------------------------------------------------------------------------------------------------
_PLAIN_DECIMAL = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,12})?")


def parse_decimal(value: str, field: str, *, what: str = "数值") -> Decimal:
    """A plain, finite decimal as people write it ("0.05", "12"): no exponent, no NaN or Infinity, bounded digits —
    checked on the text before any arithmetic, so a range check can never be fooled by normalisation."""
    raw = normalize(unicodedata.normalize("NFKC", value))
    if not _PLAIN_DECIMAL.fullmatch(raw):
        raise InvalidInput(f"{what}格式不正确：{value[:40]!r}，请填写如 0.05 的普通小数", field=field)
    try:
        return Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the pattern admits only valid decimals
        raise InvalidInput(f"{what}格式不正确：{value[:40]!r}", field=field) from exc
