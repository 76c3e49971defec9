"""Values PostgreSQL cannot store (a NUL character in text, a lone surrogate) are bad input, answered 422 in
Chinese with nothing changed — never a 500 — even where no field-level check catches them yet."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.registry.conftest import api, auth  # noqa: F401 (fixtures)


def test_a_nul_character_is_refused_not_a_server_error(api: httpx.Client, auth: Any) -> None:  # noqa: F811
    admin = auth("scjg-admin")
    name = f"空字符{uuid.uuid4().hex[:4]}"
    tag = api.post("/api/registry/tags", json={"category": "专业特长", "name": name}, headers=admin)
    assert tag.status_code == 201, tag.text
    tag_id = tag.json()["id"]

    renamed = api.patch(f"/api/registry/tags/{tag_id}", json={"name": "a\u0000b"}, headers=admin)
    assert renamed.status_code == 422, renamed.text
    error = renamed.json()["error"]
    assert error["code"] == "invalid" and "空字符" in error["message"]
    tags = api.get("/api/registry/tags", headers=admin).json()
    assert [t["name"] for t in tags if t["id"] == tag_id] == [name]  # nothing changed

    search = api.get("/api/registry/objects", params={"q": "\u0000"}, headers=admin)
    assert search.status_code == 422, search.text
    assert search.json()["error"]["code"] == "invalid"
