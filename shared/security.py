"""Security headers on every response: CSP, no framing, no MIME sniffing, strict referrers, HSTS outside dev."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from shared.settings import Settings


def content_security_policy(settings: Settings) -> str:
    sso = urlsplit(settings.oidc.issuer)
    sso_origin = f"{sso.scheme}://{sso.netloc}"
    return "; ".join(
        [
            "default-src 'self'",
            # Inline handlers in a few templates (auto-submit selects, print buttons); no third-party scripts at all.
            "script-src 'self' 'unsafe-inline'",
            "style-src 'self' 'unsafe-inline'",
            "img-src 'self' data:",
            "connect-src 'self'",
            # Login and logout forms end in a redirect to the county's SSO, which form-action also governs.
            f"form-action 'self' {sso_origin}",
            "frame-ancestors 'none'",
            "base-uri 'self'",
            "object-src 'none'",
        ]
    )


def security_headers(settings: Settings) -> Callable[[ASGIApp], ASGIApp]:
    headers = [
        (b"content-security-policy", content_security_policy(settings).encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"strict-origin-when-cross-origin"),
        (b"permissions-policy", b"camera=(self), geolocation=(), microphone=()"),
    ]
    if settings.is_production:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))

    def middleware(app: ASGIApp) -> ASGIApp:
        async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != ScopeType.HTTP:  # a str enum: equal to "http"
                await app(scope, receive, send)
                return

            async def send_with_headers(message: Message) -> None:
                if message["type"] == "http.response.start":
                    existing = {k.lower() for k, _ in message.get("headers", [])}
                    message["headers"] = list(message.get("headers", [])) + [
                        (k, v) for k, v in headers if k not in existing
                    ]
                await send(message)

            await app(scope, receive, send_with_headers)

        return wrapped

    return middleware
