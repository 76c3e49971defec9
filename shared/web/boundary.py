"""The request boundary: no control character or runaway value gets past the edge, whatever the handler declares.

The typed fields of :mod:`shared.boundary` refuse bad text in the bodies they describe; this middleware holds the same
line for everything else a request carries — path segments, query parameters, form fields and any JSON string — so
that a handler which forgot a type still never hands PostgreSQL a NUL. A refusal is the standard 422 body naming the
parameter or field (a page for a page request); nothing runs.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, unquote_to_bytes

import msgspec
from litestar.enums import ScopeType
from litestar.types import (
    ASGIApp,
    Receive,
    ReceiveMessage,
    Scope,
    Send,
)

from shared.boundary import control_character
from shared.errors import InvalidInput, TooLarge

MAX_PARAMETER_LENGTH = 1000  # a query value longer than any field the product has
MAX_FORM_BODY = 8 * 1024 * 1024  # JSON and form bodies; files come as multipart and have their own limits

# A control character written as a JSON escape (\u0000-\u001f except \t \n \r, \u007f-\u009f), not preceded by an
# escaping backslash, or a raw DEL / C1 character (UTF-8 C2 80-9F).
_JSON_CONTROL = re.compile(
    rb"(?<!\\)(?:\\\\)*\\u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F]|7[fF]|[89][0-9a-fA-F])|\x7f|\xc2[\x80-\x9f]"
)


TOO_LARGE = f"请求内容过大：表单或 JSON 不能超过 {MAX_FORM_BODY // (1024 * 1024)} MB"


def _refuse(field: str, reason: str) -> InvalidInput:
    return InvalidInput(f"{field}：{reason}", field=field)


_NAMES = {"U+0000": "空字符", "U+0007": "响铃符", "U+0008": "退格符", "U+001B": "转义符", "U+007F": "删除符"}


def _control_reason(code: str) -> str:
    return f"含有不允许的控制字符（{_NAMES.get(code, '控制字符')} {code}），请删除后重试"


# What a query needs the full check for: an encoded C0/DEL/C1 control character, a raw control byte, an encoded
# U+FFFD. Anything else is checked by decoding it once (non-UTF-8 bytes fail), which keeps the public search fast.
_SUSPECT_QUERY = re.compile(
    rb"%(?:[01][0-9a-fA-F]|7[fF])|%[cC]2%[89][0-9a-fA-F]|[\x00-\x1f\x7f]|%[eE][fF]%[bB][fF]%[bB][dD]"
)


def _query_is_plain(raw: bytes) -> bool:
    if len(raw) > MAX_PARAMETER_LENGTH or _SUSPECT_QUERY.search(raw):
        return False
    try:
        unquote_to_bytes(raw.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _check_url(scope: Scope) -> tuple[str, str] | None:
    path: str = scope.get("path", "")
    code = control_character(path)
    if code is not None:
        params = scope.get("path_params") or {}
        for name, value in params.items():
            if isinstance(value, str) and control_character(value):
                return name, _control_reason(code)
        return "路径", _control_reason(code)
    raw_query: bytes = scope.get("query_string", b"")
    if raw_query and _query_is_plain(raw_query):
        return None
    if raw_query:
        for name, value in parse_qsl(raw_query.decode("latin-1"), keep_blank_values=True, encoding="utf-8"):
            problem = _check_value(value)
            if problem is not None:
                return name[:40] or "查询参数", problem
            if control_character(name):
                return "查询参数", _control_reason(control_character(name) or "")
    return None


def _check_value(value: str, *, lines: bool = False) -> str | None:
    code = control_character(value, lines=lines)
    if code is not None:
        return _control_reason(code)
    if not lines and "\ufffd" in value:  # a query or path whose bytes are not UTF-8 (decoded as replacements)
        return "含有无法识别的字符（编码不是 UTF-8），请重新输入"
    if not lines and len(value) > MAX_PARAMETER_LENGTH:
        return f"长度不能超过 {MAX_PARAMETER_LENGTH} 个字符"
    return None


def _json_path(value: Any, path: str = "") -> tuple[str, str] | None:
    """(dotted path, character) of the first string (key or value) holding a forbidden control character."""
    if isinstance(value, str):
        code = control_character(value, lines=True)
        return None if code is None else (path, code)
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = _json_path(item, f"{path}[{index}]")
            if found is not None:
                return found
    if isinstance(value, dict):
        for key, item in value.items():
            where = f"{path}.{key}" if path else str(key)
            code = control_character(str(key), lines=True)
            if code is not None:
                return where, code
            found = _json_path(item, where)
            if found is not None:
                return found
    return None


def _check_body(content_type: bytes, body: bytes) -> tuple[str, str] | None:
    if content_type.startswith(b"application/x-www-form-urlencoded"):
        for name, value in parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding="utf-8"):
            problem = _check_value(value, lines=True)
            if problem is not None:
                return name[:40] or "表单", problem
        return None
    if b"json" in content_type and _JSON_CONTROL.search(body):
        try:
            decoded = msgspec.json.decode(body)
        except msgspec.DecodeError:
            return None  # malformed JSON: the handler's decoder answers that
        found = _json_path(decoded)
        if found is not None:
            return found[0] or "请求内容", _control_reason(found[1])
    return None


def boundary_middleware(app: ASGIApp) -> ASGIApp:
    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:  # a str enum: equal to "http"
            await app(scope, receive, send)
            return
        raw_query: bytes = scope.get("query_string", b"")
        if b"=&" in raw_query + b"&":
            # An empty box of a GET form ("?year=&category=") means "not given", as in forms sent by POST: drop it,
            # so that an optional number is not refused for being "".
            scope["query_string"] = b"&".join(p for p in raw_query.split(b"&") if p and not p.endswith(b"="))
        problem = _check_url(scope)
        if problem is not None:
            raise _refuse(*problem)
        headers = dict(scope.get("headers", []))
        content_type = headers.get(b"content-type", b"").lower()
        if scope.get("method") in ("GET", "HEAD", "OPTIONS") or not (
            content_type.startswith(b"application/x-www-form-urlencoded") or b"json" in content_type
        ):
            await app(scope, receive, send)
            return
        # Read the (small: JSON or form) body once, check it, and hand the same bytes on to the handler.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            chunks.append(chunk if isinstance(chunk, bytes) else b"")
            more = bool(message.get("more_body", False))
            size += len(chunks[-1])
            if size > MAX_FORM_BODY:
                raise TooLarge(TOO_LARGE)
        body = b"".join(chunks)
        problem = _check_body(content_type, body)
        if problem is not None:
            raise _refuse(*problem)
        replayed = False

        async def replay() -> ReceiveMessage:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await app(scope, replay, send)

    return middleware
