"""Every API answer has a schema in OpenAPI: the typed service contracts reach the published schema.

A handler that returns a bare dict shows up as an empty schema (``{}``) and clients learn nothing from it; this
test names every such operation. Files (exports, proofs, attachments) are not JSON and are left out.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.stack import AppServer


def _json_schemas(operation: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    found = []
    for status, response in operation.get("responses", {}).items():
        if not status.startswith("2"):
            continue
        for media, content in (response.get("content") or {}).items():
            if "json" in media:
                found.append((status, content.get("schema") or {}))
    return found


def _is_empty(schema: dict[str, Any], components: dict[str, Any]) -> bool:
    if "$ref" in schema:
        return _is_empty(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    if schema.get("type") == "array":
        return _is_empty(schema.get("items") or {}, components)
    if "oneOf" in schema or "anyOf" in schema:
        options = schema.get("oneOf") or schema.get("anyOf") or []
        return any(_is_empty(o, components) for o in options if o.get("type") != "null")
    if schema.get("type") == "object":
        return not schema.get("properties") and not schema.get("additionalProperties")
    return not schema


def test_every_json_answer_of_the_api_has_a_schema(app_server: AppServer) -> None:
    spec = httpx.get(app_server.url + "/schema/openapi.json", timeout=30).json()
    components = spec.get("components", {}).get("schemas", {})
    shapeless = []
    operations = 0
    for path, item in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            operations += 1
            for status, schema in _json_schemas(operation):
                if _is_empty(schema, components):
                    shapeless.append(f"{method.upper()} {path} → {status}")
    assert operations > 80, "the API's operations are missing from the schema"
    assert shapeless == [], "API answers without a schema (return a msgspec Struct):\n" + "\n".join(shapeless)
