"""Domain errors carry their HTTP status, so expected failures are 4xx JSON and never 500s.

Every error body has one shape: ``{"error": {"code": ..., "message": ..., "field": ...}}`` where ``field`` names the
offending input (dotted path) when there is one. Messages are Chinese: they are shown to users as they are.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

import structlog
from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    ValidationException,
)
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR


class DomainError(Exception):
    status_code = 400
    code = "bad_request"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        if code is not None:
            self.code = code

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            error["field"] = self.field
        return {"error": error}


class InvalidInput(DomainError):
    status_code = 422
    code = "invalid"


class NotFound(DomainError):
    status_code = 404
    code = "not_found"


class Conflict(DomainError):
    status_code = 409
    code = "conflict"


class Forbidden(DomainError):
    status_code = 403
    code = "forbidden"


class Unauthenticated(DomainError):
    status_code = 401
    code = "unauthenticated"


class TooLarge(DomainError):
    status_code = 413
    code = "too_large"


class ServiceUnavailable(DomainError):
    status_code = 503
    code = "unavailable"


def _json(status: int, body: dict[str, Any]) -> Response[dict[str, Any]]:
    return Response(content=body, status_code=status, media_type=MediaType.JSON)


def _wants_html(request: Request[Any, Any, Any]) -> bool:
    path = request.url.path
    return not path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _html(request: Request[Any, Any, Any], status: int, message: str) -> Response[Any]:
    """Pages get a page, not JSON: 401 goes to the login, other errors render the error page."""
    from litestar.response import Redirect, Template

    if status == 401:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return Redirect(f"/login?{urlencode({'next': target})}")
    return Template(
        "error.html",
        context={"status": status, "message": message, "user": None},
        status_code=status,
    )


def domain_error_handler(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    if _wants_html(request):
        return _html(request, exc.status_code, exc.message)
    return _json(exc.status_code, exc.body())


def validation_error_handler(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """Litestar/msgspec validation: 422 naming the first offending field, the reason in Chinese."""
    field: str | None = None
    reason = exc.detail or ""
    extra = exc.extra
    if isinstance(extra, list) and extra:
        first = extra[0]
        if isinstance(first, dict):
            field = first.get("key") or first.get("source")
            reason = str(first.get("message") or reason)
    elif isinstance(extra, dict):
        field = extra.get("key")
        reason = str(extra.get("message") or reason)
    field, message = describe_validation(reason, _clean_field(field))
    if _wants_html(request):
        return _html(request, 422, f"{field}：{message}" if field else message)
    return invalid_response(message, field)


def invalid_response(message: str, field: str | None) -> Response[dict[str, Any]]:
    error: dict[str, Any] = {"code": "invalid", "message": f"{field}：{message}" if field else message}
    if field:
        error["field"] = field
    return _json(422, {"error": error})


def describe_validation(reason: str, field: str | None = None) -> tuple[str | None, str]:
    """(field, Chinese reason) of a msgspec/Litestar validation message such as
    "Expected `str` of length <= 200 - at `$.points[1].note`"."""
    # msgspec puts the real location in the message: "... - at `$.scope.risk_classes[0]`" (or "`key` in `$.m`").
    located = re.search(r" - at (`key` in )?`\$\.?([^`]*)`$", reason)
    if located:
        reason = reason[: located.start()]
        field = located.group(2) or field
    named = re.search(r"(?:unknown|missing required) field `([^`]+)`|^`([^`]+)` ", reason)
    if named:
        name = named.group(1) or named.group(2)
        if located and located.group(2):
            field = f"{located.group(2)}.{name}"
        elif field in (None, "data", "body"):
            field = name
    if field in ("data", "body"):
        field = None
    return field, translate(reason)


# msgspec's and Litestar's English reasons, in the words a user reads.
_REASONS: tuple[tuple[str, str], ...] = (
    (
        r"Expected `str` matching regex '\^\[\^\\\\x00.*",
        "含有不允许的控制字符（如空字符、换页符等），请删除后重试",
    ),
    (r"Expected `str` matching regex .*", "格式不正确"),
    (r"Expected `(?:str|array|object)` of length <= (\d+)", r"长度不能超过 \1 个字符"),
    (r"Expected `str` of length >= 1", "不能为空"),
    (r"Expected `str` of length >= (\d+)", r"至少需要 \1 个字"),
    (r"Expected `(?:str|array|object)` of length >= (\d+)", r"至少需要 \1 个"),
    (r"Expected `(?:int|float|decimal)` <= (\S+)", r"不能大于 \1"),
    (r"Expected `(?:int|float|decimal)` >= (\S+)", r"不能小于 \1"),
    (r"Expected `(?:int|float|decimal)` < (\S+)", r"必须小于 \1"),
    (r"Expected `(?:int|float|decimal)` > (\S+)", r"必须大于 \1"),
    (r"Number out of range", "数值超出范围"),
    (r"Invalid enum value '(.*)'", r"取值无效：'\1'"),
    (r"Invalid RFC3339 encoded date(time)?", "日期格式不正确，应为 2023-05-01 这样的日期"),
    (r"Invalid RFC3339 encoded time", "时间格式不正确"),
    (r"Invalid UUID", "编号格式不正确"),
    (r"Invalid base64 .*", "编码格式不正确"),
    (r"Object missing required field `[^`]+`", "缺少必填字段"),
    (r"Object contains unknown field `[^`]+`", "包含不认识的字段"),
    (r"Expected `(.+?)`, got `(.+?)`", r"类型错误：应为 \1，实际为 \2"),
    (r"JSON is malformed.*|Input data was truncated.*|.*invalid character.*", "请求内容不是有效的 JSON"),
    (r"`[^`]+` (.*)", r"\1"),
)
_TYPE_WORDS = {
    "int": "整数",
    "str": "文本",
    "float": "数字",
    "number": "数字",
    "bool": "是/否",
    "array": "列表",
    "object": "对象",
    "null": "空值",
    "decimal": "数字",
    "uuid": "编号",
}


def translate(reason: str) -> str:
    reason = reason.strip()
    for pattern, chinese in _REASONS:
        matched = re.fullmatch(pattern, reason, flags=re.DOTALL)
        if matched:
            words = matched.expand(chinese)
            return re.sub(
                r"\b(int|str|float|number|bool|array|object|null|decimal|uuid)\b",
                lambda m: _TYPE_WORDS[m.group(1)],
                words,
            ).replace(" | ", "或")
    if re.search(r"[A-Za-z]{4,}", reason) or not reason:
        return "请求数据无效"
    return reason


# Litestar's own exceptions carry the English reason phrase ("Not Found") as their detail; users read Chinese.
_HTTP_MESSAGES = {
    401: "需要登录",
    403: "无权执行此操作",
    404: "页面或资源不存在，请检查地址",
    405: "不支持此请求方法",
    413: "请求内容过大：上传文件不能超过 64 MB，表单或 JSON 不能超过 8 MB",
    415: "不支持的内容类型",
    429: "请求过于频繁，请稍后重试",
}


def _http_message(exc: HTTPException) -> str:
    detail = exc.detail or ""
    if re.search(r"[\u4e00-\u9fff]", detail):
        return detail  # already written for people
    if exc.status_code in _HTTP_MESSAGES:
        return _HTTP_MESSAGES[exc.status_code]
    # Litestar's own 400s ("Input data was truncated", "JSON is malformed …") are English: say it in Chinese.
    return translate(detail) if detail else "请求无法处理"


def http_error_handler(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    code = {
        400: "invalid",
        401: "unauthenticated",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        413: "too_large",
    }.get(exc.status_code, "http_error")
    message = _http_message(exc)
    if _wants_html(request) and exc.status_code in (401, 403, 404, 405):
        return _html(request, exc.status_code, message)
    return _json(exc.status_code, {"error": {"code": code, "message": message}})


UNAVAILABLE_MESSAGE = "服务暂时不可用，请稍后重试"
RETRY_AFTER_SECONDS = 5


def is_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` (or what caused it) means PostgreSQL or Redis cannot be reached right now: a transient
    outage to answer with 503 (and a job to retry), not a bug to answer with 500."""
    import asyncpg
    import redis.exceptions
    import sqlalchemy.exc

    from shared.db import DatabaseUnavailable

    unreachable = (
        ServiceUnavailable,
        DatabaseUnavailable,
        ConnectionError,
        TimeoutError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        asyncpg.PostgresConnectionError,
        asyncpg.CannotConnectNowError,
        asyncpg.AdminShutdownError,
        asyncpg.CrashShutdownError,
        asyncpg.TooManyConnectionsError,
        sqlalchemy.exc.TimeoutError,  # no pooled connection became free in time
    )
    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, unreachable):
            return True
        if isinstance(current, sqlalchemy.exc.DBAPIError) and current.connection_invalidated:
            return True  # the connection died under a statement (server restarted or killed)
        if isinstance(current, asyncpg.InterfaceError) and "connection is closed" in str(current):
            return True
        if isinstance(current, OSError) and _raised_in_driver(current):
            return True  # e.g. FileNotFoundError: the server's Unix socket is gone while it restarts
        pending += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return False


