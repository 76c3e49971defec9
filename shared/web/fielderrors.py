"""Errors beside their field, all at once: a form's values checked field by field against the request Struct.

A page form used to stop at the first problem and show it in one banner with the API's key ("class_ratios.A").
Here every field of the Struct is checked on its own (its declared type and constraints, as the API checks it),
so a form shows each problem next to its input at once, in Chinese, with what was typed kept. A refusal of the
service (a ``DomainError`` with ``field=``) is placed the same way. ``aliases`` maps an API field path to the
form input that holds it (``class_ratios.A`` → ``class_A``); index suffixes (``joint_sections[0]``) are dropped.

Templates use the macros of ``_form.html``: ``summary(errors, labels)`` at the top (links to each field),
``field_error(errors, "name")`` under an input and ``invalid(errors, "name")`` inside it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from shared.errors import DomainError, describe_validation

_INDEX = re.compile(r"\[\d+\]")


class FormErrors(msgspec.Struct):
    """What is wrong with a submitted form: by input name, and what belongs to no single input."""

    fields: dict[str, str] = msgspec.field(default_factory=dict)
    general: list[str] = msgspec.field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    @property
    def count(self) -> int:
        return len(self.fields) + len(self.general)

    def add(self, field: str | None, message: str, aliases: Mapping[str, str] | None = None) -> None:
        name = input_of(field, aliases or {})
        if not name:
            if message not in self.general:
                self.general.append(message)
        elif name not in self.fields:
            self.fields[name] = message


def input_of(field: str | None, aliases: Mapping[str, str]) -> str | None:
    """The form input holding an API field path: an alias of the path (or of its longest dotted prefix), else the
    path without list indexes; ``None`` (or an alias to "") when it belongs to no single input."""
    if not field:
        return None
    path = _INDEX.sub("", field)
    parts = path.split(".")
    for end in range(len(parts), 0, -1):
        prefix = ".".join(parts[:end])
        if prefix in aliases:
            return aliases[prefix]
    return path


def check_form(
    values: Mapping[str, Any], struct: type[msgspec.Struct], aliases: Mapping[str, str] | None = None
) -> FormErrors:
    """Every field of ``values`` checked on its own against ``struct``'s declaration (missing required ones too)."""
    errors = FormErrors()
    for info in msgspec.structs.fields(struct):
        name = info.encode_name
        if name not in values:
            if info.required:
                errors.add(name, "必须填写", aliases)
            continue
        value = values[name]
        # A mapping (per-class ratios) is checked key by key: msgspec cannot say which key's value is wrong.
        parts = (
            [(f"{name}.{k}", {k: v}) for k, v in value.items()]
            if isinstance(value, Mapping)
            else [(name, value)]
        )
        for path, part in parts:
            try:
                msgspec.convert(part, info.type, strict=False)
            except msgspec.ValidationError as exc:
                inner, message = describe_validation(str(exc))
                errors.add(path if isinstance(value, Mapping) else _join(name, inner), message, aliases)
    return errors


def _join(name: str, inner: str | None) -> str:
    if not inner:
        return name
    return f"{name}{inner}" if inner.startswith("[") else f"{name}.{inner}"


def error_of(exc: DomainError, aliases: Mapping[str, str] | None = None) -> FormErrors:
    """A service's refusal as form errors, beside the input its ``field`` names."""
    errors = FormErrors()
    errors.add(exc.field, exc.message, aliases)
    return errors


def convert(
    values: Mapping[str, Any], struct: type[msgspec.Struct], aliases: Mapping[str, str] | None = None
) -> tuple[Any, FormErrors]:
    """``values`` as ``struct`` when every field is right, else ``None`` and every problem at once."""
    errors = check_form(values, struct, aliases)
    if errors:
        return None, errors
    try:
        return msgspec.convert(dict(values), struct, strict=False), errors
    except msgspec.ValidationError as exc:  # a rule across fields (the Struct's __post_init__)
        field, message = describe_validation(str(exc))
        errors.add(field, message, aliases)
        return None, errors
