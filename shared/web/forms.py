"""Turn submitted HTML forms into the same msgspec structs the API validates, with the same error shape."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from shared.errors import InvalidInput

T = TypeVar("T")


def to_struct(data: dict[str, Any], struct: type[T]) -> T:
    try:
        return msgspec.convert(data, struct, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        located = re.search(r" - at `\$\.?([^`]*)`$", message)
        field = located.group(1) if located else None
        named = re.search(r"(?:unknown|missing required) field `([^`]+)`", message)
        if named:
            field = f"{field}.{named.group(1)}" if field else named.group(1)
        raise InvalidInput(f"填写内容有误：{message}", field=field) from exc


def clean(values: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional inputs so that defaults apply (an empty text box means "not given")."""
    return {k: v for k, v in values.items() if v not in ("", None, [])}
