"""Turn submitted HTML forms into the same msgspec structs the API validates, with the same error shape."""

from __future__ import annotations

from typing import Any, TypeVar

import msgspec

from shared.errors import InvalidInput, describe_validation

T = TypeVar("T")


def to_struct(data: dict[str, Any], struct: type[T]) -> T:
    try:
        return msgspec.convert(data, struct, strict=False)
    except msgspec.ValidationError as exc:
        field, message = describe_validation(str(exc))
        raise InvalidInput(message, field=field) from exc


def clean(values: dict[str, Any]) -> dict[str, Any]:
    """Drop empty optional inputs so that defaults apply (an empty text box means "not given")."""
    return {k: v for k, v in values.items() if v not in ("", None, [])}
