"""Hostile and careless values in every input of every operation: never a 5xx, every refusal in Chinese (issue #15).

Schemathesis generates one valid-looking request per operation (derandomized); each of its path parameters, query
parameters and JSON body fields (top level and one level down) is then replaced in turn by a value from the classes
the input sweep found: NUL and other control characters, very long text, lone surrogates, spreadsheet formulas,
huge and negative integers, NaN/Infinity and exponent decimals. Bounded: one mutation per field and class, rotating
through the values of the class, so the whole sweep runs in CI on every change.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.support.stack import SSO, AppServer

USER, DEPARTMENT = "yjj-planner", "130528-yjj"

NASTY_TEXT = [
    "\x00",
    "前\x00后",
    "\x07\x1b[31m红\x7f",
    "\u0085\u009f",
    "字" * 100_001,
    "\ud800",  # a lone surrogate: sent as the JSON escape, cannot be stored as UTF-8
    '=HYPERLINK("http://x","点")',
    "   ",
    "NaN",
    "1e-9999999",
    "-Infinity",
    "１３０５２８",
]
NASTY_NUMBERS: list[Any] = [2**31, 2**63, -(2**63), 10**30, -1, 0, 1.5, "NaN", "Infinity", "1e400"]
CJK = range(0x4E00, 0xA000)


def _leaves(body: Any) -> Iterator[tuple[tuple[Any, ...], Any]]:
    """(path, value) of each scalar of a JSON body, top level and one level down."""
    if isinstance(body, dict):
        for key, value in body.items():
            if isinstance(value, (dict, list)):
                inner = value.items() if isinstance(value, dict) else enumerate(value[:1])
                for sub, leaf in inner:
                    if not isinstance(leaf, (dict, list)):
                        yield (key, sub), leaf
            else:
                yield (key,), value


def _replace(body: Any, path: tuple[Any, ...], value: Any) -> Any:
    changed = copy.deepcopy(body)
    target = changed
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return changed


def _nasty_for(original: Any, turn: int, *, in_url: bool = False) -> list[Any]:
    if in_url:  # a URL cannot carry 100,000 characters; just over the parameter limit does the same job
        return [
            v if not (isinstance(v, str) and len(v) > 1001) else "字" * 1001
            for v in _nasty_for(original, turn)
        ]
    if isinstance(original, bool):
        return ["\x00", 2**63]
    if isinstance(original, (int, float)):
        return [NASTY_NUMBERS[turn % len(NASTY_NUMBERS)], NASTY_NUMBERS[(turn + 3) % len(NASTY_NUMBERS)]]
    return [NASTY_TEXT[turn % len(NASTY_TEXT)], NASTY_TEXT[(turn + 5) % len(NASTY_TEXT)]]


def _quote(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return quote(text, safe="", encoding="utf-8", errors="surrogatepass")


def _send(
    client: httpx.Client,
    case: Any,
    headers: dict[str, str],
    body: Any,
    path: dict[str, Any],
    query: dict[str, Any],
) -> httpx.Response:
    url = case.operation.path
    for name, value in path.items():
        url = url.replace("{" + name + "}", _quote(value) or "%20")
    if query:
        url += "?" + "&".join(f"{_quote(k)}={_quote(v)}" for k, v in query.items())
    kwargs: dict[str, Any] = {"headers": headers}
    if body is not None and "json" in (case.media_type or ""):
        kwargs["content"] = json.dumps(body, ensure_ascii=True, allow_nan=True).encode()
        kwargs["headers"] = {**headers, "content-type": "application/json"}
    return client.request(case.method, httpx.URL(url), **kwargs)


def test_nasty_values_never_reach_a_server_error(app_server: AppServer, sso: SSO) -> None:
    schema = schemathesis.openapi.from_url(app_server.url + "/schema/openapi.json")
    token = sso.token(USER)
    headers = {"Authorization": f"Bearer {token}", "X-Department": DEPARTMENT}
    problems: list[str] = []
    english: list[str] = []
    sent = 0
    with httpx.Client(base_url=app_server.url, timeout=60) as client:
        for index, result in enumerate(schema.get_all_operations()):
            operation = result.ok()
            if operation.method.upper() not in ("GET", "POST", "PUT", "PATCH", "DELETE"):
                continue

            @settings(
                max_examples=1,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy())
            def sweep(case: Any) -> None:
                nonlocal sent
                turn = index  # noqa: B023 (sweep runs at once, inside this iteration)
                path = dict(case.path_parameters or {})
                query = dict(case.query or {})
                body = case.body if isinstance(case.body, (dict, list)) else None
                variants: list[tuple[str, dict[str, Any], dict[str, Any], Any]] = []
                for name, value in path.items():
                    for nasty in _nasty_for(value, turn, in_url=True):
                        variants.append((f"path {name}", {**path, name: nasty}, query, body))
                for name, value in query.items():
                    for nasty in _nasty_for(value, turn, in_url=True):
                        variants.append((f"query {name}", path, {**query, name: nasty}, body))
                for where, value in _leaves(body):
                    for nasty in _nasty_for(value, turn):
                        variants.append((f"body {where}", path, query, _replace(body, where, nasty)))
                if body is not None:
                    variants.append(("body as text", path, query, "\x00"))
                for label, p, q, b in variants:
                    response = _send(client, case, headers, b, p, q)
                    sent += 1
                    where = f"{case.method} {case.operation.path} {label}"
                    if response.status_code >= 500:
                        problems.append(f"{where}: {response.status_code} {response.text[:160]}")
                    elif response.status_code >= 400 and "json" in response.headers.get("content-type", ""):
                        message = str((response.json().get("error") or {}).get("message", ""))
                        if not any(ord(c) in CJK for c in message):
                            english.append(f"{where}: {response.status_code} {message[:120]}")

            sweep()
    assert sent > 300, "the sweep sent too few requests to mean anything"
    assert problems == [], "\n".join(sorted(set(problems))[:40])
    assert english == [], "\n".join(sorted(set(english))[:40])