def _raised_in_driver(exc: BaseException) -> bool:
    """An OS error that came out of the PostgreSQL or Redis client while connecting or talking to the server."""
    tb = exc.__traceback__
    while tb is not None:
        module = str(tb.tb_frame.f_globals.get("__name__", ""))
        if module.startswith(("asyncpg.", "redis.")):
            return True
        tb = tb.tb_next
    return False


def unavailable_response(request: Request[Any, Any, Any]) -> Response[Any]:
    headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
    if _wants_html(request):
        response = _html(request, 503, UNAVAILABLE_MESSAGE)
        response.headers.update(headers)
        return response
    return Response(
        content={"error": {"code": "unavailable", "message": UNAVAILABLE_MESSAGE}},
        status_code=503,
        media_type=MediaType.JSON,
        headers=headers,
    )


DATA_ERROR_MESSAGE = "提交的数据无法保存：含有不允许的字符（如空字符）或数值超出范围，请检查后重新填写"


def is_data_error(exc: BaseException) -> bool:
    """Whether PostgreSQL refused the *values* of a statement (SQLSTATE class 22: a NUL or other byte it cannot
    store, a number out of range, text it cannot convert): bad input that got past validation, never a bug to
    answer with 500. The transaction is rolled back, so nothing changed."""
    import asyncpg

    seen: set[int] = set()
    pending: list[BaseException | None] = [exc]
    while pending:
        current = pending.pop()
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, asyncpg.DataError):
            return True
        if isinstance(current, UnicodeEncodeError):  # lone surrogates: asyncpg cannot encode them as UTF-8
            return True
        pending += [current.__cause__, current.__context__, getattr(current, "orig", None)]
    return False


