"""The Litestar application factory: mounts every service's router onto one app."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.middleware import DefineMiddleware
from litestar.middleware.session.server_side import ServerSideSessionBackend, ServerSideSessionConfig
from litestar.openapi import OpenAPIConfig
from litestar.static_files import create_static_files_router
from litestar.stores.redis import RedisStore
from litestar.template import TemplateConfig
from litestar.types import Empty
from redis.asyncio import Redis

from services.disclosure import public as disclosure_public
from services.disclosure import routes as disclosure_routes
from services.enterprise import pages as enterprise_pages
from services.enterprise import public_pages as enterprise_public
from services.enterprise import routes as enterprise_routes
from services.federation import pages as federation_pages
from services.federation import routes as federation_routes
from services.identity import pages as identity_pages
from services.identity import routes as identity_routes
from services.identity import web as identity_web
from services.identity.auth import AuthMiddleware
from services.identity.departments import DepartmentDirectory
from services.identity.oidc import OIDCClient
from services.identity.principal import region_from_issuer
from services.identity.tokens import JWKSCache, TokenVerifier
from services.inspection import pages as inspection_pages
from services.inspection import review_pages as inspection_review
from services.inspection import routes as inspection_routes
from services.planning import ceremony_pages as planning_ceremony
from services.planning import pages as planning_pages
from services.planning import pages_corrections as planning_corrections
from services.planning import public as planning_public
from services.planning import routes as planning_routes
from services.registry import pages as registry_pages
from services.registry import routes as registry_routes
from services.reporting import pages as reporting_pages
from services.reporting import routes as reporting_routes
from shared.errors import exception_handlers, internal_error_handler
from shared.health import health, ready
from shared.logging import configure_logging, request_id_middleware
from shared.migrate import check_runtime_role
from shared.runtime import Runtime
from shared.security import security_headers
from shared.settings import Settings, get_settings
from shared.web import format as page_format
from shared.web.boundary import boundary_middleware
from shared.worker import load_job_modules

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS: list[Path | os.PathLike[Any] | str] = [
    ROOT / "shared" / "web" / "templates",
    *sorted(ROOT.glob("services/*/templates")),
]


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    configure_logging(settings.app.log_level)
    load_job_modules()  # so that deferring a job by name is checked in the API process too
    region_code = region_from_issuer(settings.oidc.issuer)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        problems = await check_runtime_role(settings.db.url)
        if problems:
            raise RuntimeError("unsafe runtime database role: " + "; ".join(problems))
        runtime = await Runtime.start(settings)
        oidc = OIDCClient(settings.oidc)
        app.state.runtime = runtime
        app.state.settings = settings
        app.state.region_code = region_code
        app.state.departments = DepartmentDirectory(runtime.db.sessionmaker)
        app.state.oidc = oidc
        app.state.token_verifier = TokenVerifier(
            settings.oidc.issuer, settings.oidc.audience, JWKSCache(oidc.jwks_url)
        )
        try:
            yield
        finally:
            await runtime.close()

    session_config = SessionConfig(
        store="sessions",
        key="spotcheck_session",
        httponly=True,
        secure=settings.is_production,
        samesite="lax",
        max_age=8 * 3600,
        # Probes, static files and the API (Bearer tokens only) never touch the session store: /ready must answer
        # and API calls must go on while Redis is down.
        exclude=["^/health$", "^/ready$", "^/static/", "^/api/"],
    )
    csrf = CSRFConfig(
        secret=settings.app.secret_key,
        cookie_name="spotcheck_csrf",
        header_name="x-csrf-token",
        cookie_secure=settings.is_production,
        cookie_samesite="lax",
        exclude=["/api/", "/auth/callback", "/health", "/ready", "/schema"],
    )
    return Litestar(
        route_handlers=[
            health,
            ready,
            identity_routes.router,
            identity_web.router,
            registry_routes.router,
            registry_pages.router,
            planning_routes.router,
            federation_routes.router,
            federation_pages.router,
            planning_public.router,
            planning_pages.router,
            planning_corrections.router,
            planning_ceremony.router,
            inspection_routes.router,
            inspection_pages.router,
            inspection_review.router,
            disclosure_routes.router,
            disclosure_public.router,
            reporting_routes.router,
            reporting_routes.oversight_router,
            reporting_pages.router,
            reporting_pages.oversight_router,
            enterprise_routes.department_router,
            enterprise_routes.overseer_router,
            enterprise_routes.public_router,
            enterprise_pages.department_pages,
            enterprise_pages.overseer_pages,
            enterprise_public.router,
            identity_pages.router,
            create_static_files_router(path="/static", directories=[ROOT / "shared" / "web" / "static"]),
        ],
        lifespan=[lifespan],
        middleware=[
            request_id_middleware,
            boundary_middleware,
            session_config.middleware,
            DefineMiddleware(AuthMiddleware, exclude=["/static", "/schema", "/health", "/ready"]),
        ],
        stores={"sessions": session_store(settings.redis.url)},
        csrf_config=csrf,
        template_config=TemplateConfig(
            directory=TEMPLATE_DIRS, engine=JinjaTemplateEngine, engine_callback=page_format.install
        ),
        openapi_config=OpenAPIConfig(title="SpotCheck API", version="0.1.0", path="/schema"),
        exception_handlers={**exception_handlers, Exception: internal_error_handler},
        debug=False,
        # Registry imports may be large spreadsheets; anything bigger is refused with 413 before it is read.
        request_max_body_size=64 * 1024 * 1024,
    )


class LazySessionBackend(ServerSideSessionBackend):
    """Litestar stores the session on every response, an empty one included: a Redis write and a new cookie for
    each anonymous page view, and a failed response (after the handler's commit) whenever Redis is down. Here a
    request that came without a session cookie and leaves with an empty session stores nothing."""

    async def store_in_message(self, scope_session: Any, message: Any, connection: Any) -> None:
        if scope_session is not Empty and not scope_session and not connection.cookies.get(self.config.key):
            return
        await super().store_in_message(scope_session, message, connection)


@dataclass
class SessionConfig(ServerSideSessionConfig):
    _backend_class = LazySessionBackend


def session_store(url: str) -> RedisStore:
    """Sessions in Redis, with bounded socket timeouts: while Redis is unreachable a page request fails fast with a
    clean 503 (``shared.errors.is_unavailable``) instead of hanging, and reconnects by itself once Redis is back."""
    client = Redis.from_url(url, decode_responses=False, socket_connect_timeout=2, socket_timeout=5)
    return RedisStore(redis=client, namespace="spotcheck_sessions", handle_client_shutdown=True)


def app_from_env() -> Any:
    """Entry point for ASGI servers (``uvicorn --factory shared.app:app_from_env``).

    The security headers wrap the whole application, so that even responses Litestar produces before its own
    middleware runs (unknown routes, 405s) carry them."""
    settings = get_settings()
    return security_headers(settings)(create_app(settings))
