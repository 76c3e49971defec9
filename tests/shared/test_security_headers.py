"""Security headers on every response, HSTS only outside dev, a hard request size limit, and errors the framework
raises (no such route, wrong method, too large) answered in Chinese like the app's own."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import msgspec

from shared.security import security_headers
from shared.settings import Settings
from tests.support.stack import SSO, AppServer


def test_headers_on_pages_api_and_errors(app_server: AppServer) -> None:
    for path in ("/", "/api/me", "/public/draws", "/health", "/no-such-page"):
        response = httpx.get(app_server.url + path, timeout=20)
        headers = response.headers
        assert "content-security-policy" in headers, (path, response.status_code)
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert "strict-transport-security" not in headers  # dev mode over plain http


def test_hsts_in_production(settings: Settings) -> None:
    production = msgspec.structs.replace(
        settings, app=msgspec.structs.replace(settings.app, mode="production")
    )
    sent: list[dict[str, Any]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    wrapped = security_headers(production)(app)  # type: ignore[operator]
    asyncio.run(wrapped({"type": "http"}, None, send))
    assert dict(sent[0]["headers"])[b"strict-transport-security"].startswith(b"max-age=")


def test_oversized_request_is_refused(app_server: AppServer, sso: SSO) -> None:
    body = b"x" * (65 * 1024 * 1024)
    response = httpx.post(
        app_server.url + "/api/plans",
        content=body,
        timeout=60,
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {sso.token('yjj-planner')}"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["message"].startswith("请求内容过大")


def test_framework_errors_speak_chinese(app_server: AppServer) -> None:
    missing = httpx.get(app_server.url + "/api/no-such-route", timeout=20)
    assert missing.status_code == 404
    assert missing.json()["error"] == {"code": "not_found", "message": "页面或资源不存在，请检查地址"}
    wrong = httpx.post(app_server.url + "/api/calendar/2027", timeout=20)
    assert wrong.status_code == 405
    assert wrong.json()["error"] == {"code": "method_not_allowed", "message": "不支持此请求方法"}
    page = httpx.get(app_server.url + "/no-such-page", headers={"Accept": "text/html"}, timeout=20)
    assert page.status_code == 404 and "text/html" in page.headers["content-type"]
    assert '<h1 id="error-status">未找到</h1>' in page.text
    assert '<p id="error-message">页面或资源不存在，请检查地址</p>' in page.text
    assert "Not Found" not in page.text
    assert "<title>出错了 · 双随机、一公开监管平台</title>" in page.text
