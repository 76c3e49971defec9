"""Every input the API declares has the boundary's limits (issue #15): read from the published OpenAPI schema.

A text field of a request body without a maximum length or without the no-control-character pattern, an integer
without a maximum, or a query/path text without a maximum length is named here, so that a new schema cannot forget
the shared types of ``shared.boundary`` / ``shared.web.params``.
"""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from litestar import Litestar

from shared.app import create_app
from shared.boundary import MULTI_LINE, SINGLE_LINE, Input
from shared.settings import load_settings

ENV = {
    "SPOTCHECK_MODE": "dev",
    "SPOTCHECK_DATABASE_URL": "postgresql://spotcheck@127.0.0.1:1/spotcheck",
    "SPOTCHECK_REDIS_URL": "redis://127.0.0.1:1",
    "SPOTCHECK_OIDC_ISSUER": "http://127.0.0.1:1/realms/county-130528",
}


@pytest.fixture(scope="module")
def app() -> Litestar:
    return create_app(load_settings(ENV))  # building the app connects to nothing


@pytest.fixture(scope="module")
def spec(app: Litestar) -> dict[str, Any]:
    schema: dict[str, Any] = app.openapi_schema.to_schema()
    return schema


def _problems(schema: dict[str, Any], where: str, components: dict[str, Any], seen: set[str]) -> list[str]:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        if name in seen:
            return []
        seen.add(name)
        return _problems(components[name], name, components, seen)
    found: list[str] = []
    outer = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "allOf")}
    for key in ("oneOf", "anyOf", "allOf"):
        for option in schema.get(key, []):
            found += _problems({**outer, **option}, where, components, seen)
    kind = schema.get("type")
    if kind == "object":
        for name, sub in (schema.get("properties") or {}).items():
            found += _problems(sub, f"{where}.{name}", components, seen)
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            found += _problems(extra, f"{where}{{}}", components, seen)
    elif kind == "array":
        found += _problems(schema.get("items") or {}, f"{where}[]", components, seen)
        if "maxItems" not in schema:
            pass  # lists are bounded by the body size limit and by the service (e.g. attachments ≤ 5)
    elif kind == "string" and "enum" not in schema and "format" not in schema and "const" not in schema:
        if "maxLength" not in schema:
            found.append(f"{where}: text without maxLength")
        if "pattern" not in schema:
            found.append(f"{where}: text without a pattern refusing control characters")
    elif kind == "integer" and "maximum" not in schema and "exclusiveMaximum" not in schema:
        found.append(f"{where}: integer without maximum")
    return found


def _body_types(app: Litestar) -> list[Any]:
    """The type of every handler's ``data`` (the JSON body), as msgspec sees it."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            parameter = handler.parsed_fn_signature.parameters.get("data")
            if parameter is not None and isinstance(parameter.annotation, type):
                found.append(parameter.annotation)
    return found


def test_every_request_body_field_is_bounded(app: Litestar) -> None:
    # msgspec's own schema: Litestar's OpenAPI generator drops the constraints of list items.
    types = _body_types(app)
    assert len(types) > 25, "the request bodies were not found"
    (refs, components) = msgspec.json.schema_components(types, ref_template="#/components/schemas/{name}")
    problems: list[str] = []
    for ref in refs:
        problems += _problems(ref, "body", components, set())
    assert sorted(set(problems)) == [], "\n".join(sorted(set(problems)))


def test_every_request_body_is_normalised(app: Litestar) -> None:
    """NFC and trimming happen in ``boundary.Input``; a body Struct that does not derive from it skips them."""
    plain = sorted({t.__qualname__ for t in _body_types(app) if not issubclass(t, Input)})
    assert plain == []


def test_every_query_and_path_parameter_is_bounded(spec: dict[str, Any]) -> None:
    problems = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter["in"] not in ("query", "path"):
                    continue
                schema = parameter.get("schema") or {}
                outer = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}
                for option in schema.get("oneOf") or schema.get("anyOf") or [schema]:
                    option = {**outer, **option}
                    kind = option.get("type")
                    where = f"{method.upper()} {path} {parameter['in']} {parameter['name']}"
                    if kind == "string" and not ({"enum", "format", "const", "maxLength"} & option.keys()):
                        problems.append(f"{where}: text without maxLength")
                    if kind == "integer" and "maximum" not in option:
                        problems.append(f"{where}: integer without maximum")
    assert sorted(set(problems)) == [], "\n".join(sorted(set(problems)))


def test_the_text_patterns_refuse_exactly_the_control_characters() -> None:
    import re

    single, multi = re.compile(SINGLE_LINE), re.compile(MULTI_LINE)
    for ok in ("宁晋县应急管理局", "A&B (1/2)", "＝１", "=1+2", "\u2028", "\ufeff"):
        assert single.match(ok) and multi.match(ok)
    for bad in ("\x00", "a\x07b", "\x1b[0m", "\x7f", "\x85", "\x9f"):
        assert not single.match(bad) and not multi.match(bad), repr(bad)
    for line_break in ("a\nb", "a\r\nb", "a\tb"):
        assert multi.match(line_break) and not single.match(line_break)