def internal_error_handler(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if is_data_error(exc):
        # A safety net: the typed boundary should have refused the value with its field already.
        structlog.get_logger().warning(
            "request.data_error", path=request.url.path, error=f"{type(exc).__name__}: {exc}"
        )
        if _wants_html(request):
            return _html(request, 422, DATA_ERROR_MESSAGE)
        return _json(422, {"error": {"code": "invalid", "message": DATA_ERROR_MESSAGE}})
    if is_unavailable(exc):
        # An outage, not a bug: a short log line, a clean 503 with Retry-After; the pools reconnect by themselves.
        structlog.get_logger().warning(
            "request.unavailable", path=request.url.path, error=f"{type(exc).__name__}: {exc}"
        )
        return unavailable_response(request)
    # The detail goes to the log (with the request id); the client gets no internals.
    structlog.get_logger().error("request.failed", path=request.url.path, exc_info=exc)
    return _json(
        HTTP_500_INTERNAL_SERVER_ERROR,
        {"error": {"code": "internal", "message": "服务器内部错误，请稍后重试"}},
    )


def _clean_field(field: str | None) -> str | None:
    if not field:
        return None
    # msgspec reports paths like "$.ratios[0]" — keep them readable.
    return field.removeprefix("$.").removeprefix("$") or None


exception_handlers: dict[Any, Any] = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
}
